/**
 * What a consumer saw: each index of 0..expected−1 at least once, deliveries including repeats,
 * bodies that were not ours, the first time each index arrived and its end-to-end latency.
 */
import { nowMs } from '../common/measure.js';
import { decodePayload } from './payload.js';

export class Tally {
  readonly #seen: Uint8Array;
  readonly latenciesMs: Float64Array;
  distinct = 0;
  deliveries = 0;
  /** Bodies of the wrong size or content, or indices out of range. */
  foreign = 0;
  firstAt = Number.NaN;
  lastAt = Number.NaN;

  constructor(
    readonly expected: number,
    readonly bodyBytes: number,
  ) {
    this.#seen = new Uint8Array(expected);
    this.latenciesMs = new Float64Array(expected);
  }

  /** The consumer's handler: call for every delivery, before it is acknowledged. */
  readonly onBody = (body: Uint8Array): void => {
    const at = nowMs();
    this.deliveries++;
    const payload = decodePayload(body, this.bodyBytes);
    if (payload === undefined || payload.index >= this.expected) {
      this.foreign++;
      return;
    }
    if (this.#seen[payload.index]) return;
    this.#seen[payload.index] = 1;
    this.latenciesMs[payload.index] = at - payload.sentAtMs;
    if (this.distinct === 0) this.firstAt = at;
    this.distinct++;
    this.lastAt = at;
  };

  get complete(): boolean {
    return this.distinct >= this.expected;
  }

  describe(): string {
    return `${this.distinct}/${this.expected} distinct messages (${this.deliveries} deliveries, ${this.foreign} foreign)`;
  }
}

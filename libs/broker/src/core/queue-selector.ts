/**
 * Which queue of a topic a sent message goes to, as the RocketMQ 5 proxy decides it
 * (`SendMessageActivity.SendMessageQueueSelector`; the gRPC client's own queue choice is ignored):
 *
 * - With a message group (FIFO): `Hashing.consistentHash(messageGroup.hashCode(), queueCount)`, Java
 *   `String.hashCode` fed to Guava's jump consistent hash. One group always lands on one queue, so its
 *   messages keep their order; and when a topic grows from n to m queues only about 1 − n/m of the
 *   groups move (plain `hash % n` would move nearly all of them and break their order at the switch).
 * - Without: round-robin over all queues, a counter per topic (`selectOneByPipeline`), starting at a
 *   random queue so that restarts do not all pile onto queue 0. At most `maxTopics` counters are kept;
 *   a forgotten counter just restarts at a random queue.
 */
import type { TopicConfig } from './topic-registry.js';

/** Java `String.hashCode`: Σ s[i]·31^(n−1−i) over UTF-16 code units, in 32-bit two's complement. */
export function javaStringHashCode(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (Math.imul(31, h) + s.charCodeAt(i)) | 0;
  return h;
}

const TWO_32 = 0x1_0000_0000;
/** Guava's LCG multiplier 2862933555777941757 = 0x27BB2EE6_87B0B0FD, as 16-bit limbs. */
const M_HI = 0x27bb2ee6;
const M_LO = 0x87b0b0fd;
const M_LO_1 = M_LO >>> 16;
const M_LO_0 = M_LO & 0xffff;

/**
 * Guava `Hashing.consistentHash(long input, int buckets)` (Lamping & Veach's jump consistent hash
 * driven by a 64-bit LCG), bit for bit. A number input is a Java int or long within ±2^53 (as Java
 * widens `hashCode()`); a bigint is taken modulo 2^64.
 */
export function consistentHash(input: number | bigint, buckets: number): number {
  if (!Number.isInteger(buckets) || buckets < 1 || buckets > 0x7fff_ffff) {
    throw new RangeError(`buckets must be a positive int, got ${buckets}`);
  }
  // 64-bit LCG state as two unsigned 32-bit halves.
  let hi: number;
  let lo: number;
  if (typeof input === 'bigint') {
    const u = BigInt.asUintN(64, input);
    hi = Number(u >> 32n);
    lo = Number(u & 0xffff_ffffn);
  } else {
    if (!Number.isSafeInteger(input)) throw new RangeError(`input must be a safe integer, got ${input}`);
    lo = ((input % TWO_32) + TWO_32) % TWO_32;
    hi = (Math.floor(input / TWO_32) + TWO_32) % TWO_32;
  }
  let candidate = 0;
  for (;;) {
    // state = state * M + 1 (mod 2^64). lo·M_LO needs all 64 bits: multiply in 16-bit limbs.
    const lo1 = lo >>> 16;
    const lo0 = lo & 0xffff;
    const mid = lo1 * M_LO_0 + lo0 * M_LO_1; // < 2^33, exact
    const low = lo0 * M_LO_0 + (mid % 0x1_0000) * 0x1_0000; // < 2^33, exact
    const carry = Math.floor(low / TWO_32);
    const high = lo1 * M_LO_1 + Math.floor(mid / 0x1_0000) + carry;
    let newLo = low % TWO_32;
    let newHi = (high + Math.imul(hi, M_LO) + Math.imul(lo, M_HI)) >>> 0;
    newLo += 1;
    if (newLo === TWO_32) {
      newLo = 0;
      newHi = (newHi + 1) >>> 0;
    }
    hi = newHi;
    lo = newLo;
    // nextDouble: ((int) (state >>> 33) + 1) / 2^31, in (0, 1].
    const next = Math.trunc((candidate + 1) / (((hi >>> 1) + 1) / 0x8000_0000));
    // Java's (int) cast saturates; any value ≥ buckets ends the walk either way.
    if (next >= buckets) return candidate;
    candidate = next;
  }
}

/** The queue of a message group: Java `hashCode` through Guava's consistent hash. */
export function queueForMessageGroup(messageGroup: string, queueCount: number): number {
  return consistentHash(javaStringHashCode(messageGroup), queueCount);
}

/** Default number of per-topic round-robin counters kept. */
export const DEFAULT_SELECTOR_MAX_TOPICS = 10_000;

export interface QueueSelectorOptions {
  /** Round-robin counters kept at most (one per topic). Default 10,000. */
  readonly maxTopics?: number;
  /** Where a new counter starts, in [0, 1). Default Math.random. */
  readonly random?: () => number;
}

export class QueueSelector {
  readonly #maxTopics: number;
  readonly #random: () => number;
  /** topic → next index; insertion order doubles as the eviction order. */
  readonly #counters = new Map<string, number>();

  constructor(options: QueueSelectorOptions = {}) {
    this.#maxTopics = Math.max(1, Math.floor(options.maxTopics ?? DEFAULT_SELECTOR_MAX_TOPICS));
    this.#random = options.random ?? Math.random;
  }

  /** The queue for the next message of `topic`, with or without a message group. */
  selectQueue(topic: Pick<TopicConfig, 'name' | 'queueCount'>, messageGroup?: string): number {
    const n = topic.queueCount;
    if (n <= 1) return 0;
    if (messageGroup) return queueForMessageGroup(messageGroup, n);
    let index = this.#counters.get(topic.name);
    if (index === undefined) {
      if (this.#counters.size >= this.#maxTopics) {
        this.#counters.delete(this.#counters.keys().next().value!);
      }
      index = Math.floor(this.#random() * n);
    }
    index %= n; // the topic may have grown or (never through the registry) shrunk
    this.#counters.set(topic.name, (index + 1) % n);
    return index;
  }

  /** Counters held (for tests and metrics). */
  get size(): number {
    return this.#counters.size;
  }

  /** Forget a deleted topic's counter. */
  forget(topic: string): void {
    this.#counters.delete(topic);
  }
}

import { type Clock } from '../../clock.js';
import { type MessageToStore } from '../../../store/index.js';
import { type ConsumeStore, type RetryScheduler } from '../types.js';

/**
 * A stand-in for the timer service in tests: `schedule` resolves at once (as if stored durably) and
 * appends the message to the store when the clock reaches `deliverAt`. Not durable.
 */
export class ClockRetryScheduler implements RetryScheduler {
  /** Everything ever scheduled, in order. */
  readonly scheduled: { readonly message: MessageToStore; readonly deliverAt: number }[] = [];
  readonly #appends = new Set<Promise<unknown>>();
  /** When set, `schedule` rejects with it (a failing timer service). */
  failWith: Error | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly store: Pick<ConsumeStore, 'append'>,
  ) {}

  schedule(message: MessageToStore, deliverAt: number): Promise<void> {
    if (this.failWith) return Promise.reject(this.failWith);
    this.scheduled.push({ message, deliverAt });
    this.clock.setTimeout(() => {
      const append = this.store.append(message);
      this.#appends.add(append);
      const forget = (): boolean => this.#appends.delete(append);
      append.then(forget, forget);
    }, deliverAt - this.clock.now());
    return Promise.resolve();
  }

  /** Resolves once every append started so far is stored. */
  async settled(): Promise<void> {
    while (this.#appends.size > 0) await Promise.allSettled([...this.#appends]);
  }
}

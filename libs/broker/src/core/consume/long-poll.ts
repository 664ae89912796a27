/**
 * Parked ReceiveMessage calls, by topic. A waiter wakes when something may have become visible on
 * one of its topics (a dispatch, a FIFO backoff ending, a lease handed back, a message group
 * released), when its timeout passes on the injected clock, when its signal aborts, or on close.
 * A wake-up is a hint, not a promise: the caller receives again and may find nothing (another
 * consumer was faster, a filter rejected the message) and then waits again.
 */
import { type Clock, type TimerHandle } from '../clock.js';

export type WakeReason = 'notified' | 'timeout' | 'aborted' | 'closed';

interface Waiter {
  readonly topics: readonly string[];
  readonly resolve: (reason: WakeReason) => void;
  timer: TimerHandle | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class LongPollRegistry {
  readonly #byTopic = new Map<string, Set<Waiter>>();
  #count = 0;

  constructor(private readonly clock: Clock) {}

  /** Waiters parked now. */
  get size(): number {
    return this.#count;
  }

  /** Whether anyone waits on `topic` (cheap: the dispatch hot path asks it per message). */
  has(topic: string): boolean {
    return this.#byTopic.has(topic);
  }

  /** Resolves on the first wake-up for any of `topics`; at once if `timeoutMs` ≤ 0 or aborted. */
  wait(topics: readonly string[], timeoutMs: number, signal?: AbortSignal): Promise<WakeReason> {
    return new Promise<WakeReason>((resolve) => {
      if (signal?.aborted) return resolve('aborted');
      if (!(timeoutMs > 0)) return resolve('timeout');
      const waiter: Waiter = { topics, resolve, timer: undefined, signal, onAbort: undefined };
      waiter.timer = this.clock.setTimeout(() => {
        waiter.timer = undefined;
        this.#settle(waiter, 'timeout');
      }, timeoutMs);
      if (signal) {
        waiter.onAbort = () => this.#settle(waiter, 'aborted');
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      for (const topic of topics) {
        let set = this.#byTopic.get(topic);
        if (!set) this.#byTopic.set(topic, (set = new Set()));
        set.add(waiter);
      }
      this.#count++;
    });
  }

  /** Wakes everyone waiting on `topic`. */
  notify(topic: string): void {
    const set = this.#byTopic.get(topic);
    if (!set) return;
    for (const waiter of [...set]) this.#settle(waiter, 'notified');
  }

  /** Wakes everyone (engine shutdown). */
  closeAll(): void {
    for (const set of [...this.#byTopic.values()])
      for (const waiter of [...set]) this.#settle(waiter, 'closed');
  }

  #settle(waiter: Waiter, reason: WakeReason): void {
    let parked = false;
    for (const topic of waiter.topics) {
      const set = this.#byTopic.get(topic);
      if (set?.delete(waiter)) {
        parked = true;
        if (set.size === 0) this.#byTopic.delete(topic);
      }
    }
    if (!parked) return;
    this.#count--;
    this.clock.clearTimeout(waiter.timer);
    waiter.timer = undefined;
    if (waiter.signal && waiter.onAbort) waiter.signal.removeEventListener('abort', waiter.onAbort);
    waiter.resolve(reason);
  }
}

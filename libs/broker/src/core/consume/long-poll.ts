/**
 * Parked ReceiveMessage calls, by topic. A waiter wakes when something may have become visible on
 * one of its topics (a dispatch, a FIFO backoff ending, a lease handed back, a message group
 * released), when its timeout passes on the injected clock, when its signal aborts, or on close.
 * A wake-up is a hint, not a promise: the caller receives again and may find nothing (another
 * consumer was faster, a filter rejected the message) and then waits again.
 *
 * `notify(topic, count)` wakes at most `count` waiters of each consumer group (the oldest first),
 * as Apache's pop long polling wakes one parked request per group for an arriving message: a
 * dispatch of n messages wakes n waiters per group, not every receive loop of every consumer.
 * Waking all of them made each message cost one receive attempt per parked loop (32 loops of one
 * consumer: 32 attempts, 31 of them empty), which at 1k msg/s kept the broker busy enough to add
 * tens of milliseconds of latency. Without a count, everyone wakes (rare events: a lease handed
 * back, a backoff ending, a message group released).
 */
import { type Clock, type TimerHandle } from '../clock.js';

export type WakeReason = 'notified' | 'timeout' | 'aborted' | 'closed';

interface Waiter {
  readonly group: string;
  readonly topics: readonly string[];
  readonly resolve: (reason: WakeReason) => void;
  timer: TimerHandle | undefined;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

export class LongPollRegistry {
  /** topic → group → its waiters, oldest first. */
  readonly #byTopic = new Map<string, Map<string, Set<Waiter>>>();
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

  /**
   * Resolves on the first wake-up for any of `topics`; at once if `timeoutMs` ≤ 0 or aborted.
   * `group`: the consumer group the waiter receives for (see `notify`).
   */
  wait(topics: readonly string[], timeoutMs: number, signal?: AbortSignal, group = ''): Promise<WakeReason> {
    return new Promise<WakeReason>((resolve) => {
      if (signal?.aborted) return resolve('aborted');
      if (!(timeoutMs > 0)) return resolve('timeout');
      const waiter: Waiter = { group, topics, resolve, timer: undefined, signal, onAbort: undefined };
      waiter.timer = this.clock.setTimeout(() => {
        waiter.timer = undefined;
        this.#settle(waiter, 'timeout');
      }, timeoutMs);
      if (signal) {
        waiter.onAbort = () => this.#settle(waiter, 'aborted');
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      for (const topic of topics) {
        let groups = this.#byTopic.get(topic);
        if (!groups) this.#byTopic.set(topic, (groups = new Map()));
        let set = groups.get(group);
        if (!set) groups.set(group, (set = new Set()));
        set.add(waiter);
      }
      this.#count++;
    });
  }

  /** Wakes the `count` oldest waiters of each group waiting on `topic` (default: all of them). */
  notify(topic: string, count = Infinity): void {
    const groups = this.#byTopic.get(topic);
    if (!groups) return;
    for (const set of [...groups.values()]) {
      let woken = 0;
      for (const waiter of [...set]) {
        if (woken++ >= count) break;
        this.#settle(waiter, 'notified');
      }
    }
  }

  /** Wakes everyone (engine shutdown). */
  closeAll(): void {
    for (const groups of [...this.#byTopic.values()])
      for (const set of [...groups.values()]) for (const waiter of [...set]) this.#settle(waiter, 'closed');
  }

  #settle(waiter: Waiter, reason: WakeReason): void {
    let parked = false;
    for (const topic of waiter.topics) {
      const groups = this.#byTopic.get(topic);
      const set = groups?.get(waiter.group);
      if (set?.delete(waiter)) {
        parked = true;
        if (set.size === 0) {
          groups!.delete(waiter.group);
          if (groups!.size === 0) this.#byTopic.delete(topic);
        }
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

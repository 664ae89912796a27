/**
 * The time source of the broker core. Leases, retry backoff, delay timers and transaction check-backs
 * all read `now()` and schedule through `setTimeout` of an injected Clock, so tests swap in a
 * ManualClock and run hours of broker time in microseconds, deterministically.
 */
import { dueThenSeq, MinHeap } from './min-heap.js';

declare const timerHandleBrand: unique symbol;

/** Opaque handle of a scheduled callback; only the clock that issued it can clear it. */
export interface TimerHandle {
  readonly [timerHandleBrand]: true;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once, `ms` milliseconds from now (negative or NaN counts as 0). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancels a timer that has not fired; a fired, cleared or undefined handle is ignored. */
  clearTimeout(handle: TimerHandle | undefined): void;
}

function delayOf(ms: number): number {
  return Number.isFinite(ms) && ms > 0 ? ms : ms === Infinity ? Infinity : 0;
}

// ---------------------------------------------------------------------------------------------
// System clock
// ---------------------------------------------------------------------------------------------

/** Node's setTimeout fires at once (with a warning) for delays above 2^31 − 1 ms (~24.8 days). */
const MAX_NODE_DELAY_MS = 0x7fff_ffff;

class SystemTimer {
  timer: NodeJS.Timeout | undefined;

  constructor(
    readonly fn: () => void,
    readonly dueAt: number,
  ) {}

  arm(): void {
    const wait = Math.min(Math.max(0, this.dueAt - Date.now()), MAX_NODE_DELAY_MS);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (Date.now() >= this.dueAt) this.fn();
      else this.arm();
    }, wait);
    this.timer.unref();
  }
}

/**
 * Wall-clock time and real timers. Every timer is unref'd: a pending lease or check-back never keeps
 * the process alive. Delays beyond Node's 24.8-day limit are chained instead of firing early; an
 * infinite delay never fires.
 */
export const systemClock: Clock = Object.freeze({
  now: (): number => Date.now(),
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = new SystemTimer(fn, Date.now() + delayOf(ms));
    if (timer.dueAt !== Infinity) timer.arm();
    return timer as unknown as TimerHandle;
  },
  clearTimeout(handle: TimerHandle | undefined): void {
    if (!(handle instanceof SystemTimer)) return;
    if (handle.timer) clearTimeout(handle.timer);
    handle.timer = undefined;
  },
});

// ---------------------------------------------------------------------------------------------
// Manual clock
// ---------------------------------------------------------------------------------------------

class ManualTimer {
  cleared = false;

  constructor(
    readonly fn: () => void,
    readonly dueAt: number,
    readonly seq: number,
    readonly owner: ManualClock,
  ) {}
}

/**
 * A clock that moves only when told. `advance`/`advanceTo` fire every timer due within the window in
 * time order (timers due at the same instant in the order they were scheduled), including timers that
 * fired callbacks schedule inside the window; `now()` reads each timer's due time while it runs.
 * If a callback throws, the error propagates, `now()` stays at that timer's time and later timers
 * stay pending.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  /** Binary min-heap by (dueAt, seq); cleared timers are dropped lazily. */
  readonly #heap = new MinHeap<ManualTimer>(dueThenSeq);
  #pending = 0;

  constructor(start = 0) {
    if (!Number.isFinite(start)) throw new RangeError(`ManualClock start must be finite, got ${start}`);
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  /** Timers scheduled and neither fired nor cleared. */
  get pending(): number {
    return this.#pending;
  }

  /** Due time of the next timer, or undefined when none is pending. */
  get nextDueAt(): number | undefined {
    return this.#peek()?.dueAt;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer = new ManualTimer(fn, this.#now + delayOf(ms), this.#seq++, this);
    this.#heap.push(timer);
    this.#pending++;
    return timer as unknown as TimerHandle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!(handle instanceof ManualTimer) || handle.owner !== this || handle.cleared) return;
    handle.cleared = true;
    this.#pending--;
    // Cleared timers leave the heap lazily; rebuild it when they are most of it.
    if (this.#heap.size > 64 && this.#pending < this.#heap.size / 4) this.#compact();
  }

  /** Moves time forward by `ms` (≥ 0), firing due timers on the way. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`ManualClock cannot advance by ${ms} ms`);
    this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `t` (≥ now), firing due timers on the way. */
  advanceTo(t: number): void {
    this.#checkTarget(t);
    for (let timer = this.#takeDue(t); timer; timer = this.#takeDue(t)) {
      this.#now = timer.dueAt;
      timer.fn();
    }
    this.#now = t;
  }

  /**
   * `advance` for async code: after each fired timer, lets promise callbacks and I/O callbacks run
   * (one macrotask turn) so that timers they schedule are seen within the window.
   */
  async advanceAsync(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`ManualClock cannot advance by ${ms} ms`);
    const t = this.#now + ms;
    this.#checkTarget(t);
    await settle();
    for (let timer = this.#takeDue(t); timer; timer = this.#takeDue(t)) {
      this.#now = timer.dueAt;
      timer.fn();
      await settle();
    }
    this.#now = t;
  }

  /** Fires the next pending timer, moving time to it. Returns false when none is pending. */
  runNext(): boolean {
    const next = this.#peek();
    if (!next || next.dueAt === Infinity) return false;
    this.advanceTo(next.dueAt);
    return true;
  }

  #checkTarget(t: number): void {
    if (!Number.isFinite(t) || t < this.#now) {
      throw new RangeError(`ManualClock cannot move from ${this.#now} to ${t}`);
    }
  }

  #compact(): void {
    this.#heap.retain((timer) => !timer.cleared);
  }

  #takeDue(t: number): ManualTimer | undefined {
    const top = this.#peek();
    if (!top || top.dueAt > t) return undefined;
    this.#heap.pop();
    top.cleared = true;
    this.#pending--;
    return top;
  }

  /** The earliest live timer, discarding cleared ones from the top. */
  #peek(): ManualTimer | undefined {
    return this.#heap.peekWhileDropping((timer) => timer.cleared);
  }
}

function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

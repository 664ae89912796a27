/**
 * When each pending half message is due for its next check-back. One binary min-heap and a single
 * clock timer armed for the earliest entry, so a million pending transactions cost a million small
 * heap slots, not a million timers. Cancelled slots are dropped lazily and the heap is rebuilt when
 * they outnumber the live ones.
 */
import type { Clock, TimerHandle } from '../clock.js';
import { dueThenSeq, MinHeap } from '../min-heap.js';

/** A scheduled item; keep it to cancel. */
export class ScheduleSlot<T> {
  cancelled = false;

  constructor(
    readonly item: T,
    readonly dueAt: number,
    readonly seq: number,
  ) {}
}

/** Rebuild the heap once cancelled slots are this many and more than the live ones. */
const COMPACT_MIN = 1024;

export class CheckSchedule<T> {
  readonly #clock: Clock;
  readonly #onDue: (item: T) => void;
  readonly #heap = new MinHeap<ScheduleSlot<T>>(dueThenSeq);
  #seq = 0;
  #live = 0;
  #timer: TimerHandle | undefined;
  #timerDueAt = Infinity;
  #stopped = false;

  /** `onDue` runs from the clock's timer, once per due item, in due-time order; it must not throw. */
  constructor(clock: Clock, onDue: (item: T) => void) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  /** Items scheduled and neither fired nor cancelled. */
  get size(): number {
    return this.#live;
  }

  /** Due time of the earliest item, or undefined. */
  get nextDueAt(): number | undefined {
    return this.#peek()?.dueAt;
  }

  add(item: T, dueAt: number): ScheduleSlot<T> {
    const slot = new ScheduleSlot(item, dueAt, this.#seq++);
    if (this.#stopped) {
      slot.cancelled = true;
      return slot;
    }
    this.#heap.push(slot);
    this.#live++;
    this.#arm();
    return slot;
  }

  cancel(slot: ScheduleSlot<T> | undefined): void {
    if (!slot || slot.cancelled) return;
    slot.cancelled = true;
    this.#live--;
    if (this.#heap.size - this.#live > Math.max(COMPACT_MIN, this.#live)) this.#compact();
  }

  /** Cancels the timer; nothing fires afterwards and later `add`s are ignored. */
  stop(): void {
    this.#stopped = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerDueAt = Infinity;
  }

  #arm(): void {
    const top = this.#peek();
    if (this.#stopped || !top || top.dueAt >= this.#timerDueAt) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timerDueAt = top.dueAt;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), top.dueAt - this.#clock.now());
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerDueAt = Infinity;
    const now = this.#clock.now();
    // Take everything due first: items that `onDue` reschedules for "now" wait for the next turn.
    const due: ScheduleSlot<T>[] = [];
    for (let top = this.#peek(); top && top.dueAt <= now; top = this.#peek()) {
      this.#heap.pop();
      top.cancelled = true;
      this.#live--;
      due.push(top);
    }
    for (const slot of due) {
      if (this.#stopped) break;
      this.#onDue(slot.item);
    }
    this.#arm();
  }

  #peek(): ScheduleSlot<T> | undefined {
    return this.#heap.peekWhileDropping((slot) => slot.cancelled);
  }

  #compact(): void {
    this.#heap.retain((slot) => !slot.cancelled);
  }
}

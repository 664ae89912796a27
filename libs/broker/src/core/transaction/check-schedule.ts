/**
 * When each pending half message is due for its next check-back. One binary min-heap and a single
 * clock timer armed for the earliest entry, so a million pending transactions cost a million small
 * heap slots, not a million timers. Cancelled slots are dropped lazily and the heap is rebuilt when
 * they outnumber the live ones.
 */
import type { Clock, TimerHandle } from '../clock.js';

/** A scheduled item; keep it to cancel. */
export class ScheduleSlot<T> {
  cancelled = false;

  constructor(
    readonly item: T,
    readonly dueAt: number,
    readonly seq: number,
  ) {}
}

function earlier<T>(a: ScheduleSlot<T>, b: ScheduleSlot<T>): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);
}

/** Rebuild the heap once cancelled slots are this many and more than the live ones. */
const COMPACT_MIN = 1024;

export class CheckSchedule<T> {
  readonly #clock: Clock;
  readonly #onDue: (item: T) => void;
  readonly #heap: ScheduleSlot<T>[] = [];
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
    this.#push(slot);
    this.#live++;
    this.#arm();
    return slot;
  }

  cancel(slot: ScheduleSlot<T> | undefined): void {
    if (!slot || slot.cancelled) return;
    slot.cancelled = true;
    this.#live--;
    if (this.#heap.length - this.#live > Math.max(COMPACT_MIN, this.#live)) this.#compact();
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
      this.#pop();
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
    while (this.#heap.length > 0 && this.#heap[0]!.cancelled) this.#pop();
    return this.#heap[0];
  }

  #compact(): void {
    const live = this.#heap.filter((slot) => !slot.cancelled);
    this.#heap.length = 0;
    for (const slot of live) this.#push(slot);
  }

  #push(slot: ScheduleSlot<T>): void {
    const heap = this.#heap;
    let i = heap.push(slot) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!earlier(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && earlier(heap[left]!, heap[least]!)) least = left;
      if (right < heap.length && earlier(heap[right]!, heap[least]!)) least = right;
      if (least === i) return;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  }
}

/**
 * A min-heap of timer entries `(dueAt, physicalOffset)` in two parallel Float64Arrays: 16 bytes per
 * entry, no object per timer, nothing for the garbage collector to trace. One million pending timers
 * cost 16 MB (plus growth slack), outside the JS heap.
 *
 * Order: earliest due first; equal due times in commit-log order, so timers due at the same instant
 * fire in the order they were scheduled.
 */
const MIN_CAPACITY = 64;

export class TimerHeap {
  #due: Float64Array;
  #offset: Float64Array;
  #size = 0;

  constructor(capacity = MIN_CAPACITY) {
    const c = Math.max(MIN_CAPACITY, Math.ceil(capacity));
    this.#due = new Float64Array(c);
    this.#offset = new Float64Array(c);
  }

  get size(): number {
    return this.#size;
  }

  /** Bytes held by the arrays (capacity, not size). */
  get bytes(): number {
    return this.#due.byteLength + this.#offset.byteLength;
  }

  /** Due time of the earliest entry; Infinity when empty. */
  get topDue(): number {
    return this.#size > 0 ? this.#due[0]! : Infinity;
  }

  /** Physical offset of the earliest entry; -1 when empty. */
  get topOffset(): number {
    return this.#size > 0 ? this.#offset[0]! : -1;
  }

  /** Makes room for `extra` more entries at once (a bucket about to be loaded knows its upper bound). */
  reserve(extra: number): void {
    const need = this.#size + extra;
    if (need > this.#due.length) this.#resize(need);
  }

  /** Adds without restoring heap order; call `heapify()` after a run of `append`s (O(n) overall). */
  append(dueAt: number, physicalOffset: number): void {
    if (this.#size === this.#due.length) this.#resize(this.#due.length + (this.#due.length >> 1));
    this.#due[this.#size] = dueAt;
    this.#offset[this.#size] = physicalOffset;
    this.#size++;
  }

  heapify(): void {
    for (let i = (this.#size >> 1) - 1; i >= 0; i--) this.#down(i);
  }

  push(dueAt: number, physicalOffset: number): void {
    this.append(dueAt, physicalOffset);
    this.#up(this.#size - 1);
  }

  /** Removes the earliest entry (read it first with topDue / topOffset). */
  pop(): void {
    if (this.#size === 0) return;
    const last = --this.#size;
    if (last > 0) {
      this.#due[0] = this.#due[last]!;
      this.#offset[0] = this.#offset[last]!;
      this.#down(0);
    }
    // Give memory back after a large bucket drained.
    if (this.#due.length > 4 * MIN_CAPACITY && this.#size < this.#due.length >> 3) {
      this.#resize(Math.max(MIN_CAPACITY, this.#size * 2));
    }
  }

  #less(a: number, b: number): boolean {
    const da = this.#due[a]!;
    const db = this.#due[b]!;
    return da < db || (da === db && this.#offset[a]! < this.#offset[b]!);
  }

  #swap(a: number, b: number): void {
    const due = this.#due;
    const off = this.#offset;
    const d = due[a]!;
    due[a] = due[b]!;
    due[b] = d;
    const o = off[a]!;
    off[a] = off[b]!;
    off[b] = o;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#size;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) return;
      const right = left + 1;
      const least = right < n && this.#less(right, left) ? right : left;
      if (!this.#less(least, i)) return;
      this.#swap(i, least);
      i = least;
    }
  }

  #resize(capacity: number): void {
    const c = Math.max(MIN_CAPACITY, capacity);
    const due = new Float64Array(c);
    const off = new Float64Array(c);
    due.set(this.#due.subarray(0, this.#size));
    off.set(this.#offset.subarray(0, this.#size));
    this.#due = due;
    this.#offset = off;
  }
}

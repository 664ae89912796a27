/**
 * A binary min-heap of objects, ordered by a strict `less`. Ties keep no order of their own: callers
 * that need one (timers due at the same instant firing in scheduling order) break them in `less`, as
 * `dueThenSeq` does. (The timer wheel's million-entry heap is `TimerHeap`, packed in typed arrays.)
 */
export class MinHeap<T> {
  readonly #less: (a: T, b: T) => boolean;
  readonly #items: T[] = [];

  constructor(less: (a: T, b: T) => boolean) {
    this.#less = less;
  }

  get size(): number {
    return this.#items.length;
  }

  /** The least item, or undefined when empty. */
  peek(): T | undefined {
    return this.#items[0];
  }

  push(item: T): void {
    const heap = this.#items;
    let i = heap.push(item) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** Removes the least item and returns it (undefined when empty). */
  pop(): T | undefined {
    const heap = this.#items;
    const top = heap[0];
    const last = heap.pop();
    if (heap.length === 0) return top;
    heap[0] = last!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      const right = left + 1;
      let least = i;
      if (left < heap.length && this.#less(heap[left]!, heap[least]!)) least = left;
      if (right < heap.length && this.#less(heap[right]!, heap[least]!)) least = right;
      if (least === i) return top;
      [heap[i], heap[least]] = [heap[least]!, heap[i]!];
      i = least;
    }
  }

  /** Pops items from the top while `drop` holds (lazily discarded entries); returns the new top. */
  peekWhileDropping(drop: (item: T) => boolean): T | undefined {
    while (this.#items.length > 0 && drop(this.#items[0]!)) this.pop();
    return this.#items[0];
  }

  /** Keeps only the items `keep` holds for, rebuilding the heap. */
  retain(keep: (item: T) => boolean): void {
    const kept = this.#items.filter(keep);
    this.#items.length = 0;
    for (const item of kept) this.push(item);
  }
}

/** Earliest `dueAt` first; equal due times in `seq` (scheduling) order. */
export function dueThenSeq(
  a: { readonly dueAt: number; readonly seq: number },
  b: { readonly dueAt: number; readonly seq: number },
): boolean {
  return a.dueAt < b.dueAt || (a.dueAt === b.dueAt && a.seq < b.seq);
}

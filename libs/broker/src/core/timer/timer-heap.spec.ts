import { TimerHeap } from './timer-heap.js';

/** A seeded PRNG so a failure reproduces. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function drain(heap: TimerHeap): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  while (heap.size > 0) {
    out.push([heap.topDue, heap.topOffset]);
    heap.pop();
  }
  return out;
}

describe('TimerHeap', () => {
  it('is empty at first', () => {
    const heap = new TimerHeap();
    expect(heap.size).toBe(0);
    expect(heap.topDue).toBe(Infinity);
    expect(heap.topOffset).toBe(-1);
    heap.pop();
    expect(heap.size).toBe(0);
  });

  it('pops by due time, then by physical offset', () => {
    const heap = new TimerHeap();
    heap.push(30, 1);
    heap.push(10, 9);
    heap.push(10, 2);
    heap.push(20, 5);
    heap.push(10, 4);
    expect(drain(heap)).toEqual([
      [10, 2],
      [10, 4],
      [10, 9],
      [20, 5],
      [30, 1],
    ]);
  });

  it('agrees with a sort for random pushes, pops and append + heapify (property)', () => {
    for (let seed = 1; seed <= 20; seed++) {
      const random = prng(seed);
      const heap = new TimerHeap(4);
      const model: Array<[number, number]> = [];
      const n = 2_000 + Math.floor(random() * 2_000);
      for (let i = 0; i < n / 2; i++) {
        const e: [number, number] = [Math.floor(random() * 500), i];
        heap.append(e[0], e[1]);
        model.push(e);
      }
      heap.heapify();
      for (let i = n / 2; i < n; i++) {
        if (random() < 0.3 && model.length > 0) {
          model.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
          const [due, offset] = model.shift()!;
          expect([heap.topDue, heap.topOffset]).toEqual([due, offset]);
          heap.pop();
        } else {
          const e: [number, number] = [Math.floor(random() * 500), i];
          heap.push(e[0], e[1]);
          model.push(e);
        }
      }
      model.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
      expect(drain(heap)).toEqual(model);
    }
  });

  it('costs 16 bytes per reserved entry and gives memory back once drained', () => {
    const heap = new TimerHeap();
    heap.reserve(100_000);
    expect(heap.bytes).toBe(100_000 * 16);
    for (let i = 0; i < 100_000; i++) heap.push(100_000 - i, i);
    expect(heap.bytes).toBe(100_000 * 16);
    for (let i = 0; i < 99_990; i++) heap.pop();
    expect(heap.size).toBe(10);
    expect(heap.bytes).toBeLessThan(1_000 * 16);
    expect(drain(heap).map(([due]) => due)).toEqual(Array.from({ length: 10 }, (_, i) => 99_991 + i));
  });

  it('holds physical offsets beyond 2^32 exactly', () => {
    const heap = new TimerHeap();
    const big = 2 ** 40 + 12345;
    heap.push(1, big);
    expect(heap.topOffset).toBe(big);
  });
});

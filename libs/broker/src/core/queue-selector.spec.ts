import fc from 'fast-check';
import { QueueSelector, consistentHash, javaStringHashCode, queueForMessageGroup } from './queue-selector.js';

/** Guava's algorithm written the obvious way with BigInt, as a reference for the limb arithmetic. */
function referenceConsistentHash(input: bigint, buckets: number): number {
  let state = BigInt.asUintN(64, input);
  let candidate = 0;
  for (;;) {
    state = BigInt.asUintN(64, 2862933555777941757n * state + 1n);
    const nextDouble = (Number(state >> 33n) + 1) / 2 ** 31;
    const next = Math.trunc((candidate + 1) / nextDouble);
    if (next >= 0 && next < buckets) candidate = next;
    else return candidate;
  }
}

describe('javaStringHashCode', () => {
  it('matches Java String.hashCode', () => {
    expect(javaStringHashCode('')).toBe(0);
    expect(javaStringHashCode('a')).toBe(97);
    expect(javaStringHashCode('hello')).toBe(99162322);
    expect(javaStringHashCode('Aa')).toBe(javaStringHashCode('BB')); // the classic collision, 2112
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648); // Integer.MIN_VALUE
    expect(javaStringHashCode('Hello World')).toBe(-862545276);
    // UTF-16 code units, not code points: U+1F600 is the surrogate pair D83D DE00.
    expect(javaStringHashCode('😀')).toBe(0xd83d * 31 + 0xde00);
  });

  it("is Σ s[i]·31^(n−1−i) in 32-bit two's complement", () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        let h = 0n;
        for (let i = 0; i < s.length; i++) h = h * 31n + BigInt(s.charCodeAt(i));
        expect(javaStringHashCode(s)).toBe(Number(BigInt.asIntN(32, h)));
      }),
    );
  });
});

describe('consistentHash (Guava Hashing.consistentHash)', () => {
  it('matches Guava golden values', () => {
    const golden100 = [0, 55, 62, 8, 45, 59, 86, 97, 82, 59, 73, 37, 17, 56, 86, 21, 90, 37, 38, 83];
    golden100.forEach((expected, i) => expect(consistentHash(i, 100)).toBe(expected));
    expect(consistentHash(10863919174838991n, 11)).toBe(6);
    expect(consistentHash(2016238256797177309n, 11)).toBe(3);
    expect(consistentHash(1673758223894951030n, 11)).toBe(5);
    expect(consistentHash(2, 100001)).toBe(80343);
    expect(consistentHash(2201, 100001)).toBe(22152);
    expect(consistentHash(2202, 100001)).toBe(15018);
  });

  it('agrees with a BigInt reference for any int and long input', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.integer({ min: 1, max: 5000 }),
        (h, n) => {
          expect(consistentHash(h, n)).toBe(referenceConsistentHash(BigInt(h), n));
        },
      ),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        fc.integer({ min: 1, max: 5000 }),
        (h, n) => {
          expect(consistentHash(h, n)).toBe(referenceConsistentHash(h, n));
        },
      ),
      { numRuns: 1000 },
    );
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.integer({ min: 1, max: 5000 }), (h, n) => {
        expect(consistentHash(h, n)).toBe(referenceConsistentHash(BigInt(h), n));
      }),
      { numRuns: 1000 },
    );
  });

  it('rejects bad arguments', () => {
    expect(() => consistentHash(1, 0)).toThrow(RangeError);
    expect(() => consistentHash(1, 1.5)).toThrow(RangeError);
    expect(() => consistentHash(0.5, 8)).toThrow(RangeError);
    expect(() => consistentHash(2 ** 60, 8)).toThrow(RangeError);
  });
});

describe('QueueSelector', () => {
  const topic = { name: 'orders', queueCount: 8 };

  it('maps a message group to one queue, always', () => {
    const selector = new QueueSelector();
    for (let g = 0; g < 200; g++) {
      const group = `customer-${g}`;
      const first = selector.selectQueue(topic, group);
      for (let i = 0; i < 20; i++) expect(selector.selectQueue(topic, group)).toBe(first);
      // Same answer from a fresh selector (a restarted broker) and from the pure function.
      expect(new QueueSelector().selectQueue(topic, group)).toBe(first);
      expect(queueForMessageGroup(group, 8)).toBe(first);
    }
  });

  it('spreads many message groups over all queues', () => {
    const selector = new QueueSelector();
    const counts = new Array<number>(8).fill(0);
    for (let g = 0; g < 8000; g++) counts[selector.selectQueue(topic, `group-${g}`)]!++;
    for (const c of counts) {
      expect(c).toBeGreaterThan(800);
      expect(c).toBeLessThan(1200);
    }
  });

  it('moves few message groups when the topic grows', () => {
    let moved = 0;
    for (let g = 0; g < 8000; g++) {
      const before = queueForMessageGroup(`group-${g}`, 8);
      const after = queueForMessageGroup(`group-${g}`, 10);
      if (after !== before) {
        moved++;
        expect(after).toBeGreaterThanOrEqual(8); // a group only ever moves to a new queue
      }
    }
    expect(moved / 8000).toBeGreaterThan(0.15);
    expect(moved / 8000).toBeLessThan(0.25); // ≈ 1 − 8/10
  });

  it('round-robins over all queues without a message group', () => {
    const selector = new QueueSelector({ random: () => 0.5 });
    const picks = Array.from({ length: 16 }, () => selector.selectQueue(topic));
    expect(picks).toEqual([4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3]);
    const counts = new Array<number>(8).fill(0);
    for (let i = 0; i < 8000; i++) counts[selector.selectQueue(topic)]!++;
    expect(counts).toEqual(new Array<number>(8).fill(1000));
  });

  it('keeps a counter per topic', () => {
    const selector = new QueueSelector({ random: () => 0 });
    const other = { name: 'payments', queueCount: 3 };
    expect([selector.selectQueue(topic), selector.selectQueue(other), selector.selectQueue(topic)]).toEqual([
      0, 0, 1,
    ]);
    expect([selector.selectQueue(other), selector.selectQueue(other), selector.selectQueue(other)]).toEqual([
      1, 2, 0,
    ]);
  });

  it('follows a topic that grew', () => {
    const selector = new QueueSelector({ random: () => 0 });
    const small = { name: 'orders', queueCount: 2 };
    expect([selector.selectQueue(small), selector.selectQueue(small)]).toEqual([0, 1]);
    const grown = { name: 'orders', queueCount: 4 };
    expect(Array.from({ length: 4 }, () => selector.selectQueue(grown))).toEqual([0, 1, 2, 3]);
  });

  it('uses queue 0 of a one-queue topic, with or without group', () => {
    const selector = new QueueSelector();
    const one = { name: '%DLQ%g', queueCount: 1 };
    expect(selector.selectQueue(one)).toBe(0);
    expect(selector.selectQueue(one, 'group')).toBe(0);
    expect(selector.size).toBe(0);
  });

  it('treats an empty message group as none', () => {
    const selector = new QueueSelector({ random: () => 0 });
    expect([selector.selectQueue(topic, ''), selector.selectQueue(topic, '')]).toEqual([0, 1]);
  });

  it('keeps at most maxTopics counters', () => {
    const selector = new QueueSelector({ maxTopics: 100 });
    for (let t = 0; t < 1000; t++) selector.selectQueue({ name: `t${t}`, queueCount: 4 });
    expect(selector.size).toBe(100);
    selector.forget('t999');
    expect(selector.size).toBe(99);
  });

  it('starts new counters at a random queue', () => {
    const selector = new QueueSelector({ random: () => 0.99 });
    expect(selector.selectQueue(topic)).toBe(7);
  });
});

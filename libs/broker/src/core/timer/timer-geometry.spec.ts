import { DEFAULT_TIMER_BUCKET_MS, TimerGeometry } from './timer-geometry.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

describe('TimerGeometry', () => {
  it('defaults to 98 fifteen-minute buckets for 24 h', () => {
    const g = TimerGeometry.forMaxDelay(24 * HOUR, DEFAULT_TIMER_BUCKET_MS);
    expect(g.bucketMs).toBe(15 * MINUTE);
    expect(g.bucketCount).toBe(98);
    expect(g.maxSafeDelayMs).toBe(24 * HOUR);
  });

  it('never puts a timer within max delay into the queue of the bucket being fired (wrap-around)', () => {
    for (const [maxDelay, bucketMs] of [
      [24 * HOUR, 15 * MINUTE],
      [10 * MINUTE, MINUTE],
      [7 * MINUTE + 1, MINUTE],
      [1_000, 300],
    ] as const) {
      const g = TimerGeometry.forMaxDelay(maxDelay, bucketMs);
      const t0 = Date.UTC(2025, 0, 1);
      const clashes: string[] = [];
      for (let now = t0; now < t0 + 3 * g.bucketCount * bucketMs; now += Math.floor(bucketMs / 3) + 1) {
        // Buckets being fired: the current one and, after its end, still the previous one.
        const current = g.bucketOf(now);
        const latest = g.bucketOf(now + maxDelay);
        for (const live of [current - 1, current]) {
          for (let k = current; k <= latest; k++) {
            if (k !== live && g.queueOf(k) === g.queueOf(live)) clashes.push(`${now}: ${k} vs ${live}`);
          }
        }
      }
      expect(clashes).toEqual([]);
    }
  });

  it('maps buckets to queues and windows', () => {
    const g = new TimerGeometry(MINUTE, 5);
    expect(g.bucketOf(0)).toBe(0);
    expect(g.bucketOf(MINUTE - 1)).toBe(0);
    expect(g.bucketOf(MINUTE)).toBe(1);
    expect(g.queueOf(7)).toBe(2);
    expect(g.queueOf(-1)).toBe(4);
    expect([g.startOf(3), g.endOf(3)]).toEqual([3 * MINUTE, 4 * MINUTE]);
  });

  it('rejects impossible geometries', () => {
    expect(() => new TimerGeometry(0, 10)).toThrow(RangeError);
    expect(() => new TimerGeometry(1.5, 10)).toThrow(RangeError);
    expect(() => new TimerGeometry(MINUTE, 2)).toThrow(RangeError);
    expect(() => new TimerGeometry(MINUTE, 70_000)).toThrow(RangeError);
    expect(() => TimerGeometry.forMaxDelay(24 * HOUR, 1)).toThrow(/use larger buckets/);
    expect(() => TimerGeometry.forMaxDelay(NaN, MINUTE)).toThrow(RangeError);
  });
});

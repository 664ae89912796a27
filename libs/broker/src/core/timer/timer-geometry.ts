/**
 * How due times map onto the queues of SCHEDULE_TOPIC.
 *
 * Time is cut into buckets of `bucketMs`; bucket `k` covers `[k·bucketMs, (k+1)·bucketMs)` and lives
 * in queue `k mod bucketCount`, so queues are reused once per cycle of `bucketCount · bucketMs`.
 *
 * Wrap-around: a timer is accepted at most `maxDelayMs` ahead, so while bucket `k` is being fired
 * (from its start until its end), a new timer can be due at most `end(k) + maxDelayMs`. With
 * `bucketCount = ceil(maxDelayMs / bucketMs) + 2` that is before `start(k + bucketCount)`, the
 * next time the same queue is used: one live window never shares its queue with the next lap, with
 * one spare bucket of slack for a scheduler that finishes a bucket late. Defaults: 15-min buckets,
 * 24 h → 98 queues (a cycle of 24 h 30 min).
 *
 * The scheduler does not rely on this for correctness, only for efficiency: an entry due after the
 * window being fired (a later lap, after downtime or a geometry change) is held back in the queue
 * and read again one cycle later (see TimerWindow).
 */

/** Default bucket: 15 minutes. Loaded memory is ~16 B per timer due in the current and next bucket. */
export const DEFAULT_TIMER_BUCKET_MS = 15 * 60_000;

/** A queue id is a u16 in the store. */
const MAX_QUEUES = 0x1_0000;

export class TimerGeometry {
  constructor(
    readonly bucketMs: number,
    readonly bucketCount: number,
  ) {
    if (!Number.isSafeInteger(bucketMs) || bucketMs < 1) {
      throw new RangeError(`timer bucketMs must be a positive integer, got ${bucketMs}`);
    }
    if (!Number.isSafeInteger(bucketCount) || bucketCount < 3 || bucketCount > MAX_QUEUES) {
      throw new RangeError(`timer bucketCount must be an integer in [3, ${MAX_QUEUES}], got ${bucketCount}`);
    }
  }

  /** The smallest geometry whose cycle holds `maxDelayMs` plus two buckets (see the file comment). */
  static forMaxDelay(maxDelayMs: number, bucketMs: number): TimerGeometry {
    if (!(maxDelayMs > 0) || !Number.isFinite(maxDelayMs)) {
      throw new RangeError(`timer maxDelayMs must be positive and finite, got ${maxDelayMs}`);
    }
    const count = Math.ceil(maxDelayMs / bucketMs) + 2;
    if (count > MAX_QUEUES) {
      throw new RangeError(
        `a max delay of ${maxDelayMs} ms needs ${count} buckets of ${bucketMs} ms; at most ${MAX_QUEUES}: use larger buckets`,
      );
    }
    return new TimerGeometry(bucketMs, count);
  }

  /** Longest delay that never wraps onto a live window. */
  get maxSafeDelayMs(): number {
    return (this.bucketCount - 2) * this.bucketMs;
  }

  bucketOf(time: number): number {
    return Math.floor(time / this.bucketMs);
  }

  queueOf(bucket: number): number {
    const q = bucket % this.bucketCount;
    return q < 0 ? q + this.bucketCount : q;
  }

  startOf(bucket: number): number {
    return bucket * this.bucketMs;
  }

  endOf(bucket: number): number {
    return (bucket + 1) * this.bucketMs;
  }
}

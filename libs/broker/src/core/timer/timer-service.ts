/**
 * Durable timers: delayed messages (the 18 delay levels and arbitrary delivery timestamps) and
 * retries after a backoff. A timed message is parked in SCHEDULE_TOPIC, in the queue of its due
 * time's bucket (see timer-geometry.ts), with its real topic, queue and due time as system properties
 * (REAL_TOPIC, REAL_QID, TIMER_DELIVER_MS). At its due time it is read back by physical offset and
 * appended to its real topic and queue with the same message id, body, tag, keys and properties.
 *
 * Memory: only the current and next buckets (plus up to two overdue ones while catching up after
 * downtime) are loaded, as 16-byte (due time, physical offset) heap entries; bodies stay on disk,
 * timers further ahead cost nothing in memory.
 *
 * Durability: the parked record is in the store before `schedule` resolves. Progress per bucket queue
 * (timer-progress.ts) is written every `persistIntervalMs` while timers fire, when a bucket is
 * finished and on close. After a restart every undelivered timer is delivered (an overdue one at
 * once). At-least-once: a crash after a real append but before the next progress write delivers that
 * message again (same message id) after the restart; consumers dedup by message id. Like every
 * append, a delivered message is as durable as the store's flush mode makes it.
 *
 * Time comes from the injected Clock. Nothing durable depends on the clock moving forward: progress
 * is kept as queue offsets (timer-progress.ts), so a clock that steps back only delays timers (they
 * fire when the clock reaches their due time again) and one that jumps ahead fires what it says is due.
 *
 * SCHEDULE_TOPIC belongs to this service: nothing else may append to it.
 */
import type { AppendResult, MessageStore, MessageToStore, StoreLogger } from '../../store/index.js';
import { CorruptRecordError, IllegalTopicError } from '../../store/index.js';
import { measureRecord } from '../../store/message-record.js';
import type { Clock, TimerHandle } from '../clock.js';
import { DELAY_LEVELS_MS, MAX_DELAY_MS, SCHEDULE_TOPIC } from '../limits.js';
import { validateDeliveryTimestamp } from '../validation.js';
import { IllegalDelayLevelError, TimerServiceClosedError } from './timer-errors.js';
import { DEFAULT_TIMER_BUCKET_MS, TimerGeometry } from './timer-geometry.js';
import { toImmediateMessage, toRealMessage, toScheduleRecord } from './timer-message.js';
import {
  freshTimerProgress,
  readTimerProgress,
  writeTimerProgress,
  type TimerProgressState,
} from './timer-progress.js';
import { TimerWindow } from './timer-window.js';

export interface TimerServiceOptions {
  readonly store: MessageStore;
  readonly clock: Clock;
  /** Where `timer-progress.json` lives. */
  readonly stateDir: string;
  /** Latest accepted delivery timestamp, from now. Default 24 h (RocketMQ `maxDelayTimeMills`). */
  readonly maxDelayMs?: number;
  /** Bucket width of a new state directory (an existing one keeps its own). Default 15 min. */
  readonly bucketMs?: number;
  readonly logger?: StoreLogger;
  /** How often progress is written while timers fire. Default 1 s: a crash re-delivers ≤ 1 s of fires. */
  readonly persistIntervalMs?: number;
}

export interface ScheduleResult {
  readonly messageId: string;
  /** When the message is (or was) delivered: the requested time, or now if that was in the past. */
  readonly deliverAt: number;
  /**
   * Offset of the record just written: in the real queue when it was due at once, else in its timer
   * bucket's queue of SCHEDULE_TOPIC_XXXX (RocketMQ answers a delayed send with the timer topic's
   * offset too). The real queue offset is only known when the timer fires.
   */
  readonly queueOffset: number;
}

export interface TimerWindowStats {
  readonly bucket: number;
  readonly queueId: number;
  readonly start: number;
  readonly end: number;
  readonly loading: boolean;
  readonly loaded: number;
  readonly firing: number;
  readonly held: number;
  /** Bytes of the typed arrays holding the loaded entries. */
  readonly heapBytes: number;
}

export interface TimerServiceStats {
  readonly windows: readonly TimerWindowStats[];
  /** Timers delivered by this instance (immediate ones included). */
  readonly fired: number;
  readonly firing: number;
  /** Parks whose append is not yet acknowledged. */
  readonly scheduling: number;
}

/** Fired-but-unacknowledged appends at once, and their record bytes: bounds memory in a burst. */
const MAX_FIRING = 1024;
const MAX_FIRING_BYTES = 32 * 1024 * 1024;
/** Overdue buckets loaded at once while catching up after downtime. */
const MAX_CATCH_UP_WINDOWS = 2;
/** Pause after a failed real append (disk full, store failure) before trying again. */
const FAILURE_BACKOFF_MS = 1_000;
const DEFAULT_PERSIST_INTERVAL_MS = 1_000;
const LONGEST_LEVEL_MS = DELAY_LEVELS_MS[DELAY_LEVELS_MS.length - 1]!;

const timerConsoleLogger: StoreLogger = {
  log: (m) => console.log(`[timer] ${m}`),
  warn: (m) => console.warn(`[timer] ${m}`),
  error: (m) => console.error(`[timer] ${m}`),
};

interface Parking {
  readonly queueId: number;
  readonly due: number;
}

export class TimerService {
  /** Metrics hook: called once per delivered timer, after its real append was acknowledged. */
  onFired?: (messageId: string, lateByMs: number) => void;

  readonly maxDelayMs: number;
  readonly geometry: TimerGeometry;
  private readonly store: MessageStore;
  private readonly clock: Clock;
  private readonly stateDir: string;
  private readonly logger: StoreLogger;
  private readonly persistIntervalMs: number;
  private readonly progress: TimerProgressState;

  /** Open windows by queue id: at most one per queue. */
  private readonly windows = new Map<number, TimerWindow>();
  /** Buckets to open, ascending. */
  private readonly planned: number[] = [];
  private plannedThrough: number;
  /** Parks in flight, so that a bucket is not finished under them and progress stays below them. */
  private readonly parking = new Map<number, Parking>();
  private nextParkingId = 0;
  /** Appends in flight (parks, immediate and fired deliveries): close() waits for them. */
  private readonly work = new Set<Promise<unknown>>();
  private firingCount = 0;
  private firingBytes = 0;
  private fired = 0;
  private pausedUntil = -Infinity;
  private wake: TimerHandle | undefined;
  private wakeAt = Infinity;
  private tickQueued = false;
  private loaderScheduled = false;
  private dirty = false;
  private lastPersist = -Infinity;
  private closed = false;

  private constructor(options: TimerServiceOptions) {
    this.store = options.store;
    this.clock = options.clock;
    this.stateDir = options.stateDir;
    this.logger = options.logger ?? timerConsoleLogger;
    this.maxDelayMs = options.maxDelayMs ?? MAX_DELAY_MS;
    if (!(this.maxDelayMs > 0) || !Number.isFinite(this.maxDelayMs)) {
      throw new RangeError(`timer maxDelayMs must be positive and finite, got ${this.maxDelayMs}`);
    }
    this.persistIntervalMs = options.persistIntervalMs ?? DEFAULT_PERSIST_INTERVAL_MS;
    if (!(this.persistIntervalMs >= 0) || !Number.isFinite(this.persistIntervalMs)) {
      throw new RangeError(`timer persistIntervalMs must be ≥ 0 and finite, got ${this.persistIntervalMs}`);
    }
    // Level delays are always accepted, so the geometry covers the longest level too.
    const horizon = Math.max(this.maxDelayMs, LONGEST_LEVEL_MS);
    const wanted = TimerGeometry.forMaxDelay(horizon, options.bucketMs ?? DEFAULT_TIMER_BUCKET_MS);
    const saved = readTimerProgress(this.stateDir);
    if (saved) {
      // Parked records were placed by the saved geometry: keep it.
      this.geometry = new TimerGeometry(saved.bucketMs, saved.bucketCount);
      if (saved.bucketMs !== wanted.bucketMs || saved.bucketCount !== wanted.bucketCount) {
        this.logger.warn(
          `timer: keeping the saved geometry (${saved.bucketCount} buckets of ${saved.bucketMs} ms) over the configured ` +
            `${wanted.bucketCount} × ${wanted.bucketMs} ms`,
        );
      }
      if (this.geometry.maxSafeDelayMs < horizon) {
        this.logger.warn(
          `timer: delays above ${this.geometry.maxSafeDelayMs} ms wrap onto live buckets and are re-read once per cycle`,
        );
      }
      this.progress = saved;
    } else {
      this.geometry = wanted;
      this.progress = freshTimerProgress(wanted.bucketMs, wanted.bucketCount);
    }
    this.clampToStore();
    // Plan (at the first tick) every queue's latest begun bucket, and the next one.
    this.plannedThrough = this.geometry.bucketOf(this.clock.now()) - this.geometry.bucketCount;
  }

  /**
   * A store that lost its unflushed tail in a crash (async flush) ends below offsets we saved: new
   * records will reuse those offsets, so progress must not claim them.
   */
  private clampToStore(): void {
    this.progress.queues.forEach((saved, q) => {
      const end = this.store.maxOffset(SCHEDULE_TOPIC, q);
      if (saved.readTo <= end) return;
      this.logger.warn(`timer: ${SCHEDULE_TOPIC}/${q} ends at ${end}, below saved progress ${saved.readTo}`);
      saved.offset = Math.min(saved.offset, end);
      saved.readTo = end;
    });
  }

  /**
   * Opens the service over an open store: reloads progress, then delivers everything overdue and
   * loads the current and next buckets. The store must be closed after this service.
   */
  static async open(options: TimerServiceOptions): Promise<TimerService> {
    const service = new TimerService(options);
    // Fix the geometry on disk before the first park.
    writeTimerProgress(service.stateDir, service.progress);
    service.lastPersist = service.now();
    service.tick();
    return service;
  }

  /**
   * Stores `message` to be appended to its real topic/queue at `deliverAt` (ms epoch). `deliverAt`
   * ≤ now → appended at once. Beyond `maxDelayMs` → IllegalDeliveryTimeError (ILLEGAL_DELIVERY_TIME).
   * Resolves once the message is durable (parked or delivered) as the store's flush mode defines.
   */
  schedule(message: MessageToStore, deliverAt: number): Promise<ScheduleResult> {
    let now: number;
    let at: number;
    try {
      this.assertOpen();
      now = this.now();
      at = validateDeliveryTimestamp(deliverAt, now, this.maxDelayMs);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.enqueue(message, at, now, undefined);
  }

  /** RocketMQ delay level 1–18 → deliverAt = now + DELAY_LEVELS_MS[level − 1]; else IllegalDelayLevelError. */
  scheduleLevel(message: MessageToStore, level: number): Promise<ScheduleResult> {
    let now: number;
    try {
      this.assertOpen();
      if (!Number.isInteger(level) || level < 1 || level > DELAY_LEVELS_MS.length) {
        throw new IllegalDelayLevelError(level, DELAY_LEVELS_MS.length);
      }
      now = this.now();
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.enqueue(message, now + DELAY_LEVELS_MS[level - 1]!, now, level);
  }

  /**
   * Timers not yet delivered (best effort, an upper bound): loaded entries, parks in flight, and the
   * unread part of every bucket queue.
   */
  get pending(): number {
    let n = this.parking.size;
    for (let q = 0; q < this.geometry.bucketCount; q++) {
      const w = this.windows.get(q);
      const end = this.store.maxOffset(SCHEDULE_TOPIC, q);
      if (w) n += w.pending + w.held + (w.loading ? Math.max(0, end - w.cursor) : 0);
      else n += Math.max(0, end - this.progress.queues[q]!.offset);
    }
    return n;
  }

  get stats(): TimerServiceStats {
    return {
      windows: [...this.windows.values()].map((w) => ({
        bucket: w.index,
        queueId: w.queueId,
        start: w.start,
        end: w.end,
        loading: w.loading,
        loaded: w.heap.size,
        firing: w.firing.size,
        held: w.held,
        heapBytes: w.heap.bytes,
      })),
      fired: this.fired,
      firing: this.firingCount,
      scheduling: this.parking.size,
    };
  }

  /** Stops firing, waits for appends in flight, writes progress. Close before the store. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clock.clearTimeout(this.wake);
    this.wake = undefined;
    while (this.work.size > 0) await Promise.allSettled([...this.work]);
    this.persist(this.now());
    this.windows.clear();
  }

  // ------------------------------------------------------------------------------ scheduling

  private assertOpen(): void {
    if (this.closed) throw new TimerServiceClosedError();
  }

  private now(): number {
    return this.clock.now();
  }

  private enqueue(
    message: MessageToStore,
    at: number,
    now: number,
    level: number | undefined,
  ): Promise<ScheduleResult> {
    try {
      // The real message must be storable, or it could never be delivered: same checks as the store.
      measureRecord(message, 0);
      if (message.topic === SCHEDULE_TOPIC) throw new IllegalTopicError(message.topic, 'reserved for timers');
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (at <= now) {
      return this.track(
        this.store.append(toImmediateMessage(message, at)).then((r) => {
          this.fired++;
          this.notifyFired(r.messageId, Math.max(0, this.clock.now() - at));
          return { messageId: r.messageId, deliverAt: at, queueOffset: r.queueOffset };
        }),
      );
    }
    const bucket = this.geometry.bucketOf(at);
    const queueId = this.geometry.queueOf(bucket);
    const id = this.nextParkingId++;
    this.parking.set(id, { queueId, due: at });
    return this.track(
      this.store.append(toScheduleRecord(message, at, queueId, level)).then(
        (r) => {
          this.parking.delete(id);
          this.parked(queueId, at, r);
          return { messageId: r.messageId, deliverAt: at, queueOffset: r.queueOffset };
        },
        (err: unknown) => {
          this.parking.delete(id);
          this.kick();
          throw err;
        },
      ),
    );
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.work.add(promise);
    const done = (): void => {
      this.work.delete(promise);
    };
    promise.then(done, done);
    return promise;
  }

  /** A park was acknowledged: if its queue's window is open, the entry joins it. */
  private parked(queueId: number, due: number, r: AppendResult): void {
    const w = this.windows.get(queueId);
    if (w) {
      if (w.loading) {
        // The loader reads it.
      } else if (r.queueOffset === w.cursor) {
        w.addAppended(due, r.queueOffset, r.physicalOffset);
      } else if (r.queueOffset > w.cursor) {
        // A gap: read the queue from the cursor (it includes this record).
        w.loading = true;
        this.scheduleLoader();
      }
      // Below the cursor: the loader read it already.
    } else {
      // Normally its bucket opens later. A bucket already planned means the clock stepped back
      // behind a finished bucket: plan it again.
      const bucket = this.geometry.bucketOf(due);
      if (bucket <= this.plannedThrough) this.plan(bucket);
    }
    this.kick();
  }

  private plan(bucket: number): void {
    let i = this.planned.length;
    while (i > 0 && this.planned[i - 1]! > bucket) i--;
    if (this.planned[i - 1] !== bucket) this.planned.splice(i, 0, bucket);
  }

  // ------------------------------------------------------------------------------ the loop

  /** Runs `tick` once after the current burst of callbacks. */
  private kick(): void {
    if (this.tickQueued || this.closed) return;
    this.tickQueued = true;
    queueMicrotask(() => {
      this.tickQueued = false;
      this.tick();
    });
  }

  private tick(): void {
    if (this.closed) return;
    let now = this.now();
    try {
      this.planWindows(now);
      this.openWindows(now);
      this.fireDue(now);
      while (this.finishWindows(now)) this.openWindows(now);
      now = this.now();
      if (this.dirty && now >= this.lastPersist + this.persistIntervalMs) this.persist(now);
    } catch (err) {
      this.logger.error(`timer: scheduler step failed: ${(err as Error).stack ?? String(err)}`);
      this.pausedUntil = now + FAILURE_BACKOFF_MS;
    }
    this.arm(now);
  }

  /** Plans every bucket from the last planned one to the next one; overdue ones only if they hold data. */
  private planWindows(now: number): void {
    const g = this.geometry;
    const current = g.bucketOf(now);
    // The clock stepped back over a bucket boundary: plan the current and next buckets again.
    if (this.plannedThrough > current + 1) this.plannedThrough = current - 1;
    const from = Math.max(this.plannedThrough + 1, current - g.bucketCount + 1);
    for (let k = from; k <= current + 1; k++) {
      if (k >= current || this.hasUnread(g.queueOf(k))) this.plan(k);
    }
    if (current + 1 > this.plannedThrough) this.plannedThrough = current + 1;
  }

  private hasUnread(queueId: number): boolean {
    return this.store.maxOffset(SCHEDULE_TOPIC, queueId) > this.progress.queues[queueId]!.offset;
  }

  private openWindows(now: number): void {
    const g = this.geometry;
    const current = g.bucketOf(now);
    let catchingUp = 0;
    for (const w of this.windows.values()) if (w.index < current) catchingUp++;
    for (let i = 0; i < this.planned.length;) {
      const planned = this.planned[i]!;
      const q = g.queueOf(planned);
      if (this.windows.has(q)) {
        i++;
        continue;
      }
      // An overdue bucket opens as the latest bucket of its queue that has begun: one pass then
      // delivers everything overdue in the queue.
      const bucket = planned >= current ? planned : current - g.queueOf(current - q);
      if (bucket < current && !this.hasUnread(q)) {
        this.planned.splice(i, 1);
        continue;
      }
      if (bucket < current && catchingUp >= MAX_CATCH_UP_WINDOWS) {
        i++;
        continue;
      }
      this.planned.splice(i, 1);
      if (bucket < current) catchingUp++;
      this.openWindow(bucket, now);
    }
  }

  private openWindow(bucket: number, now: number): void {
    const g = this.geometry;
    const q = g.queueOf(bucket);
    const saved = this.progress.queues[q]!;
    const w = new TimerWindow(
      bucket,
      q,
      g.startOf(bucket),
      g.endOf(bucket),
      saved.offset,
      saved.readTo,
      saved.skipBelow,
    );
    this.windows.set(q, w);
    // The first chunk now (a small bucket is loaded at once), the rest on later turns.
    if (!w.readChunk(this.store, this.logger, now)) this.scheduleLoader();
  }

  /** Loads open windows a chunk per event-loop turn, so firing and I/O go on while a big bucket loads. */
  private scheduleLoader(): void {
    if (this.loaderScheduled || this.closed) return;
    this.loaderScheduled = true;
    setImmediate(() => {
      this.loaderScheduled = false;
      if (this.closed) return;
      let more = false;
      const now = this.now();
      try {
        for (const w of this.windows.values()) {
          if (w.loading && !w.readChunk(this.store, this.logger, now)) more = true;
        }
      } catch (err) {
        this.logger.error(`timer: loading a bucket failed: ${(err as Error).message}; retrying`);
        more = true;
      }
      if (more) this.scheduleLoader();
      this.tick();
    });
  }

  private fireDue(now: number): void {
    if (now < this.pausedUntil) return;
    while (this.firingCount < MAX_FIRING && this.firingBytes < MAX_FIRING_BYTES) {
      let best: TimerWindow | undefined;
      for (const w of this.windows.values()) {
        const due = w.heap.topDue;
        if (due > now) continue;
        if (
          !best ||
          due < best.heap.topDue ||
          (due === best.heap.topDue && w.heap.topOffset < best.heap.topOffset)
        ) {
          best = w;
        }
      }
      if (!best) return;
      const due = best.heap.topDue;
      const offset = best.heap.topOffset;
      best.heap.pop();
      if (!this.fire(best, due, offset, now)) return;
    }
  }

  /** Reads the parked record and appends the real message. False: stop firing for now. */
  private fire(w: TimerWindow, due: number, offset: number, now: number): boolean {
    let stored;
    try {
      stored = this.store.getMessageByPhysicalOffset(offset);
    } catch (err) {
      if (err instanceof CorruptRecordError) {
        this.logger.error(
          `timer: parked record at ${offset} is damaged and cannot be delivered: ${err.message}`,
        );
        this.dirty = true;
        return true;
      }
      w.heap.push(due, offset);
      this.failed(now, `reading the parked record at ${offset}`, err);
      return false;
    }
    const real = stored && stored.topic === SCHEDULE_TOPIC ? toRealMessage(stored) : 'record is gone';
    if (typeof real === 'string') {
      this.logger.error(
        `timer: cannot deliver the parked record at ${offset} (${SCHEDULE_TOPIC}/${w.queueId}): ${real}`,
      );
      this.dirty = true;
      return true;
    }
    const size = stored!.size;
    const messageId = real.messageId;
    w.firing.set(offset, due);
    this.firingCount++;
    this.firingBytes += size;
    this.track(
      this.store.append(real).then(
        () => {
          w.firing.delete(offset);
          this.firingCount--;
          this.firingBytes -= size;
          this.fired++;
          this.dirty = true;
          this.notifyFired(messageId, Math.max(0, this.clock.now() - due));
          this.kick();
        },
        (err: unknown) => {
          w.firing.delete(offset);
          this.firingCount--;
          this.firingBytes -= size;
          w.heap.push(due, offset);
          if (!this.closed) this.failed(this.now(), `delivering ${messageId} to ${real.topic}`, err);
          this.kick();
        },
      ),
    );
    return true;
  }

  private failed(now: number, what: string, err: unknown): void {
    if (now >= this.pausedUntil) {
      this.logger.error(
        `timer: ${what} failed: ${(err as Error).message}; retrying in ${FAILURE_BACKOFF_MS} ms`,
      );
    }
    this.pausedUntil = now + FAILURE_BACKOFF_MS;
  }

  private notifyFired(messageId: string, lateByMs: number): void {
    const hook = this.onFired;
    if (!hook) return;
    try {
      hook(messageId, lateByMs);
    } catch (err) {
      this.logger.error(`timer: onFired hook failed: ${(err as Error).message}`);
    }
  }

  /**
   * Closes windows whose bucket is over and fully delivered (or, empty, lies more than a cycle ahead:
   * the clock jumped back). True if any closed.
   */
  private finishWindows(now: number): boolean {
    let finished = false;
    const cycle = this.geometry.bucketCount * this.geometry.bucketMs;
    for (const [q, w] of this.windows) {
      if (w.loading || w.pending > 0 || (w.end > now && w.start <= now + cycle)) continue;
      if (this.parkingBelow(q, w.end) < Infinity) continue;
      const saved = this.progress.queues[q]!;
      // Below the first held-back record everything was delivered; between it and the cursor,
      // everything due before it was.
      saved.offset = w.doneOffset;
      saved.readTo = w.cursor;
      saved.skipBelow = w.held > 0 ? w.heldMinDue : 0;
      this.windows.delete(q);
      this.dirty = true;
      finished = true;
    }
    return finished;
  }

  /** Earliest due time of a park in flight to queue `q` below `limit`; Infinity if none. */
  private parkingBelow(q: number, limit: number): number {
    let min = Infinity;
    for (const p of this.parking.values()) if (p.queueId === q && p.due < limit && p.due < min) min = p.due;
    return min;
  }

  /**
   * Writes progress. For each loaded window: the records it has read ([offset, cursor)) that are due
   * before its earliest undelivered one were delivered, so a restart skips them; if it has nothing
   * undelivered, the queue's offset moves to its cursor. A failed write is retried next interval.
   */
  private persist(now: number): void {
    for (const [q, w] of this.windows) {
      if (w.loading) continue;
      const saved = this.progress.queues[q]!;
      const undelivered = w.undeliveredMin;
      if (undelivered === Infinity) {
        saved.offset = w.cursor;
        saved.readTo = w.cursor;
        saved.skipBelow = 0;
      } else {
        saved.readTo = w.cursor;
        saved.skipBelow = undelivered;
      }
    }
    this.lastPersist = now;
    try {
      writeTimerProgress(this.stateDir, this.progress);
      this.dirty = false;
    } catch (err) {
      this.logger.error(`timer: could not write progress: ${(err as Error).message}; retrying`);
    }
  }

  private arm(now: number): void {
    if (this.closed) return;
    let next = this.geometry.endOf(this.geometry.bucketOf(now));
    if (now < this.pausedUntil) next = Math.min(next, this.pausedUntil);
    else if (this.firingCount < MAX_FIRING && this.firingBytes < MAX_FIRING_BYTES) {
      for (const w of this.windows.values()) if (w.heap.topDue < next) next = w.heap.topDue;
    }
    if (this.dirty) next = Math.min(next, this.lastPersist + this.persistIntervalMs);
    if (this.wake !== undefined) {
      if (this.wakeAt <= next) return;
      this.clock.clearTimeout(this.wake);
    }
    this.wakeAt = next;
    this.wake = this.clock.setTimeout(
      () => {
        this.wake = undefined;
        this.wakeAt = Infinity;
        this.tick();
      },
      Math.max(0, next - now),
    );
  }
}

/**
 * One bucket being fired: the queue of SCHEDULE_TOPIC that holds bucket `index`, read from the
 * queue's durable offset into a TimerHeap of (due time, physical offset). Bodies are never kept: a
 * record is read to learn its due time, then dropped, and read again when it fires.
 *
 * Records in the queue fall into three kinds while reading:
 *  - inside the saved skip range (offset below `skipTo`, due before `skipBelow`): delivered before
 *    the last restart, skipped;
 *  - due before the window's end: loaded into the heap;
 *  - due at or after the end: a later lap of the same queue (only after downtime or a geometry
 *    change); held back — not loaded, the queue's offset will not advance past the first one, and
 *    it is read again when the queue's next window opens.
 */
import type { MessageStore, StoreLogger } from '../../store/index.js';
import { SCHEDULE_TOPIC } from '../limits.js';
import { TimerHeap } from './timer-heap.js';
import { deliverAtOf } from './timer-message.js';

/** Records per read while loading: one `getMessages` call, then the event loop gets a turn. */
const LOAD_CHUNK = 1024;
const LOAD_CHUNK_BYTES = 4 * 1024 * 1024;

export class TimerWindow {
  readonly heap = new TimerHeap();
  /** Fired, real append not yet acknowledged: physical offset → due time. */
  readonly firing = new Map<number, number>();
  /** Next queue offset to read; everything below was read (or was below the queue's minimum). */
  cursor: number;
  /** Queue offset of the first held-back record (a later lap); Infinity when none. */
  heldFrom = Infinity;
  held = 0;
  /** Earliest due time among held-back records; Infinity when none. */
  heldMinDue = Infinity;
  /** True while records between `cursor` and the queue's end are unread. */
  loading = true;

  constructor(
    /** Bucket number: the window covers [start, end). */
    readonly index: number,
    readonly queueId: number,
    readonly start: number,
    readonly end: number,
    fromOffset: number,
    /** The queue's saved skip range when the window opened: see timer-progress.ts. */
    readonly skipTo: number,
    readonly skipBelow: number,
  ) {
    this.cursor = fromOffset;
  }

  /** Earliest due time among loaded, firing and held-back records: all others read were delivered. */
  get undeliveredMin(): number {
    return Math.min(this.heap.topDue, this.firingMin, this.heldMinDue);
  }

  /** Smallest due time among fired-but-unacknowledged entries. */
  get firingMin(): number {
    let min = Infinity;
    for (const due of this.firing.values()) if (due < min) min = due;
    return min;
  }

  /** Reads one chunk of the queue into the heap. Returns true once the queue's end was reached. */
  readChunk(store: MessageStore, logger: StoreLogger, now: number): boolean {
    const maxOffset = store.maxOffset(SCHEDULE_TOPIC, this.queueId);
    if (this.cursor >= maxOffset) {
      // A store that lost its tail in a crash may end below our saved offset: new records will be
      // written from its end, so read from there.
      this.cursor = maxOffset;
      this.finishLoading();
      return true;
    }
    if (this.heap.size === 0) this.heap.reserve(Math.min(maxOffset - this.cursor, 1 << 20));
    const result = store.getMessages(SCHEDULE_TOPIC, this.queueId, this.cursor, LOAD_CHUNK, {
      maxBytes: LOAD_CHUNK_BYTES,
    });
    for (const m of result.messages) {
      let due = deliverAtOf(m);
      if (due === undefined) {
        // Not ours or damaged properties: deliver it now rather than keep it forever.
        logger.warn(
          `timer: parked record ${m.messageId} at ${SCHEDULE_TOPIC}/${this.queueId}@${m.queueOffset} has no valid due time; delivering now`,
        );
        due = now;
      }
      if (m.queueOffset < this.skipTo && due < this.skipBelow) continue;
      if (due < this.end) {
        // push, not append + heapify: the window may fire from a partly loaded heap.
        this.heap.push(due, m.physicalOffset);
      } else this.hold(due, m.queueOffset);
    }
    if (result.nextOffset > this.cursor) this.cursor = result.nextOffset;
    else {
      // The store always moves past what it read (holes, damaged records); never spin here.
      logger.error(
        `timer: no progress reading ${SCHEDULE_TOPIC}/${this.queueId} at ${this.cursor}; skipping one entry`,
      );
      this.cursor++;
    }
    if (this.cursor >= store.maxOffset(SCHEDULE_TOPIC, this.queueId)) {
      this.finishLoading();
      return true;
    }
    return false;
  }

  /** A parked record acknowledged after loading finished, at `queueOffset` (the queue's end). */
  addAppended(due: number, queueOffset: number, physicalOffset: number): void {
    if (due < this.end) this.heap.push(due, physicalOffset);
    else this.hold(due, queueOffset);
    this.cursor = queueOffset + 1;
  }

  private hold(due: number, queueOffset: number): void {
    if (queueOffset < this.heldFrom) this.heldFrom = queueOffset;
    if (due < this.heldMinDue) this.heldMinDue = due;
    this.held++;
  }

  /** The queue offset below which nothing is left for this window (finished windows only). */
  get doneOffset(): number {
    return Math.min(this.heldFrom, this.cursor);
  }

  get pending(): number {
    return this.heap.size + this.firing.size;
  }

  private finishLoading(): void {
    this.loading = false;
  }
}

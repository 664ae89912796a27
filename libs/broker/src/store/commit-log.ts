import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { type StoreLogger } from './dispatch-request.js';
import { CommitLogSegment } from './commit-log-segment.js';
import { DiskFullError, MessageBodyTooLargeError, StoreIOError } from './errors.js';
import { listOffsetFiles, offsetFileName } from './file-names.js';
import { PREALLOCATING_SUFFIX, SegmentAllocator } from './segment-allocator.js';
import {
  BLANK_RECORD_SIZE,
  recordBuffer,
  encodeHost,
  encodeRecord,
  measureRecord,
  type MessageToStore,
  type RecordPlacement,
  recordSizeBound,
  writeBlank,
} from './message-record.js';

export interface CommitLogOptions {
  /** `<storeDir>/commitlog` */
  readonly dir: string;
  readonly segmentSize: number;
  /**
   * Prepare (zero-fill) the next segment on a background thread before it is needed: appends then
   * overwrite cached pages instead of faulting in fresh ones, and fdatasync hits allocated blocks.
   * Off for an embedded broker so an idle one does not fill a developer's disk.
   */
  readonly preallocate: boolean;
  readonly logger: StoreLogger;
  /** `ip:port` written into every record as the store host. */
  readonly storeHost?: string;
}

/** Smallest segment we accept: tests use tiny segments to exercise roll-over. */
export const MIN_SEGMENT_SIZE = 4096;

/**
 * Staging buffer: appends are encoded here synchronously and written with one pwrite per batch
 * (RocketMQ's transientStorePool, in spirit). Big enough for the largest record.
 */
const STAGING_SIZE = 8 * 1024 * 1024;

function ioError(operation: string, err: unknown): Error {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new DiskFullError(err) : new StoreIOError(operation, err);
}

/**
 * The single append-only log of all topics, in fixed-size segment files. Offsets are logical
 * positions in the whole log; segment N holds `[N.start, N.start + segmentSize)`.
 *
 * Three positions move forward: `writeOffset` (assigned to appends, some only staged in memory),
 * `committedOffset` (written to the file, visible to readers) and, tracked by the FlushService,
 * the flushed offset (durable).
 */
export class CommitLog {
  private readonly segments: CommitLogSegment[] = [];
  private readonly staging = Buffer.allocUnsafeSlow(STAGING_SIZE);
  private readonly stagingTarget = recordBuffer(this.staging);
  private stagingStart = 0;
  private stagingLength = 0;
  private writePosition = 0;
  private readonly storeHost: Buffer;
  /** Reused for every record: one object fewer per append. */
  private readonly placement: { -readonly [K in keyof RecordPlacement]: RecordPlacement[K] };
  private readonly allocator: SegmentAllocator | undefined;

  constructor(private readonly options: CommitLogOptions) {
    if (!Number.isInteger(options.segmentSize) || options.segmentSize < MIN_SEGMENT_SIZE) {
      throw new RangeError(`segmentSize must be an integer ≥ ${MIN_SEGMENT_SIZE}`);
    }
    this.storeHost = encodeHost(options.storeHost ?? '127.0.0.1:0');
    this.placement = { physicalOffset: 0, queueOffset: 0, storeTimestamp: 0, storeHost: this.storeHost };
    mkdirSync(options.dir, { recursive: true });
    if (options.preallocate) this.allocator = SegmentAllocator.start(options.logger);
  }

  get segmentSize(): number {
    return this.options.segmentSize;
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Bytes a stored-host field takes in each record (IPv4 8, IPv6 20). */
  get storeHostBytes(): number {
    return this.storeHost.length;
  }

  /** Opens the existing segments. The write position is set by `setEnd` once recovery found the end. */
  load(): void {
    for (const name of readdirSync(this.options.dir)) {
      if (name.endsWith(PREALLOCATING_SUFFIX)) rmSync(join(this.options.dir, name), { force: true });
    }
    for (const start of listOffsetFiles(this.options.dir)) {
      if (start % this.options.segmentSize !== 0) {
        throw new StoreIOError(
          'load',
          new Error(
            `segment ${start} is not aligned to the segment size ${this.options.segmentSize}; was it changed?`,
          ),
        );
      }
      this.segments.push(CommitLogSegment.open(this.options.dir, start, this.options.segmentSize, false));
    }
  }

  /** First offset still on disk (moves up as retention deletes segments). */
  get minOffset(): number {
    return this.segments[0]?.startOffset ?? this.writePosition;
  }

  /** Offset of the next append (includes staged records). */
  get writeOffset(): number {
    return this.writePosition;
  }

  /** Everything below this is in the file and readable. */
  get committedOffset(): number {
    return this.stagingStart;
  }

  get hasStaged(): boolean {
    return this.stagingLength > 0;
  }

  allSegments(): readonly CommitLogSegment[] {
    return this.segments;
  }

  segmentFor(offset: number): CommitLogSegment | undefined {
    const s = this.segments[this.firstSegmentEndingAfter(offset)];
    return s && s.startOffset <= offset ? s : undefined;
  }

  /** Index of the first segment whose end lies beyond `offset` (binary search; segments are sorted). */
  private firstSegmentEndingAfter(offset: number): number {
    const segs = this.segments;
    let lo = 0;
    let hi = segs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (segs[mid]!.startOffset + segs[mid]!.size <= offset) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Recovery decided where the log ends: cut the segment there, drop anything after it, and
   * continue appending from `offset`. Cutting (rather than keeping a preallocated zero tail) also
   * erases stale bytes that a later crash recovery could otherwise take for valid records.
   */
  setEnd(offset: number): void {
    while (this.segments.length > 0 && this.segments[this.segments.length - 1]!.startOffset > offset) {
      const dropped = this.segments.pop()!;
      this.options.logger.warn(
        `removed segment ${dropped.path}: it lies beyond the end of the log (preallocated or torn)`,
      );
      dropped.destroy();
    }
    const last = this.segments[this.segments.length - 1];
    if (last && last.startOffset + last.size > offset && last.stat().size > offset - last.startOffset) {
      last.truncate(offset);
    }
    this.writePosition = offset;
    this.stagingStart = offset;
    this.stagingLength = 0;
  }

  /**
   * Validates `message` and encodes it into the staging buffer; returns its physical offset (its
   * size is `writeOffset` minus that, right after). Synchronous; `commit()` later writes the batch.
   * A rejected message (typed validation error) leaves the log as it was; an I/O error from a commit
   * this forces (staging full, segment roll-over) loses what was staged, as `commit` says.
   * `indexHashes` receives the record's key/id index hashes (see encodeRecord).
   */
  append(
    message: MessageToStore,
    queueOffset: number,
    storeTimestamp: number,
    indexHashes?: number[],
  ): number {
    const segmentSize = this.options.segmentSize;
    let offset = this.writePosition;
    const segmentEnd = offset - (offset % segmentSize) + segmentSize;
    // Usually a bound from string lengths shows the record fits here, and encodeRecord validates as
    // it writes. Near the end of a segment (or for a huge message) the exact size decides:
    // measureRecord validates first, so a roll-over only happens for a message that will be stored.
    let room = recordSizeBound(message, this.storeHost.length);
    if (room > STAGING_SIZE || offset + room + BLANK_RECORD_SIZE > segmentEnd) {
      room = measureRecord(message, this.storeHost.length).totalSize;
      if (room + BLANK_RECORD_SIZE > segmentSize) {
        const overhead = room - message.body.length;
        throw new MessageBodyTooLargeError(message.body.length, segmentSize - BLANK_RECORD_SIZE - overhead);
      }
      if (offset + room + BLANK_RECORD_SIZE > segmentEnd) {
        // A record never spans two segments: mark this one's tail with a blank record (only its
        // header is written; the rest of the tail stays sparse or zero) and move to the next.
        this.reserveStaging(BLANK_RECORD_SIZE);
        writeBlank(this.staging, this.stagingLength, segmentEnd - offset);
        this.stagingLength += BLANK_RECORD_SIZE;
        this.commit();
        this.stagingStart = segmentEnd;
        this.writePosition = segmentEnd;
        offset = segmentEnd;
      }
    }
    this.reserveStaging(room);
    this.ensureSegment(offset);
    const placement = this.placement;
    placement.physicalOffset = offset;
    placement.queueOffset = queueOffset;
    placement.storeTimestamp = storeTimestamp;
    const size = encodeRecord(this.stagingTarget, this.stagingLength, message, placement, indexHashes);
    this.stagingLength += size;
    this.writePosition = offset + size;
    return offset;
  }

  private reserveStaging(size: number): void {
    if (this.stagingLength + size > STAGING_SIZE) this.commit();
  }

  private ensureSegment(offset: number): void {
    const last = this.segments[this.segments.length - 1];
    if (last && offset < last.startOffset + last.size) return;
    const size = this.options.segmentSize;
    const start = offset - (offset % size);
    let segment: CommitLogSegment;
    try {
      const prepared = this.allocator?.take(join(this.options.dir, offsetFileName(start))) ?? false;
      segment = CommitLogSegment.open(this.options.dir, start, size, !prepared);
    } catch (err) {
      throw ioError('create segment', err);
    }
    this.segments.push(segment);
    this.allocator?.prepare(join(this.options.dir, offsetFileName(start + size)), size);
  }

  /**
   * With preallocation, prepares the segment the next append will open if it does not exist yet (a
   * new log, or an end exactly at a boundary), waiting at most `timeoutMs`: otherwise the first
   * segment of every new store would be the one cold segment. No-op without preallocation.
   */
  async prepareNextSegment(timeoutMs: number): Promise<void> {
    if (!this.allocator) return;
    const size = this.options.segmentSize;
    const start = this.writePosition - (this.writePosition % size);
    if (this.segmentFor(this.writePosition)) return;
    await this.allocator.prepareAndWait(join(this.options.dir, offsetFileName(start)), size, timeoutMs);
  }

  /** Writes staged records to their segment (one pwrite). Throws DiskFullError / StoreIOError. */
  commit(): void {
    if (this.stagingLength === 0) return;
    const segment = this.segmentFor(this.stagingStart);
    if (!segment) throw new StoreIOError('commit', new Error(`no segment for offset ${this.stagingStart}`));
    try {
      segment.write(this.staging, 0, this.stagingLength, this.stagingStart);
    } catch (err) {
      // Nothing staged is stored: rewind so the same positions are written again next time.
      this.writePosition = this.stagingStart;
      this.stagingLength = 0;
      throw ioError('write', err);
    }
    this.stagingStart += this.stagingLength;
    this.stagingLength = 0;
  }

  /** Drops staged, uncommitted records (used when an append batch fails validation midway). */
  discardStaged(): void {
    this.writePosition = this.stagingStart;
    this.stagingLength = 0;
  }

  /**
   * fdatasyncs every segment holding bytes in `[from, to)`, one after another, then calls back.
   * The FlushService guarantees one call in flight.
   */
  sync(from: number, to: number, callback: (err: Error | null) => void): void {
    // Usually one segment (two across a roll-over), found by binary search rather than a scan per
    // sync, and collected before the first await: retention may drop head segments meanwhile.
    const pending: CommitLogSegment[] = [];
    for (let i = this.firstSegmentEndingAfter(from); i < this.segments.length; i++) {
      const segment = this.segments[i]!;
      if (segment.startOffset >= to) break;
      pending.push(segment);
    }
    const next = (i: number): void => {
      if (i >= pending.length) return callback(null);
      pending[i]!.sync((err) => (err ? callback(ioError('fdatasync', err)) : next(i + 1)));
    };
    next(0);
  }

  /** Reads committed bytes `[offset, offset + length)` (which must lie in one segment) into `buf`. */
  read(buf: Buffer, bufOffset: number, offset: number, length: number): number {
    const segment = this.segmentFor(offset);
    if (!segment) return 0;
    const limit = Math.min(offset + length, segment.startOffset + segment.size, this.stagingStart);
    if (limit <= offset) return 0;
    return segment.read(buf, bufOffset, limit - offset, offset);
  }

  /** Deletes the oldest segment (retention). Never the one being written. */
  deleteOldest(): CommitLogSegment | undefined {
    if (this.segments.length <= 1) return undefined;
    const segment = this.segments[0]!;
    if (segment.startOffset + segment.size > this.stagingStart) return undefined;
    this.segments.shift();
    segment.destroy();
    return segment;
  }

  async close(): Promise<void> {
    for (const s of this.segments) s.close();
    await this.allocator?.close();
  }
}

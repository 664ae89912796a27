import { type CommitLogSegment } from './commit-log-segment.js';
import { checkRecord, MESSAGE_MAGIC, MIN_RECORD_SIZE, type RecordCheck } from './message-record.js';

/** A damaged stretch of the log that recovery stepped over: reported, never served. */
export interface CorruptRange {
  readonly file: string;
  readonly fileOffset: number;
  readonly physicalOffset: number;
  /** First offset after the damage (the next valid record). */
  readonly resumeOffset: number;
  readonly reason: string;
}

/** Where the log was cut because nothing valid follows (a torn or garbage tail). */
export interface TruncatedTail {
  readonly file: string;
  readonly fileOffset: number;
  readonly physicalOffset: number;
  readonly reason: string;
}

export interface ScanResult {
  /** Offset just past the last valid record: the log's end. */
  readonly endOffset: number;
  readonly corruptions: readonly CorruptRange[];
  readonly truncated: TruncatedTail | undefined;
  readonly records: number;
}

/** Visits each valid message record: `buf[pos…]` holds it; the buffer is reused after the call. */
export type RecordVisitor = (buf: Buffer, pos: number, physicalOffset: number, size: number) => void;

const WINDOW_SIZE = 4 * 1024 * 1024;
const MAGIC_BYTES = Buffer.from([
  (MESSAGE_MAGIC >>> 24) & 0xff,
  (MESSAGE_MAGIC >>> 16) & 0xff,
  (MESSAGE_MAGIC >>> 8) & 0xff,
  MESSAGE_MAGIC & 0xff,
]);

/**
 * Reads a segment through a sliding window so that memory stays bounded whatever the segment size.
 */
class SegmentWindow {
  private buf = Buffer.allocUnsafe(WINDOW_SIZE);
  private start = 0;
  private length = 0;
  private fileSize = 0;

  constructor(private segment: CommitLogSegment) {
    this.fileSize = segment.stat().size;
  }

  use(segment: CommitLogSegment): void {
    this.segment = segment;
    this.fileSize = segment.stat().size;
    this.length = 0;
  }

  /** Last readable log offset of this segment (file size may be below the segment size). */
  get end(): number {
    return this.segment.startOffset + Math.min(this.fileSize, this.segment.size);
  }

  /** Makes `[offset, offset + want)` resident if the file has it; returns the buffer view. */
  at(offset: number, want: number): { buf: Buffer; pos: number; available: number } {
    const need = Math.min(want, this.end - offset);
    if (offset < this.start || offset + need > this.start + this.length) {
      if (need > this.buf.length) this.buf = Buffer.allocUnsafe(need);
      this.start = offset;
      this.length = this.segment.read(this.buf, 0, Math.min(this.buf.length, this.end - offset), offset);
    }
    return { buf: this.buf, pos: offset - this.start, available: this.start + this.length - offset };
  }
}

/**
 * Validates the commit log forward from `from` (a record boundary known to be durable), calling
 * `visit` for each valid message. A bad record followed by valid ones (the stored physical offset
 * lets us find the next real record) is a damaged record in the middle: reported and skipped. A bad
 * record with nothing valid after it is a torn or garbage tail: the log ends there.
 */
export function scanCommitLog(
  segments: readonly CommitLogSegment[],
  from: number,
  visit?: RecordVisitor,
): ScanResult {
  const corruptions: CorruptRange[] = [];
  let records = 0;
  if (segments.length === 0) return { endOffset: from, corruptions, truncated: undefined, records };
  let index = segments.findIndex((s) => s.contains(from));
  if (index < 0) {
    const last = segments[segments.length - 1]!;
    if (from >= last.endOffset) return { endOffset: from, corruptions, truncated: undefined, records };
    index = segments.findIndex((s) => s.startOffset > from);
    from = segments[index]!.startOffset;
  }
  let segment = segments[index]!;
  const window = new SegmentWindow(segment);
  let offset = from;

  for (;;) {
    const { view, check } = checkAt(window, offset);
    if (check.kind === 'message') {
      visit?.(view.buf, view.pos, offset, check.size);
      records++;
      offset += check.size;
      continue;
    }
    if (check.kind === 'blank' && offset + check.size === segment.endOffset) {
      const next = segments[index + 1];
      if (!next || next.startOffset !== segment.endOffset) {
        return { endOffset: segment.endOffset, corruptions, truncated: undefined, records };
      }
      index++;
      segment = next;
      window.use(segment);
      offset = segment.startOffset;
      continue;
    }
    if (check.kind === 'end') return { endOffset: offset, corruptions, truncated: undefined, records };

    const reason =
      check.kind === 'blank' ? `blank record of ${check.size} bytes does not end the segment` : check.reason;
    const resume = findNextRecord(segments, index, window, offset);
    const damage = {
      file: segment.path,
      fileOffset: offset - segment.startOffset,
      physicalOffset: offset,
      reason,
    };
    if (resume === undefined) return { endOffset: offset, corruptions, truncated: damage, records };
    corruptions.push({ ...damage, resumeOffset: resume.offset });
    if (resume.index !== index) {
      index = resume.index;
      segment = segments[index]!;
      window.use(segment);
    }
    offset = resume.offset;
  }
}

/**
 * Looks past a damaged record for the next record that validates at its own position: first in
 * the rest of this segment (searching for the magic), then at the start of the next segment.
 */
function findNextRecord(
  segments: readonly CommitLogSegment[],
  index: number,
  window: SegmentWindow,
  damagedAt: number,
): { index: number; offset: number } | undefined {
  let searchFrom = damagedAt + 1;
  while (searchFrom + MIN_RECORD_SIZE <= window.end) {
    const view = window.at(searchFrom, WINDOW_SIZE);
    const hit = view.buf.subarray(view.pos, view.pos + view.available).indexOf(MAGIC_BYTES);
    if (hit < 0) {
      searchFrom += Math.max(1, view.available - MAGIC_BYTES.length + 1);
      continue;
    }
    const candidate = searchFrom + hit - 4;
    if (candidate > damagedAt && validAt(window, candidate)) return { index, offset: candidate };
    searchFrom = searchFrom + hit + 1;
  }
  const next = segments[index + 1];
  if (next) {
    const probe = new SegmentWindow(next);
    if (validAt(probe, next.startOffset)) return { index: index + 1, offset: next.startOffset };
  }
  return undefined;
}

function validAt(window: SegmentWindow, offset: number): boolean {
  return checkAt(window, offset).check.kind === 'message';
}

/** Checks the record at `offset`, re-reading once if the window cut a plausible record short. */
function checkAt(
  window: SegmentWindow,
  offset: number,
): { view: ReturnType<SegmentWindow['at']>; check: RecordCheck } {
  let view = window.at(offset, MIN_RECORD_SIZE);
  let check = checkRecord(view.buf, view.pos, view.available, offset);
  if (
    check.kind === 'corrupt' &&
    check.size !== undefined &&
    check.size > view.available &&
    offset + check.size <= window.end
  ) {
    view = window.at(offset, check.size);
    check = checkRecord(view.buf, view.pos, view.available, offset);
  }
  return { view, check };
}

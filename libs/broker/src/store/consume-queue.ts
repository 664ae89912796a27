import {
  closeSync,
  constants as fsConstants,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  readSync,
  rmdirSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { StatusCode, type StatusCodeValue } from '../status-code.js';
import { consoleStoreLogger, type StoreLogger } from './dispatch-request.js';
import {
  DiskFullError,
  IllegalQueueIdError,
  IllegalTopicError,
  StoreClosedError,
  StoreError,
  StoreIOError,
} from './errors.js';
import { listOffsetFiles, offsetFileName } from './file-names.js';
import { CONSUME_QUEUE_ENTRIES_PER_FILE, MAX_STORED_TOPIC_BYTES } from './limits.js';
import { readInt64, readUInt64, setInt64, setUint64, writeInt64, writeUInt64 } from './uint64.js';

/**
 * A consume queue: the per-(topic, queue) index into the commit log, as RocketMQ's ConsumeQueue.
 *
 * Layout: `<root>/<topic>/<queueId>/<20-digit byte offset of the file's first entry>`, each file
 * holding `entriesPerFile` fixed 20-byte entries `[physicalOffset u64][size u32][tagsCode i64]`,
 * big-endian. Entry `q` is at byte `(q % entriesPerFile) * 20` of file `floor(q / entriesPerFile)`.
 * Files grow as they are written (no preallocation); positions past a file's end read as zeros.
 *
 * Holes: an entry whose size is 0 (we write them as 20 zero bytes) is not a message. They appear
 * when a put skips queue offsets (which should not happen), before the first entry of a queue
 * rebuilt from a retention-trimmed log, and wherever a file is missing or short. Readers skip
 * them; `maxOffset` never ends on one (trailing holes are dropped on load and truncation). A real
 * entry always has size > 0, so `size === 0` is the hole test.
 *
 * Writes: `put` encodes the entry into an in-memory staging buffer that always holds the tail
 * `[stageStart, maxOffset)`; `commit` writes it with one positional `writeSync` per file touched;
 * `flush` commits and then `fdatasync`s the files written (and `fsync`s directories whose entries
 * changed) since the previous flush. Writes are positional, so re-running a failed commit is safe:
 * a failed commit keeps its staged entries and throws.
 *
 * Reads see staged entries: they are served straight from the staging buffer (no commit, no
 * syscall), committed ones with one `readSync` per file touched.
 *
 * Memory: besides the staging buffer (at most `maxStagedEntries`, released after a large commit)
 * and one small file record per file, nothing is kept per entry. File descriptors come from an
 * {@link FdPool} (an LRU shared by all queues of a store): a queue's files are opened on demand
 * and the least recently used descriptor is closed when the pool is full. Closing a descriptor of
 * a file that is still to be flushed is harmless: `flush` reopens it and `fdatasync` covers every
 * write made through any descriptor of the file.
 */

export const CQ_ENTRY_SIZE = 20;

/** Staged entries beyond which `put` commits by itself (80 KiB of staging). */
export const CQ_MAX_STAGED_ENTRIES = 4096;

/**
 * Entries a filtered `read` examines by default when the caller gives no `maxExamined`.
 * RocketMQ scans at most `max(16000 B, maxMsgNums × 20 B)` of consume queue per pull (800
 * entries); one 80 KiB read is as cheap here and lets a consumer of a rare tag move faster.
 */
export const CQ_DEFAULT_MAX_EXAMINED = 4096;

/** Hard cap on entries examined by one `read`, whatever the caller asks (1.25 MiB of entries). */
export const CQ_MAX_EXAMINED = 65_536;

/** Default size of the descriptor pool shared by the consume queues of one store. */
export const CQ_DEFAULT_MAX_OPEN_FILES = 512;

/** Entries read at a time when scanning for a non-hole entry. */
const SCAN_CHUNK = 4096;
/** Staging buffers up to this size survive a commit; larger ones are released (idle queues stay small). */
const KEPT_STAGE_ENTRIES = 64;
/** Entries cached around a re-put of a committed offset (recovery re-dispatches sequentially). */
const VERIFY_CHUNK = 1024;
/** Per-queue limit on "entry overwritten" warnings between loads. */
const OVERWRITE_WARN_LIMIT = 10;

/** RocketMQ `TopicValidator.VALID_PATTERN_STR`; `%` and `|` appear in retry, DLQ and LMQ topics. */
const TOPIC_PATTERN = /^[%|a-zA-Z0-9_-]+$/;

export interface ConsumeQueueEntry {
  readonly queueOffset: number;
  readonly physicalOffset: number;
  readonly size: number;
  readonly tagsCode: number;
}

/** Told when a queue starts needing a commit or a flush, so a store tracks dirty queues only. */
export interface ConsumeQueueListener {
  /** The queue went from nothing staged to something staged. */
  staged(queue: ConsumeQueue): void;
  /** The queue went from fully flushed to having unflushed writes. */
  unflushed(queue: ConsumeQueue): void;
}

export interface ConsumeQueueOptions {
  /** The consume-queue root (`<storeDir>/consumequeue`); the queue lives in `<dir>/<topic>/<queueId>`. */
  dir: string;
  topic: string;
  queueId: number;
  entriesPerFile?: number;
  logger?: StoreLogger;
  /** Descriptor pool; defaults to one shared by every queue created without one. */
  fdPool?: FdPool;
  listener?: ConsumeQueueListener;
  /** Staged entries beyond which `put` commits by itself; default {@link CQ_MAX_STAGED_ENTRIES}. */
  maxStagedEntries?: number;
}

/** A consume queue was asked something impossible, or its files do not fit its settings. */
export class ConsumeQueueError extends StoreError {
  constructor(message: string, code: StatusCodeValue = StatusCode.INTERNAL_SERVER_ERROR) {
    super(code, message);
  }
}

/** True for names RocketMQ accepts as topics, which are also safe as one directory name. */
export function isLegalTopicName(topic: string): boolean {
  return topic.length > 0 && topic.length <= MAX_STORED_TOPIC_BYTES && TOPIC_PATTERN.test(topic);
}

export function isLegalQueueId(queueId: number): boolean {
  return Number.isInteger(queueId) && queueId >= 0 && queueId <= 0xffff;
}

/** Throws the typed error for a topic or queue id that must not become a directory. */
export function checkQueueName(topic: string, queueId: number): void {
  if (!isLegalTopicName(topic)) {
    throw new IllegalTopicError(
      topic,
      `must match ${TOPIC_PATTERN.source} and be at most ${MAX_STORED_TOPIC_BYTES} chars`,
    );
  }
  if (!isLegalQueueId(queueId)) throw new IllegalQueueIdError(queueId);
}

function ioError(operation: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ENOSPC' || code === 'EDQUOT' ? new DiskFullError(err) : new StoreIOError(operation, err);
}

function isErrno(err: unknown, ...codes: string[]): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code !== undefined && codes.includes(code);
}

/** A file whose descriptor the pool manages. `fd` is -1 while closed. */
export interface PooledFile {
  readonly path: string;
  fd: number;
}

/**
 * An LRU of open descriptors. `fd(file)` opens on demand (read-write, created if missing) and
 * closes the least recently used descriptor beyond `capacity`. Everything is synchronous, so a
 * descriptor is only used between its `fd()` and the next `fd()` of another file.
 */
export class FdPool {
  private readonly lru = new Map<PooledFile, true>();
  private newest: PooledFile | undefined;

  constructor(readonly capacity: number = CQ_DEFAULT_MAX_OPEN_FILES) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new ConsumeQueueError(`descriptor pool capacity must be a positive integer, got ${capacity}`);
    }
  }

  /** Descriptors currently open. */
  get size(): number {
    return this.lru.size;
  }

  fd(file: PooledFile): number {
    if (file.fd >= 0) {
      if (this.newest !== file) {
        this.lru.delete(file);
        this.lru.set(file, true);
        this.newest = file;
      }
      return file.fd;
    }
    file.fd = openSync(file.path, fsConstants.O_RDWR | fsConstants.O_CREAT, 0o644);
    this.lru.set(file, true);
    this.newest = file;
    while (this.lru.size > this.capacity) {
      const oldest = this.lru.keys().next().value as PooledFile;
      this.close(oldest);
    }
    return file.fd;
  }

  close(file: PooledFile): void {
    if (file.fd < 0) return;
    const fd = file.fd;
    file.fd = -1;
    this.lru.delete(file);
    if (this.newest === file) this.newest = undefined;
    closeSync(fd);
  }
}

const defaultFdPool = new FdPool();

interface QueueFile extends PooledFile {
  /** File number: the file holds queue offsets `[index × entriesPerFile, (index + 1) × entriesPerFile)`. */
  readonly index: number;
  /** Bytes in the file as far as this process knows (it is the only writer). */
  size: number;
}

/** `[q, q + n)` of the queue: `buf` from `pos` (n × 20 bytes), or no buffer for a missing file (all holes). */
interface Span {
  readonly n: number;
  readonly buf: Buffer | undefined;
  readonly pos: number;
}

function encodeEntry(buf: Buffer, pos: number, physicalOffset: number, size: number, tagsCode: number): void {
  writeUInt64(buf, physicalOffset, pos);
  buf.writeUInt32BE(size, pos + 8);
  writeInt64(buf, tagsCode, pos + 12);
}

/** `encodeEntry` through a DataView: the append path runs it once per message. */
function encodeEntryInView(
  view: DataView,
  pos: number,
  physicalOffset: number,
  size: number,
  tagsCode: number,
): void {
  setUint64(view, pos, physicalOffset);
  view.setUint32(pos + 8, size);
  setInt64(view, pos + 12, tagsCode);
}

function decodeEntry(buf: Buffer, pos: number, queueOffset: number): ConsumeQueueEntry {
  return {
    queueOffset,
    physicalOffset: readUInt64(buf, pos),
    size: buf.readUInt32BE(pos + 8),
    tagsCode: readInt64(buf, pos + 12),
  };
}

function isHoleAt(buf: Buffer, pos: number): boolean {
  return buf.readUInt32BE(pos + 8) === 0;
}

function checkEntry(queueOffset: number, physicalOffset: number, size: number, tagsCode: number): void {
  if (
    !Number.isSafeInteger(queueOffset) ||
    queueOffset < 0 ||
    !Number.isSafeInteger(physicalOffset) ||
    physicalOffset < 0 ||
    !Number.isInteger(size) ||
    size <= 0 ||
    size > 0xffff_ffff ||
    !Number.isSafeInteger(tagsCode)
  ) {
    throw new ConsumeQueueError(
      `invalid consume-queue entry: queueOffset=${queueOffset} physicalOffset=${physicalOffset} size=${size} tagsCode=${tagsCode}`,
    );
  }
}

export class ConsumeQueue {
  readonly topic: string;
  readonly queueId: number;
  /** `<root>/<topic>/<queueId>` */
  readonly directory: string;
  readonly entriesPerFile: number;

  private readonly fileBytes: number;
  private readonly logger: StoreLogger;
  private readonly pool: FdPool;
  private readonly listener: ConsumeQueueListener | undefined;
  private readonly maxStaged: number;

  /** Files by index, and their indexes ascending (there may be gaps: a missing file is all holes). */
  private readonly files = new Map<number, QueueFile>();
  private fileIndexes: number[] = [];

  private min = 0;
  private max = 0;

  /** Staged tail `[stageStart, stageStart + stageCount)`, always ending at `max`. */
  private stage: Buffer | undefined;
  /** A DataView of `stage` for the hot append path (inlined, unlike Buffer#writeUInt32BE). */
  private stageView: DataView | undefined;
  private stageStart = 0;
  private stageCount = 0;

  /** Cached committed entries, kept only while re-puts of committed offsets arrive (recovery). */
  private verifyStart = 0;
  private verifyCount = 0;
  private verifyBuf: Buffer | undefined;

  /** The entry at `max - 1` (never a hole), or `tailOffset = -1` when the queue has none. */
  private tailOffset = -1;
  private tailPhysical = 0;
  private tailSize = 0;
  private tailTags = 0;

  private readonly dirtyFiles = new Set<QueueFile>();
  private readonly dirtyDirs = new Set<string>();
  private flushPending = false;
  /** Highest `minPhysicalOffset` already applied by `deleteExpired`. */
  private expiredBelow = -1;
  private overwriteWarnings = 0;
  private closed = false;

  constructor(options: ConsumeQueueOptions) {
    checkQueueName(options.topic, options.queueId);
    const entriesPerFile = options.entriesPerFile ?? CONSUME_QUEUE_ENTRIES_PER_FILE;
    if (!Number.isInteger(entriesPerFile) || entriesPerFile < 1) {
      throw new ConsumeQueueError(`entriesPerFile must be a positive integer, got ${entriesPerFile}`);
    }
    const maxStaged = options.maxStagedEntries ?? CQ_MAX_STAGED_ENTRIES;
    if (!Number.isInteger(maxStaged) || maxStaged < 1) {
      throw new ConsumeQueueError(`maxStagedEntries must be a positive integer, got ${maxStaged}`);
    }
    this.topic = options.topic;
    this.queueId = options.queueId;
    this.directory = join(options.dir, options.topic, String(options.queueId));
    this.entriesPerFile = entriesPerFile;
    this.fileBytes = entriesPerFile * CQ_ENTRY_SIZE;
    this.logger = options.logger ?? consoleStoreLogger;
    this.pool = options.fdPool ?? defaultFdPool;
    this.listener = options.listener;
    this.maxStaged = maxStaged;
  }

  private get name(): string {
    return `consume queue ${this.topic}/${this.queueId}`;
  }

  // ------------------------------------------------------------------ lifecycle

  /**
   * Opens the queue's files. `maxOffset` comes from the last file's size: a partial trailing entry
   * and trailing holes are cut off (an all-hole last file is deleted). `minOffset` is the first
   * non-hole entry: call `deleteExpired(commitLog.minOffset)` afterwards to move it past entries
   * whose records retention already deleted (RocketMQ's `correctMinOffset`). May be called again
   * to reopen a closed queue.
   */
  load(): void {
    this.releaseDescriptors();
    this.resetState();
    this.closed = false;
    let offsets: number[];
    try {
      offsets = listOffsetFiles(this.directory);
    } catch (err) {
      throw ioError(`listing ${this.directory}`, err);
    }
    for (const offset of offsets) {
      const path = join(this.directory, offsetFileName(offset));
      if (offset % this.fileBytes !== 0) {
        throw new ConsumeQueueError(
          `${path} does not start on a multiple of ${this.fileBytes} bytes: was entriesPerFile (${this.entriesPerFile}) changed?`,
        );
      }
      let size: number;
      try {
        size = statSync(path).size;
      } catch (err) {
        throw ioError(`stat ${path}`, err);
      }
      if (size > this.fileBytes) {
        throw new ConsumeQueueError(
          `${path} holds ${size} bytes, more than ${this.fileBytes}: was entriesPerFile (${this.entriesPerFile}) changed?`,
        );
      }
      const file: QueueFile = { index: offset / this.fileBytes, path, fd: -1, size };
      this.files.set(file.index, file);
      this.fileIndexes.push(file.index);
    }

    while (this.fileIndexes.length > 0) {
      const file = this.files.get(this.fileIndexes[this.fileIndexes.length - 1]!)!;
      const start = file.index * this.entriesPerFile;
      this.max = start + Math.floor(file.size / CQ_ENTRY_SIZE);
      const last = this.lastNonHole(start, this.max);
      if (last) {
        const keep = (last.queueOffset - start + 1) * CQ_ENTRY_SIZE;
        if (file.size > keep) {
          this.logger.warn(
            `${this.name}: cut ${file.size - keep} bytes of holes or partial entry off ${file.path}`,
          );
          this.truncateFile(file, keep);
        }
        this.max = last.queueOffset + 1;
        this.setTail(last);
        break;
      }
      this.logger.warn(`${this.name}: ${file.path} holds no entries; deleted`);
      this.max = start;
      this.deleteFile(file);
    }
    for (const index of this.fileIndexes.slice(0, -1)) {
      const file = this.files.get(index)!;
      if (file.size < this.fileBytes) {
        this.logger.warn(
          `${this.name}: ${file.path} is short (${file.size} bytes); its missing entries read as holes`,
        );
      }
    }
    if (this.fileIndexes.length === 0) {
      this.min = this.max;
      return;
    }
    const first = this.nextNonHole(this.fileIndexes[0]! * this.entriesPerFile, this.max);
    this.min = first ? first.queueOffset : this.max;
  }

  /** Commits, flushes and closes the descriptors. Reopen with `load()`. */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.releaseDescriptors();
      this.closed = true;
    }
  }

  /** Closes and deletes the queue's files and directory (and the topic directory once empty). */
  destroy(): void {
    try {
      this.releaseDescriptors();
    } catch {
      // The files are being deleted: a failed close loses nothing.
    }
    this.resetState();
    this.closed = true;
    try {
      rmSync(this.directory, { recursive: true, force: true });
    } catch (err) {
      throw ioError(`deleting ${this.directory}`, err);
    }
    try {
      rmdirSync(dirname(this.directory));
    } catch {
      // Other queues of the topic remain, or it is already gone.
    }
  }

  // ------------------------------------------------------------------ offsets

  get minOffset(): number {
    return this.min;
  }

  get maxOffset(): number {
    return this.max;
  }

  /** Entries staged but not yet written to the files. */
  get stagedCount(): number {
    return this.stageCount;
  }

  // ------------------------------------------------------------------ writes

  /**
   * Puts the entry for `queueOffset`. Positional and idempotent:
   * - `queueOffset === maxOffset`: appended (staged) — the hot path;
   * - in an empty queue (no files, nothing staged), any offset starts the queue there;
   * - beyond `maxOffset`: a gap (warned), left as holes;
   * - below `maxOffset`: compared with what is stored; the same entry is a no-op, a different one
   *   (or a hole) is overwritten and warned;
   * - below `minOffset`: ignored (retention already dropped it).
   */
  put(queueOffset: number, physicalOffset: number, size: number, tagsCode: number): void {
    this.ensureOpen();
    checkEntry(queueOffset, physicalOffset, size, tagsCode);
    if (queueOffset !== this.max || (this.fileIndexes.length === 0 && this.stageCount === 0)) {
      this.putSlow(queueOffset, physicalOffset, size, tagsCode);
      return;
    }
    this.append(queueOffset, physicalOffset, size, tagsCode);
  }

  private append(queueOffset: number, physicalOffset: number, size: number, tagsCode: number): void {
    if (this.stageCount >= this.maxStaged) this.commit();
    if (this.stageCount === 0) {
      this.stageStart = queueOffset;
      this.listener?.staged(this);
    }
    const needed = (this.stageCount + 1) * CQ_ENTRY_SIZE;
    if (!this.stage || this.stage.length < needed) this.growStage(needed);
    encodeEntryInView(this.stageView!, this.stageCount * CQ_ENTRY_SIZE, physicalOffset, size, tagsCode);
    this.stageCount++;
    this.max = queueOffset + 1;
    this.tailOffset = queueOffset;
    this.tailPhysical = physicalOffset;
    this.tailSize = size;
    this.tailTags = tagsCode;
    if (this.verifyBuf) this.dropVerifyCache();
  }

  private growStage(needed: number): void {
    let bytes = Math.max(this.stage?.length ?? 0, KEPT_STAGE_ENTRIES * CQ_ENTRY_SIZE);
    while (bytes < needed) bytes *= 2;
    bytes = Math.min(bytes, this.maxStaged * CQ_ENTRY_SIZE);
    const grown = Buffer.allocUnsafe(Math.max(bytes, needed));
    if (this.stage && this.stageCount > 0) this.stage.copy(grown, 0, 0, this.stageCount * CQ_ENTRY_SIZE);
    this.stage = grown;
    this.stageView = new DataView(grown.buffer, grown.byteOffset, grown.byteLength);
  }

  private putSlow(queueOffset: number, physicalOffset: number, size: number, tagsCode: number): void {
    if (this.fileIndexes.length === 0 && this.stageCount === 0) {
      if (queueOffset !== this.max) this.logger.log(`${this.name}: starts at queue offset ${queueOffset}`);
      this.min = queueOffset;
      this.max = queueOffset;
      this.append(queueOffset, physicalOffset, size, tagsCode);
      return;
    }
    if (queueOffset > this.max) {
      this.logger.warn(
        `${this.name}: put at queue offset ${queueOffset} but the queue ends at ${this.max}; ` +
          `offsets ${this.max}..${queueOffset - 1} are left as holes`,
      );
      this.commit();
      this.max = queueOffset;
      this.append(queueOffset, physicalOffset, size, tagsCode);
      return;
    }
    if (queueOffset < this.min) return;

    let buf: Buffer;
    let pos: number;
    let staged = false;
    if (this.stageCount > 0 && queueOffset >= this.stageStart) {
      buf = this.stage!;
      pos = (queueOffset - this.stageStart) * CQ_ENTRY_SIZE;
      staged = true;
    } else {
      if (
        !this.verifyBuf ||
        queueOffset < this.verifyStart ||
        queueOffset >= this.verifyStart + this.verifyCount
      ) {
        this.fillVerifyCache(queueOffset);
      }
      buf = this.verifyBuf!;
      pos = (queueOffset - this.verifyStart) * CQ_ENTRY_SIZE;
    }
    const oldSize = buf.readUInt32BE(pos + 8);
    const oldPhysical = readUInt64(buf, pos);
    if (oldPhysical === physicalOffset && oldSize === size && readInt64(buf, pos + 12) === tagsCode) return;

    this.warnOverwrite(
      queueOffset,
      oldSize === 0 ? 'a hole' : `physical offset ${oldPhysical} size ${oldSize}`,
      physicalOffset,
    );
    encodeEntry(buf, pos, physicalOffset, size, tagsCode);
    if (!staged) {
      const fileIndex = Math.floor(queueOffset / this.entriesPerFile);
      const position = (queueOffset - fileIndex * this.entriesPerFile) * CQ_ENTRY_SIZE;
      try {
        this.writeAt(this.fileForWrite(fileIndex), buf, pos, CQ_ENTRY_SIZE, position, 'overwrite');
      } catch (err) {
        this.dropVerifyCache(); // it now holds an entry that did not reach the file
        throw err;
      }
    }
    if (queueOffset === this.max - 1) {
      this.tailPhysical = physicalOffset;
      this.tailSize = size;
      this.tailTags = tagsCode;
    }
  }

  private fillVerifyCache(queueOffset: number): void {
    const committedEnd = this.stageCount > 0 ? this.stageStart : this.max;
    const s = this.span(queueOffset, Math.min(VERIFY_CHUNK, committedEnd - queueOffset));
    const n = Math.min(s.n, VERIFY_CHUNK);
    const buf = Buffer.alloc(n * CQ_ENTRY_SIZE);
    if (s.buf) s.buf.copy(buf, 0, s.pos, s.pos + n * CQ_ENTRY_SIZE);
    this.verifyBuf = buf;
    this.verifyStart = queueOffset;
    this.verifyCount = n;
  }

  private dropVerifyCache(): void {
    this.verifyBuf = undefined;
    this.verifyCount = 0;
  }

  private warnOverwrite(queueOffset: number, old: string, physicalOffset: number): void {
    this.overwriteWarnings++;
    if (this.overwriteWarnings <= OVERWRITE_WARN_LIMIT) {
      this.logger.warn(
        `${this.name}: queue offset ${queueOffset} held ${old}; overwritten with physical offset ${physicalOffset}` +
          (this.overwriteWarnings === OVERWRITE_WARN_LIMIT
            ? ' (further overwrites of this queue are not logged)'
            : ''),
      );
    }
  }

  /** Writes every staged entry: one `writeSync` per file touched. */
  commit(): void {
    this.ensureOpen();
    if (this.stageCount === 0) return;
    const stage = this.stage!;
    let q = this.stageStart;
    let pos = 0;
    let left = this.stageCount;
    while (left > 0) {
      const fileIndex = Math.floor(q / this.entriesPerFile);
      const inFile = q - fileIndex * this.entriesPerFile;
      const n = Math.min(left, this.entriesPerFile - inFile);
      const bytes = n * CQ_ENTRY_SIZE;
      this.writeAt(this.fileForWrite(fileIndex), stage, pos, bytes, inFile * CQ_ENTRY_SIZE, 'commit');
      q += n;
      pos += bytes;
      left -= n;
    }
    this.stageCount = 0;
    if (stage.length > KEPT_STAGE_ENTRIES * CQ_ENTRY_SIZE) {
      this.stage = undefined;
      this.stageView = undefined;
    }
  }

  /** Commits, then makes everything written so far durable. */
  flush(): void {
    this.commit();
    for (const file of this.dirtyFiles) {
      try {
        fdatasyncSync(this.pool.fd(file));
      } catch (err) {
        throw ioError(`fdatasync ${file.path}`, err);
      }
      this.dirtyFiles.delete(file);
    }
    for (const dir of this.dirtyDirs) {
      syncDirectory(dir);
      this.dirtyDirs.delete(dir);
    }
    this.flushPending = false;
  }

  /**
   * `flush()` with the fdatasyncs off the event loop. fdatasync covers the file whatever
   * descriptor is used, so each dirty file gets a descriptor of its own (never one the LRU pool
   * may close mid-sync). Entries committed before the call are durable when it resolves.
   */
  async flushAsync(): Promise<void> {
    this.commit();
    const files = [...this.dirtyFiles];
    const dirs = [...this.dirtyDirs];
    this.dirtyFiles.clear();
    this.dirtyDirs.clear();
    this.flushPending = false;
    try {
      for (const file of files) await datasyncPath(file.path);
      for (const dir of dirs) await datasyncPath(dir);
    } catch (err) {
      for (const file of files) this.dirtyFiles.add(file);
      for (const dir of dirs) this.dirtyDirs.add(dir);
      this.flushPending = true;
      throw ioError('fdatasync', err);
    }
  }

  // ------------------------------------------------------------------ reads

  /**
   * Up to `maxCount` entries from `offset` (clamped to `[minOffset, maxOffset]`). Holes and
   * entries whose tag hash fails `accept` are skipped but count as examined; at most
   * `maxExamined` entries are examined (default `maxCount` unfiltered, else
   * `max(maxCount, CQ_DEFAULT_MAX_EXAMINED)`; never more than `CQ_MAX_EXAMINED`). Missing files
   * are skipped without counting. `nextOffset` is the offset after the last entry examined.
   */
  read(
    offset: number,
    maxCount: number,
    accept?: (tagsCode: number) => boolean,
    maxExamined?: number,
  ): { entries: ConsumeQueueEntry[]; nextOffset: number } {
    this.ensureOpen();
    if (!Number.isSafeInteger(offset)) {
      throw new ConsumeQueueError(`illegal queue offset ${offset}`, StatusCode.ILLEGAL_OFFSET);
    }
    let q = Math.min(Math.max(offset, this.min), this.max);
    const entries: ConsumeQueueEntry[] = [];
    if (!(maxCount >= 1) || q >= this.max) return { entries, nextOffset: q };
    const wanted = Math.floor(maxCount);
    const requested =
      maxExamined === undefined || Number.isNaN(maxExamined)
        ? accept
          ? Math.max(wanted, CQ_DEFAULT_MAX_EXAMINED)
          : wanted
        : maxExamined;
    const limit = Math.max(1, Math.min(Math.floor(requested), CQ_MAX_EXAMINED));
    let examined = 0;
    while (q < this.max && examined < limit) {
      const s = this.span(q, limit - examined);
      const buf = s.buf;
      if (!buf) {
        q += s.n;
        continue;
      }
      for (let i = 0; i < s.n; i++) {
        const at = s.pos + i * CQ_ENTRY_SIZE;
        const size = buf.readUInt32BE(at + 8);
        if (size === 0) continue;
        const tagsCode = readInt64(buf, at + 12);
        if (accept && !accept(tagsCode)) continue;
        entries.push({ queueOffset: q + i, physicalOffset: readUInt64(buf, at), size, tagsCode });
        if (entries.length >= wanted) return { entries, nextOffset: q + i + 1 };
      }
      examined += s.n;
      q += s.n;
    }
    return { entries, nextOffset: q };
  }

  /** The entry at `queueOffset`, or undefined outside `[minOffset, maxOffset)` or on a hole. */
  entryAt(queueOffset: number): ConsumeQueueEntry | undefined {
    this.ensureOpen();
    if (!Number.isSafeInteger(queueOffset) || queueOffset < this.min || queueOffset >= this.max)
      return undefined;
    const s = this.span(queueOffset, 1);
    if (!s.buf || isHoleAt(s.buf, s.pos)) return undefined;
    return decodeEntry(s.buf, s.pos, queueOffset);
  }

  /** The entry at `maxOffset - 1` (staged or not; even when retention moved `minOffset` past it). */
  lastEntry(): ConsumeQueueEntry | undefined {
    if (this.tailOffset < 0) return undefined;
    return {
      queueOffset: this.tailOffset,
      physicalOffset: this.tailPhysical,
      size: this.tailSize,
      tagsCode: this.tailTags,
    };
  }

  /**
   * First queue offset in `[minOffset, maxOffset)` whose entry satisfies `pred`, which must be
   * monotone (false…false true…true) in queue offset; `maxOffset` if none. Binary search: about
   * log2(entries) 20-byte reads (holes are resolved to the next real entry).
   */
  search(pred: (entry: ConsumeQueueEntry) => boolean): number {
    this.ensureOpen();
    const at = this.lowerBound(this.min, this.max, pred);
    if (at >= this.max) return this.max;
    const entry = this.nextNonHole(at, this.max);
    return entry ? entry.queueOffset : this.max;
  }

  // ------------------------------------------------------------------ recovery and retention

  /**
   * Removes every entry whose record ends past `maxPhysicalOffset` (the commit log was truncated
   * there), with the holes just before them: files are cut with `ftruncate`, files left empty are
   * deleted. `minOffset` follows `maxOffset` down if needed.
   */
  truncateByPhysicalOffset(maxPhysicalOffset: number): void {
    this.ensureOpen();
    this.commit();
    if (this.tailOffset < 0 || this.tailPhysical + this.tailSize <= maxPhysicalOffset) return;
    const before = this.max;
    const removed = (e: ConsumeQueueEntry): boolean => e.physicalOffset + e.size > maxPhysicalOffset;
    let newMax = this.max;
    while (this.fileIndexes.length > 0) {
      const file = this.files.get(this.fileIndexes[this.fileIndexes.length - 1]!)!;
      const start = file.index * this.entriesPerFile;
      const cut = this.lowerBound(start, Math.min(start + this.entriesPerFile, newMax), removed);
      if (cut > start) {
        const bytes = (cut - start) * CQ_ENTRY_SIZE;
        if (file.size > bytes) this.truncateFile(file, bytes);
        newMax = cut;
        break;
      }
      this.deleteFile(file);
      newMax = start;
    }
    this.max = newMax;
    if (this.min > this.max || this.fileIndexes.length === 0) this.min = this.max;
    this.dropVerifyCache();
    this.expiredBelow = -1;
    const tail =
      this.fileIndexes.length > 0
        ? this.lastNonHole(this.fileIndexes[0]! * this.entriesPerFile, this.max)
        : undefined;
    if (tail) this.setTail(tail);
    else this.tailOffset = -1;
    this.logger.log(
      `${this.name}: truncated to the commit log end ${maxPhysicalOffset}: max offset ${before} -> ${this.max}`,
    );
  }

  /**
   * Deletes whole files (never the last one) whose last entry starts below `minPhysicalOffset`
   * — its record is gone from the commit log — then moves `minOffset` to the first entry at or
   * past `minPhysicalOffset` (binary search within the first remaining file). Returns the number
   * of files deleted. Cheap when called again with the same or a lower offset.
   */
  deleteExpired(minPhysicalOffset: number): number {
    this.ensureOpen();
    if (minPhysicalOffset <= this.expiredBelow) return 0;
    this.commit();
    let deleted = 0;
    while (this.fileIndexes.length > 1) {
      const file = this.files.get(this.fileIndexes[0]!)!;
      const start = file.index * this.entriesPerFile;
      const last = this.lastNonHole(start, Math.min(start + this.entriesPerFile, this.max));
      if (last && last.physicalOffset >= minPhysicalOffset) break;
      this.deleteFile(file);
      deleted++;
    }
    if (this.fileIndexes.length > 0) {
      const firstStart = this.fileIndexes[0]! * this.entriesPerFile;
      const from = Math.max(this.min, firstStart);
      const to =
        this.fileIndexes.length > 1 ? Math.min(firstStart + this.entriesPerFile, this.max) : this.max;
      let at = this.lowerBound(from, to, (e) => e.physicalOffset >= minPhysicalOffset);
      if (at < this.max) at = this.nextNonHole(at, this.max)?.queueOffset ?? this.max;
      this.min = Math.max(this.min, at);
    }
    this.expiredBelow = minPhysicalOffset;
    if (deleted > 0) {
      this.logger.log(`${this.name}: deleted ${deleted} expired file(s); min offset is now ${this.min}`);
    }
    return deleted;
  }

  // ------------------------------------------------------------------ internals

  private ensureOpen(): void {
    if (this.closed) throw new StoreClosedError();
  }

  private resetState(): void {
    this.files.clear();
    this.fileIndexes = [];
    this.min = 0;
    this.max = 0;
    this.stage = undefined;
    this.stageView = undefined;
    this.stageStart = 0;
    this.stageCount = 0;
    this.dropVerifyCache();
    this.tailOffset = -1;
    this.dirtyFiles.clear();
    this.dirtyDirs.clear();
    this.flushPending = false;
    this.expiredBelow = -1;
    this.overwriteWarnings = 0;
  }

  private releaseDescriptors(): void {
    let failure: unknown;
    for (const file of this.files.values()) {
      try {
        this.pool.close(file);
      } catch (err) {
        failure ??= err;
      }
    }
    if (failure !== undefined) throw ioError(`closing ${this.name}`, failure);
  }

  private setTail(entry: ConsumeQueueEntry): void {
    this.tailOffset = entry.queueOffset;
    this.tailPhysical = entry.physicalOffset;
    this.tailSize = entry.size;
    this.tailTags = entry.tagsCode;
  }

  private markFlushPending(): void {
    if (this.flushPending) return;
    this.flushPending = true;
    this.listener?.unflushed(this);
  }

  private fd(file: QueueFile): number {
    try {
      return this.pool.fd(file);
    } catch (err) {
      throw ioError(`opening ${file.path}`, err);
    }
  }

  private fileForWrite(index: number): QueueFile {
    const existing = this.files.get(index);
    if (existing) return existing;
    let created: string | undefined;
    try {
      created = mkdirSync(this.directory, { recursive: true });
    } catch (err) {
      throw ioError(`creating ${this.directory}`, err);
    }
    if (created !== undefined) {
      // New directory entries from the first one created up to ours must reach the disk too.
      for (let dir = this.directory; ; dir = dirname(dir)) {
        this.dirtyDirs.add(dir);
        if (dir === created || dirname(dir) === dir) break;
      }
      this.dirtyDirs.add(dirname(created));
    }
    const file: QueueFile = {
      index,
      path: join(this.directory, offsetFileName(index * this.fileBytes)),
      fd: -1,
      size: 0,
    };
    this.fd(file);
    this.files.set(index, file);
    const last = this.fileIndexes[this.fileIndexes.length - 1];
    if (last === undefined || last < index) this.fileIndexes.push(index);
    else {
      this.fileIndexes.push(index);
      this.fileIndexes.sort((a, b) => a - b);
    }
    this.dirtyDirs.add(this.directory);
    this.markFlushPending();
    return file;
  }

  private writeAt(
    file: QueueFile,
    buf: Buffer,
    offset: number,
    length: number,
    position: number,
    op: string,
  ): void {
    const fd = this.fd(file);
    try {
      let done = 0;
      while (done < length) done += writeSync(fd, buf, offset + done, length - done, position + done);
    } catch (err) {
      throw ioError(`${op} of ${file.path}`, err);
    }
    if (position + length > file.size) file.size = position + length;
    this.dirtyFiles.add(file);
    this.markFlushPending();
  }

  private truncateFile(file: QueueFile, bytes: number): void {
    try {
      ftruncateSync(this.fd(file), bytes);
    } catch (err) {
      throw ioError(`truncating ${file.path}`, err);
    }
    file.size = bytes;
    this.dirtyFiles.add(file);
    this.markFlushPending();
  }

  private deleteFile(file: QueueFile): void {
    try {
      this.pool.close(file);
    } catch {
      // The descriptor is gone either way.
    }
    try {
      unlinkSync(file.path);
    } catch (err) {
      if (!isErrno(err, 'ENOENT')) throw ioError(`deleting ${file.path}`, err);
    }
    this.files.delete(file.index);
    this.fileIndexes = this.fileIndexes.filter((i) => i !== file.index);
    this.dirtyFiles.delete(file);
    this.dirtyDirs.add(this.directory);
    this.markFlushPending();
  }

  /**
   * Entries `[q, q + n)` with `1 <= n <= cap` (`q < maxOffset`), never crossing a file or the
   * staged/committed boundary. Staged entries are a view of the staging buffer; committed ones
   * are read with one `readSync` (bytes past the file's end read as holes). A missing file gives
   * no buffer and covers the rest of that file's range, whatever `cap`.
   */
  private span(q: number, cap: number): Span {
    if (this.stageCount > 0 && q >= this.stageStart) {
      return {
        n: Math.min(cap, this.stageStart + this.stageCount - q),
        buf: this.stage,
        pos: (q - this.stageStart) * CQ_ENTRY_SIZE,
      };
    }
    const committedEnd = this.stageCount > 0 ? this.stageStart : this.max;
    const fileIndex = Math.floor(q / this.entriesPerFile);
    const fileStart = fileIndex * this.entriesPerFile;
    const regionEnd = Math.min(fileStart + this.entriesPerFile, committedEnd);
    const file = this.files.get(fileIndex);
    if (!file) return { n: regionEnd - q, buf: undefined, pos: 0 };
    const n = Math.min(cap, regionEnd - q);
    const bytes = n * CQ_ENTRY_SIZE;
    const position = (q - fileStart) * CQ_ENTRY_SIZE;
    const buf = Buffer.allocUnsafe(bytes);
    const available = Math.max(0, Math.min(bytes, file.size - position));
    let got = 0;
    if (available > 0) {
      const fd = this.fd(file);
      try {
        while (got < available) {
          const r = readSync(fd, buf, got, available - got, position + got);
          if (r === 0) break;
          got += r;
        }
      } catch (err) {
        throw ioError(`reading ${file.path}`, err);
      }
    }
    if (got < bytes) buf.fill(0, got);
    return { n, buf, pos: 0 };
  }

  /** First non-hole entry in `[from, to)`; probes one entry first, then reads in growing chunks. */
  private nextNonHole(from: number, to: number): ConsumeQueueEntry | undefined {
    let q = from;
    let chunk = 1;
    while (q < to) {
      const s = this.span(q, Math.min(chunk, to - q));
      const n = Math.min(s.n, to - q);
      if (s.buf) {
        for (let i = 0; i < n; i++) {
          const at = s.pos + i * CQ_ENTRY_SIZE;
          if (!isHoleAt(s.buf, at)) return decodeEntry(s.buf, at, q + i);
        }
      }
      q += n;
      chunk = Math.min(chunk * 64, SCAN_CHUNK);
    }
    return undefined;
  }

  /** Last non-hole entry in `[from, to)`, scanning backwards: the last entry first, then chunks. */
  private lastNonHole(from: number, to: number): ConsumeQueueEntry | undefined {
    let end = to;
    let chunk = 1;
    while (end > from) {
      const start = Math.max(from, end - chunk);
      let found: ConsumeQueueEntry | undefined;
      for (let q = start; q < end;) {
        const s = this.span(q, end - q);
        const n = Math.min(s.n, end - q);
        if (s.buf) {
          for (let i = n - 1; i >= 0; i--) {
            const at = s.pos + i * CQ_ENTRY_SIZE;
            if (!isHoleAt(s.buf, at)) {
              found = decodeEntry(s.buf, at, q + i);
              break;
            }
          }
        }
        q += n;
      }
      if (found) return found;
      end = start;
      chunk = Math.min(chunk * 64, SCAN_CHUNK);
    }
    return undefined;
  }

  /**
   * First offset in `[lo, hi)` from which `test` holds, for `test` monotone over real entries. A
   * hole counts as the next real entry in `[lo, hi)`, or as true if there is none, so runs of
   * holes just before the answer (or at the end) are included in `[answer, hi)`.
   */
  private lowerBound(lo: number, hi: number, test: (entry: ConsumeQueueEntry) => boolean): number {
    let a = lo;
    let b = hi;
    while (a < b) {
      const mid = a + Math.floor((b - a) / 2);
      const entry = this.nextNonHole(mid, b);
      if (!entry || test(entry)) b = mid;
      else a = entry.queueOffset + 1;
    }
    return a;
  }
}

/** Opens, fdatasyncs and closes `path`; a file deleted meanwhile (retention) needs no sync. */
async function datasyncPath(path: string): Promise<void> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    await handle.datasync();
  } finally {
    await handle.close();
  }
}

function syncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, fsConstants.O_RDONLY);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return;
    throw ioError(`opening directory ${dir}`, err);
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    if (!isErrno(err, 'EINVAL', 'EISDIR')) throw ioError(`fsync of directory ${dir}`, err);
  } finally {
    closeSync(fd);
  }
}

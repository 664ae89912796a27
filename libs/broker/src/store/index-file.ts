import {
  closeSync,
  fdatasyncSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { StatusCode } from '../status-code.js';
import { type StoreLogger } from './dispatch-request.js';
import { DiskFullError, StoreError, StoreIOError } from './errors.js';
import { readUInt64, setUint64, writeUInt64 } from './uint64.js';

/**
 * One index file, in the layout of RocketMQ's IndexFile (PERFORMANCE.md §(d) 3), big-endian:
 *
 * ```
 * header   40 B   beginTimestamp u64 @0, endTimestamp u64 @8, beginPhyOffset u64 @16,
 *                 endPhyOffset u64 @24, hashSlotCount u32 @32, indexCount u32 @36
 * slots    hashSlotCount × 4 B   entry number of the newest entry whose hash maps here (0 = empty)
 * entries  indexCount × 20 B     keyHash i32, phyOffset u64, timeDiff i32, prevIndex u32
 * ```
 *
 * Each slot heads a newest-first chain through `prevIndex`. Differences from RocketMQ, each on purpose:
 * - `hashSlotCount` is the file's slot count (its geometry), not RocketMQ's count of slots in use, so a
 *   file stays readable after the configured slot count changes.
 * - Entries are numbered from 1 as in RocketMQ, but entry n lives at `entriesStart + (n - 1) × 20`
 *   (RocketMQ wastes the 20 bytes of entry 0), and `indexCount` is the number of entries, not the
 *   next entry number.
 * - `beginPhyOffset`/`endPhyOffset` are the min/max offset of the live entries, and `endTimestamp` the
 *   max store timestamp, so they stay true bounds when a re-dispatch or a clock step reorders things.
 * - The file is not preallocated: the slot region is created sparse with ftruncate and entries are
 *   appended, because Node has no mmap and pwrite works the same either way.
 *
 * Only the active (writable) file holds memory: its slot table and a small staging buffer of new
 * entries, written with one `writeSync` per `commit()`. A sealed file is read with positional reads
 * only, so memory does not grow with the number of files.
 *
 * Durability: `flush()` writes entries and dirty slot pages, fdatasyncs, and only then writes the
 * header and fdatasyncs again. The header's `indexCount` is therefore a commit mark: entries 1..indexCount
 * and every slot pointing at them were durable before the header said so. After a crash the file is
 * trusted up to `indexCount`; slots that point further are repaired on load (see `activate`).
 */
export const INDEX_HEADER_SIZE = 40;
export const INDEX_SLOT_SIZE = 4;
export const INDEX_ENTRY_SIZE = 20;

const Header = {
  BEGIN_TIMESTAMP: 0,
  END_TIMESTAMP: 8,
  BEGIN_PHY_OFFSET: 16,
  END_PHY_OFFSET: 24,
  HASH_SLOT_COUNT: 32,
  INDEX_COUNT: 36,
} as const;

const Entry = { KEY_HASH: 0, PHY_OFFSET: 4, TIME_DIFF: 12, PREV_INDEX: 16 } as const;

/** Sanity bound on a header's slot count (a 1 GiB slot table); anything larger is a corrupt header. */
export const MAX_INDEX_SLOTS = 1 << 28;
/** `prevIndex` is a u32; staying below 2^31 keeps every entry number a small positive JS integer. */
export const MAX_INDEX_ENTRIES = 0x7fff_ffff;

/** New entries staged in memory before a write is forced: 80 KiB, whatever the caller's commit rhythm. */
export const INDEX_STAGE_ENTRIES = 4096;
/** Entries read at once when walking a chain (one 4 KiB page): hot keys have dense chains. */
const READ_BLOCK_ENTRIES = 204;
/** Entries per read/write when scanning a whole file (rebuild, truncation): 64 KiB. */
const SCAN_CHUNK_ENTRIES = 3276;
/** Slot table dirty tracking granularity: only changed pages are rewritten at flush. */
const SLOT_PAGE_BYTES = 4096;

/** `timeDiff` counts whole seconds, as in RocketMQ: an i32 of seconds covers 68 years of one file. */
export const INDEX_TIME_UNIT_MS = 1000;
/**
 * Chains are newest-first, so a walk may stop once entries are older than the query's begin. Store
 * timestamps can step back with the wall clock; walking this much further keeps such a step from
 * hiding entries (RocketMQ stops at the first older entry).
 */
const CLOCK_STEP_TOLERANCE_MS = 60_000;
const INT32_MAX = 0x7fff_ffff;
/** A removed entry keeps its place in its chain but has all phyOffset bits set; real offsets are < 2^53. */
const TOMBSTONE_HIGH = 0xffff_ffff;

/** An index file whose header cannot be trusted at all (too short, impossible geometry). */
export class IndexFileCorruptError extends StoreError {
  constructor(
    readonly file: string,
    reason: string,
    /** The file holds nothing (zero length or an all-zero header): a crash right after creating it. */
    readonly empty: boolean,
  ) {
    super(StatusCode.INTERNAL_SERVER_ERROR, `corrupt index file ${file}: ${reason}`);
  }
}

/** The index was used in a state that does not allow it (not loaded, closed, writing a sealed file). */
export class IndexStateError extends StoreError {
  constructor(message: string) {
    super(StatusCode.INTERNAL_SERVER_ERROR, message);
  }
}

/** Invalid IndexService / IndexFile configuration. */
export class IndexOptionsError extends StoreError {
  constructor(message: string) {
    super(StatusCode.INTERNAL_SERVER_ERROR, `invalid index options: ${message}`);
  }
}

/** Maps an fs error to the store's typed errors; typed errors pass through. */
export function toIndexError(operation: string, err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') return new DiskFullError(err);
  return new StoreIOError(operation, err);
}

// ---------------------------------------------------------------------------------------------
// Keys and hashing

/** The index key of a message id: the id alone. */
export function indexKeyForMessageId(messageId: string): string {
  return messageId;
}

/**
 * The index key of a business key. The topic is part of it because RocketMQ queries keys per topic;
 * U+0001 keeps `("ab", "c")` and `("a", "bc")` apart. A message id that happens to equal such a string
 * shares its hash; lookups return candidates and the store checks the record, so that only costs a read.
 */
export function indexKeyForKey(topic: string, key: string): string {
  return `${topic}\u0001${key}`;
}

export { hashIndexKey, hashTopicKey } from './index-hash.js';

// ---------------------------------------------------------------------------------------------
// Reading

/** One lookup in progress, shared by the files it walks. Timestamps are inclusive, ±Infinity when open. */
export interface IndexQuery {
  readonly hash: number;
  readonly maxResults: number;
  readonly beginTimestamp: number;
  readonly endTimestamp: number;
  readonly results: number[];
  readonly seen: Set<number>;
}

/**
 * Reads entries for lookups a block at a time. A block ends at the entry asked for, because chains
 * walk towards lower entry numbers: a hot key's next entry is usually in the block already read.
 * One reader serves one lookup at a time; `reset()` it before each (files may change in between).
 */
export class EntryReader {
  private readonly block = Buffer.allocUnsafe(READ_BLOCK_ENTRIES * INDEX_ENTRY_SIZE);
  private file: IndexFile | undefined;
  private first = 0;
  private count = 0;
  /** Where the last located entry is: `buf` at `pos`. */
  buf: Buffer = this.block;
  pos = 0;

  reset(): void {
    this.file = undefined;
    this.count = 0;
  }

  /** Points `buf`/`pos` at entry `n` of `file`'s on-disk entries; false if the file is too short. */
  locate(file: IndexFile, fd: number, n: number): boolean {
    if (this.file !== file || n < this.first || n >= this.first + this.count) {
      const first = Math.max(1, n - READ_BLOCK_ENTRIES + 1);
      const want = (n - first + 1) * INDEX_ENTRY_SIZE;
      const got = readFully(fd, this.block, 0, want, file.entryPosition(first));
      this.file = file;
      this.first = first;
      this.count = Math.floor(got / INDEX_ENTRY_SIZE);
      if (n >= first + this.count) return false;
    }
    this.buf = this.block;
    this.pos = (n - this.first) * INDEX_ENTRY_SIZE;
    return true;
  }
}

function readFully(fd: number, buf: Buffer, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function writeFully(fd: number, buf: Buffer, offset: number, length: number, position: number): void {
  let done = 0;
  while (done < length) done += writeSync(fd, buf, offset + done, length - done, position + done);
}

function timeDiffSeconds(timestamp: number, base: number): number {
  // Clamped at 0 like RocketMQ: every stored time then lies within [beginTimestamp, endTimestamp],
  // which is what lets a time-bounded lookup skip whole files by their header.
  const diff = Math.floor((timestamp - base) / INDEX_TIME_UNIT_MS);
  return diff < 0 ? 0 : diff > INT32_MAX ? INT32_MAX : diff;
}

interface HeaderValues {
  beginTimestamp: number;
  endTimestamp: number;
  beginPhyOffset: number;
  endPhyOffset: number;
  indexCount: number;
}

const scratch = Buffer.alloc(INDEX_HEADER_SIZE);

// ---------------------------------------------------------------------------------------------

export class IndexFile {
  private fd: number;
  private beginTs: number;
  private endTs: number;
  private beginPhy: number;
  private endPhy: number;
  private count: number;
  /** Entries 1..committed are in the file; the rest (active file only) are in `staging`. */
  private committed: number;
  /** Active file only: the slot table, its dirty pages, and the staged entries. */
  private slots: Buffer | undefined;
  private dirtyPages: Uint8Array | undefined;
  private slotsDirty = false;
  private staging: Buffer | undefined;
  private slotsView: DataView | undefined;
  private stagingView: DataView | undefined;
  /** Entries/slots written since the last fdatasync. */
  private dataDirty = false;
  /** In-memory header differs from the one on disk. */
  private headerDirty = false;
  /** The header did not agree with the file when it was opened. */
  private inconsistent = false;
  private corruptionLogged = false;

  private constructor(
    readonly path: string,
    readonly slotCount: number,
    header: HeaderValues,
    fd: number,
    private readonly logger: StoreLogger,
  ) {
    this.fd = fd;
    this.beginTs = header.beginTimestamp;
    this.endTs = header.endTimestamp;
    this.beginPhy = header.beginPhyOffset;
    this.endPhy = header.endPhyOffset;
    this.count = header.indexCount;
    this.committed = header.indexCount;
  }

  /** Creates a new, empty, active file (replacing any file at `path`). */
  static create(path: string, slotCount: number, logger: StoreLogger): IndexFile {
    if (!Number.isInteger(slotCount) || slotCount < 1 || slotCount > MAX_INDEX_SLOTS) {
      throw new IndexOptionsError(`slot count ${slotCount} is not an integer in [1, ${MAX_INDEX_SLOTS}]`);
    }
    let fd = -1;
    try {
      fd = openSync(path, 'w+');
      const empty = { beginTimestamp: 0, endTimestamp: 0, beginPhyOffset: 0, endPhyOffset: 0, indexCount: 0 };
      const file = new IndexFile(path, slotCount, empty, fd, logger);
      file.writeHeader();
      // Sparse: the slot region reads as zeros (all slots empty) without writing 2 MB up front.
      ftruncateSync(fd, file.entryPosition(1));
      file.dataDirty = true;
      file.becomeActive(Buffer.alloc(slotCount * INDEX_SLOT_SIZE));
      return file;
    } catch (err) {
      if (fd >= 0) closeSync(fd);
      throw toIndexError(`creating index file ${path}`, err);
    }
  }

  /**
   * Opens an existing file read/write and checks its header against its size. Throws
   * IndexFileCorruptError if the header is unusable; a header that claims more entries than the file
   * holds is clamped (and logged) and the file is marked inconsistent. The file starts sealed.
   */
  static open(path: string, logger: StoreLogger): IndexFile {
    let fd = -1;
    try {
      fd = openSync(path, 'r+');
      const size = fstatSync(fd).size;
      const h = scratch;
      const got = size >= INDEX_HEADER_SIZE ? readFully(fd, h, 0, INDEX_HEADER_SIZE, 0) : 0;
      if (got < INDEX_HEADER_SIZE)
        throw new IndexFileCorruptError(path, `${size} bytes, shorter than a header`, true);
      const slotCount = h.readUInt32BE(Header.HASH_SLOT_COUNT);
      const header: HeaderValues = {
        beginTimestamp: readUInt64(h, Header.BEGIN_TIMESTAMP),
        endTimestamp: readUInt64(h, Header.END_TIMESTAMP),
        beginPhyOffset: readUInt64(h, Header.BEGIN_PHY_OFFSET),
        endPhyOffset: readUInt64(h, Header.END_PHY_OFFSET),
        indexCount: h.readUInt32BE(Header.INDEX_COUNT),
      };
      if (slotCount === 0 || slotCount > MAX_INDEX_SLOTS) {
        throw new IndexFileCorruptError(
          path,
          `impossible slot count ${slotCount}`,
          h.every((b) => b === 0),
        );
      }
      const entriesStart = INDEX_HEADER_SIZE + slotCount * INDEX_SLOT_SIZE;
      if (size < entriesStart) {
        throw new IndexFileCorruptError(path, `${size} bytes cannot hold ${slotCount} slots`, false);
      }
      const file = new IndexFile(path, slotCount, header, fd, logger);
      const available = Math.floor((size - entriesStart) / INDEX_ENTRY_SIZE);
      if (header.indexCount > available) {
        logger.warn(
          `index file ${path}: header counts ${header.indexCount} entries but the file holds ${available}; ` +
            'entries past that are treated as absent',
        );
        file.count = file.committed = available;
        file.inconsistent = true;
      }
      const h64 = [header.beginTimestamp, header.endTimestamp, header.beginPhyOffset, header.endPhyOffset];
      if (
        h64.some((v) => v > Number.MAX_SAFE_INTEGER) ||
        (file.count > 0 &&
          (header.beginPhyOffset > header.endPhyOffset || header.beginTimestamp > header.endTimestamp))
      ) {
        logger.warn(`index file ${path}: header ranges are impossible`);
        file.inconsistent = true;
      }
      return file;
    } catch (err) {
      if (fd >= 0) closeSync(fd);
      throw toIndexError(`opening index file ${path}`, err);
    }
  }

  get indexCount(): number {
    return this.count;
  }
  get beginTimestamp(): number {
    return this.beginTs;
  }
  get endTimestamp(): number {
    return this.endTs;
  }
  get beginPhyOffset(): number {
    return this.beginPhy;
  }
  get endPhyOffset(): number {
    return this.endPhy;
  }
  /** Writable: holds its slot table in memory. */
  get isActive(): boolean {
    return this.slots !== undefined;
  }
  /** Holds an open file descriptor. */
  get isOpen(): boolean {
    return this.fd >= 0;
  }
  /** The header did not agree with the file when opened (a crash mid-flush or damage). */
  get wasInconsistent(): boolean {
    return this.inconsistent;
  }

  /** Byte position of entry `n` (n ≥ 1). */
  entryPosition(n: number): number {
    return INDEX_HEADER_SIZE + this.slotCount * INDEX_SLOT_SIZE + (n - 1) * INDEX_ENTRY_SIZE;
  }

  /** Could this file hold an entry stored within [begin, end]? */
  overlaps(beginTimestamp: number, endTimestamp: number): boolean {
    return this.count > 0 && this.endTs >= beginTimestamp && this.beginTs <= endTimestamp;
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  /** Re-opens the descriptor of a file whose descriptor was released. */
  ensureOpen(): void {
    if (this.fd >= 0) return;
    try {
      this.fd = openSync(this.path, 'r+');
    } catch (err) {
      throw toIndexError(`opening index file ${this.path}`, err);
    }
  }

  /** Closes the descriptor of a sealed file; the next read re-opens it. */
  releaseFd(): void {
    if (this.slots) throw new IndexStateError(`index file ${this.path} is active; flush and seal it first`);
    this.closeFd();
  }

  /**
   * Makes a loaded file writable: reads its slot table into memory, repairs the table if the header
   * was inconsistent or a slot points past `indexCount` (a crash between the two fdatasyncs of a
   * flush), and cuts off entries past `indexCount` (committed but never flushed), which new entries
   * will overwrite anyway. Those entries are lost; the message store re-dispatches from its
   * checkpoint, which is never ahead of the last index flush.
   */
  activate(): void {
    if (this.slots) return;
    this.ensureOpen();
    try {
      const slots = Buffer.alloc(this.slotCount * INDEX_SLOT_SIZE);
      readFully(this.fd, slots, 0, slots.length, INDEX_HEADER_SIZE);
      let pointsPast = 0;
      for (let pos = 0; pos < slots.length; pos += INDEX_SLOT_SIZE) {
        if (slots.readUInt32BE(pos) > this.count) pointsPast++;
      }
      if (pointsPast > 0) {
        this.logger.warn(
          `index file ${this.path}: ${pointsPast} slots point past entry ${this.count} (unflushed at a crash); ` +
            'rebuilding the slot table',
        );
      }
      this.becomeActive(slots);
      const repair = pointsPast > 0 || this.inconsistent;
      if (repair) this.rebuildSlots();
      const end = this.entryPosition(this.count + 1);
      if (fstatSync(this.fd).size > end) ftruncateSync(this.fd, end);
      // Make the repair durable now rather than at the next checkpoint: a second crash then finds a
      // consistent file instead of repeating the repair on a file that was truncated under it.
      if (repair) this.flush();
    } catch (err) {
      this.slots = this.staging = this.dirtyPages = undefined;
      throw toIndexError(`activating index file ${this.path}`, err);
    }
  }

  private becomeActive(slots: Buffer): void {
    this.slots = slots;
    this.dirtyPages = new Uint8Array(Math.ceil(slots.length / SLOT_PAGE_BYTES));
    this.staging = Buffer.allocUnsafe(INDEX_STAGE_ENTRIES * INDEX_ENTRY_SIZE);
    // The append path writes through DataViews: ~8× cheaper than Buffer's read/write methods.
    this.slotsView = new DataView(slots.buffer, slots.byteOffset, slots.byteLength);
    this.stagingView = new DataView(this.staging.buffer, this.staging.byteOffset, this.staging.byteLength);
    this.committed = this.count;
  }

  /**
   * Rebuilds the slot table by replaying entries 1..indexCount in order, which the two-step flush made
   * durable before the header counted them (and entries committed after that flush are genuine too).
   * Replay is also a check: a genuine entry's prevIndex is exactly the head its slot had when it was
   * added, so the first entry that disagrees (or is all zeros, or holds an impossible offset or time)
   * is where trustworthy data ends; it and everything after it are treated as absent. Also recomputes
   * the offset range and end time from what is kept, which `maxPhysicalOffset` (re-dispatch) relies on.
   */
  private rebuildSlots(): void {
    const slots = this.slots!;
    slots.fill(0);
    const chunk = Buffer.allocUnsafe(SCAN_CHUNK_ENTRIES * INDEX_ENTRY_SIZE);
    let minPhy = Number.POSITIVE_INFINITY;
    let maxPhy = -1;
    let maxDiff = 0;
    let kept = 0;
    let reason = '';
    scan: for (let first = 1; first <= this.count; first += SCAN_CHUNK_ENTRIES) {
      const n = Math.min(SCAN_CHUNK_ENTRIES, this.count - first + 1);
      const got = this.readEntries(chunk, first, n);
      for (let i = 0; i < got; i++) {
        const pos = i * INDEX_ENTRY_SIZE;
        const keyHash = chunk.readInt32BE(pos + Entry.KEY_HASH);
        const high = chunk.readUInt32BE(pos + Entry.PHY_OFFSET);
        const phy = readUInt64(chunk, pos + Entry.PHY_OFFSET);
        const diff = chunk.readInt32BE(pos + Entry.TIME_DIFF);
        const prev = chunk.readUInt32BE(pos + Entry.PREV_INDEX);
        const slotPos = ((keyHash >>> 0) % this.slotCount) * INDEX_SLOT_SIZE;
        if (keyHash === 0 && phy === 0 && diff === 0 && prev === 0) reason = 'zeros';
        else if (prev !== slots.readUInt32BE(slotPos)) reason = 'a link that does not match its slot';
        else if (diff < 0 || (high !== TOMBSTONE_HIGH && phy > Number.MAX_SAFE_INTEGER))
          reason = 'impossible values';
        if (reason) {
          reason = `entry ${first + i} holds ${reason}`;
          break scan;
        }
        slots.writeUInt32BE(first + i, slotPos);
        kept = first + i;
        if (high !== TOMBSTONE_HIGH) {
          if (phy < minPhy) minPhy = phy;
          if (phy > maxPhy) maxPhy = phy;
        }
        if (diff > maxDiff) maxDiff = diff;
      }
      if (got < n) {
        reason = `the file ends after entry ${first + got - 1}`;
        break;
      }
    }
    this.count = this.committed = kept;
    this.beginPhy = maxPhy < 0 ? 0 : minPhy;
    this.endPhy = maxPhy < 0 ? 0 : maxPhy;
    if (kept === 0) {
      this.beginTs = this.endTs = 0;
    } else {
      // The newest store time lies in the second of the largest timeDiff; keep the header's if it agrees.
      const low = this.beginTs + maxDiff * INDEX_TIME_UNIT_MS;
      this.endTs = Math.min(Math.max(this.endTs, low), low + INDEX_TIME_UNIT_MS - 1);
    }
    this.dirtyPages!.fill(1);
    this.slotsDirty = true;
    this.headerDirty = true;
    this.dataDirty = true;
    this.inconsistent = true;
    this.logger.warn(
      `index file ${this.path}: slot table rebuilt from ${kept} entries` +
        (reason ? `; ${reason}, dropped from there` : ''),
    );
  }

  /** Reads up to `n` entries from entry `first` into `buf`; returns how many whole entries were read. */
  private readEntries(buf: Buffer, first: number, n: number): number {
    return Math.floor(
      readFully(this.fd, buf, 0, n * INDEX_ENTRY_SIZE, this.entryPosition(first)) / INDEX_ENTRY_SIZE,
    );
  }

  /** Flushes and drops the in-memory slot table and staging: the file becomes read-only. */
  seal(): void {
    this.flush();
    this.slots = this.staging = this.dirtyPages = undefined;
  }

  /** Flushes (if active) and closes the descriptor. */
  close(): void {
    try {
      if (this.slots) this.seal();
    } finally {
      this.closeFd();
    }
  }

  /** Closes and deletes the file. Nothing is flushed. */
  remove(): void {
    this.slots = this.staging = this.dirtyPages = undefined;
    this.closeFd();
    try {
      unlinkSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw toIndexError(`deleting ${this.path}`, err);
    }
  }

  private closeFd(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    closeSync(fd);
  }

  // -------------------------------------------------------------------------------------------
  // Writing (active file only)

  /**
   * Adds an entry for `hash` (the caller checks capacity). The entry is staged in memory and the slot
   * table updated in memory: no syscall unless the staging buffer is full.
   */
  append(hash: number, physicalOffset: number, storeTimestamp: number): void {
    const slots = this.slots;
    const staging = this.staging;
    if (!slots || !staging) throw new IndexStateError(`index file ${this.path} is sealed`);
    if (this.count >= MAX_INDEX_ENTRIES) throw new IndexStateError(`index file ${this.path} is full`);
    if (this.count - this.committed === INDEX_STAGE_ENTRIES) this.commit();
    const n = this.count + 1;
    if (this.count === 0) {
      this.beginTs = this.endTs = storeTimestamp;
      this.beginPhy = this.endPhy = physicalOffset;
    } else {
      if (storeTimestamp > this.endTs) this.endTs = storeTimestamp;
      if (physicalOffset < this.beginPhy) this.beginPhy = physicalOffset;
      if (physicalOffset > this.endPhy) this.endPhy = physicalOffset;
    }
    const slotPos = ((hash >>> 0) % this.slotCount) * INDEX_SLOT_SIZE;
    const pos = (n - this.committed - 1) * INDEX_ENTRY_SIZE;
    const entry = this.stagingView!;
    const slotTable = this.slotsView!;
    entry.setInt32(pos + Entry.KEY_HASH, hash | 0);
    setUint64(entry, pos + Entry.PHY_OFFSET, physicalOffset);
    entry.setInt32(pos + Entry.TIME_DIFF, timeDiffSeconds(storeTimestamp, this.beginTs));
    entry.setUint32(pos + Entry.PREV_INDEX, slotTable.getUint32(slotPos));
    slotTable.setUint32(slotPos, n);
    this.dirtyPages![(slotPos / SLOT_PAGE_BYTES) | 0] = 1;
    this.slotsDirty = true;
    this.headerDirty = true;
    this.count = n;
  }

  /** Writes the staged entries with one positional write (no fdatasync). */
  commit(): void {
    const staged = this.count - this.committed;
    if (staged === 0 || !this.staging) return;
    try {
      writeFully(this.fd, this.staging, 0, staged * INDEX_ENTRY_SIZE, this.entryPosition(this.committed + 1));
    } catch (err) {
      throw toIndexError(`writing index file ${this.path}`, err);
    }
    this.committed = this.count;
    this.dataDirty = true;
  }

  /**
   * Commits, writes the dirty slot pages, fdatasyncs, then writes the header and fdatasyncs again
   * (see the file comment for why the header goes last). Does nothing when nothing changed.
   */
  flush(): void {
    if (!this.slots) return;
    this.commit();
    try {
      if (this.slotsDirty) {
        this.writeDirtySlots();
        this.slotsDirty = false;
        this.dataDirty = true;
      }
      if (this.dataDirty) {
        fdatasyncSync(this.fd);
        this.dataDirty = false;
      }
      if (this.headerDirty) {
        this.writeHeader();
        fdatasyncSync(this.fd);
        this.headerDirty = false;
      }
    } catch (err) {
      throw toIndexError(`flushing index file ${this.path}`, err);
    }
  }

  private writeDirtySlots(): void {
    const slots = this.slots!;
    const pages = this.dirtyPages!;
    let i = 0;
    while (i < pages.length) {
      if (pages[i] === 0) {
        i++;
        continue;
      }
      let j = i;
      while (j < pages.length && pages[j] !== 0) pages[j++] = 0;
      const start = i * SLOT_PAGE_BYTES;
      const end = Math.min(j * SLOT_PAGE_BYTES, slots.length);
      writeFully(this.fd, slots, start, end - start, INDEX_HEADER_SIZE + start);
      i = j;
    }
  }

  private writeHeader(): void {
    const h = Buffer.alloc(INDEX_HEADER_SIZE);
    writeUInt64(h, this.beginTs, Header.BEGIN_TIMESTAMP);
    writeUInt64(h, this.endTs, Header.END_TIMESTAMP);
    writeUInt64(h, this.beginPhy, Header.BEGIN_PHY_OFFSET);
    writeUInt64(h, this.endPhy, Header.END_PHY_OFFSET);
    h.writeUInt32BE(this.slotCount, Header.HASH_SLOT_COUNT);
    h.writeUInt32BE(this.count, Header.INDEX_COUNT);
    writeFully(this.fd, h, 0, INDEX_HEADER_SIZE, 0);
  }

  /**
   * Removes every entry with phyOffset ≥ `maxPhysicalOffset` (after the commit log was truncated) by
   * overwriting its offset with a tombstone in place: the entry keeps its link in its chain, so no
   * other chain changes, and lookups skip it. Scans the file in 64 KiB chunks and makes the result
   * durable before returning. Returns the number of live entries left.
   */
  tombstoneFrom(maxPhysicalOffset: number): number {
    this.ensureOpen();
    const chunk = Buffer.allocUnsafe(SCAN_CHUNK_ENTRIES * INDEX_ENTRY_SIZE);
    let killed = 0;
    let live = 0;
    let minPhy = Number.POSITIVE_INFINITY;
    let maxPhy = -1;
    try {
      this.commit();
      for (let first = 1; first <= this.count; first += SCAN_CHUNK_ENTRIES) {
        const n = Math.min(SCAN_CHUNK_ENTRIES, this.count - first + 1);
        const got = this.readEntries(chunk, first, n);
        let changed = false;
        for (let i = 0; i < got; i++) {
          const pos = i * INDEX_ENTRY_SIZE + Entry.PHY_OFFSET;
          if (chunk.readUInt32BE(pos) === TOMBSTONE_HIGH) continue;
          const phy = readUInt64(chunk, pos);
          if (phy >= maxPhysicalOffset) {
            chunk.fill(0xff, pos, pos + 8);
            changed = true;
            killed++;
          } else {
            live++;
            if (phy < minPhy) minPhy = phy;
            if (phy > maxPhy) maxPhy = phy;
          }
        }
        if (changed) writeFully(this.fd, chunk, 0, got * INDEX_ENTRY_SIZE, this.entryPosition(first));
      }
      if (killed === 0) return live;
      this.beginPhy = live > 0 ? minPhy : 0;
      this.endPhy = live > 0 ? maxPhy : 0;
      this.headerDirty = true;
      this.dataDirty = true;
      if (this.slots) {
        this.flush();
      } else {
        fdatasyncSync(this.fd);
        this.writeHeader();
        fdatasyncSync(this.fd);
        this.headerDirty = this.dataDirty = false;
      }
      return live;
    } catch (err) {
      throw toIndexError(`truncating index file ${this.path}`, err);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  private slotHead(slot: number): number {
    if (this.slots) return this.slots.readUInt32BE(slot * INDEX_SLOT_SIZE);
    this.ensureOpen();
    const got = readFully(this.fd, scratch, 0, INDEX_SLOT_SIZE, INDEX_HEADER_SIZE + slot * INDEX_SLOT_SIZE);
    return got < INDEX_SLOT_SIZE ? 0 : scratch.readUInt32BE(0);
  }

  private locate(n: number, reader: EntryReader): boolean {
    if (n > this.committed) {
      // Staged, not yet written: read it from memory.
      if (!this.staging) return false;
      reader.buf = this.staging;
      reader.pos = (n - this.committed - 1) * INDEX_ENTRY_SIZE;
      return true;
    }
    this.ensureOpen();
    return reader.locate(this, this.fd, n);
  }

  /**
   * Walks the chain of `query.hash` newest-first, adding the physical offsets of matching entries
   * (same hash, within the time range, not removed) to `query.results` unless already there. Returns
   * true once `maxResults` are collected.
   *
   * The walk is bounded whatever the file holds: every step must go to a strictly lower entry number,
   * stay within `indexCount`, and land on an entry whose hash belongs to this slot; anything else is a
   * damaged chain, logged once per file, and the walk stops there (results so far are kept).
   */
  collect(query: IndexQuery, reader: EntryReader): boolean {
    const count = this.count;
    if (!this.overlaps(query.beginTimestamp, query.endTimestamp)) return false;
    try {
      const slot = (query.hash >>> 0) % this.slotCount;
      let n = this.slotHead(slot);
      while (n !== 0) {
        if (n > count) {
          this.noteCorruption(`slot ${slot} chain reaches entry ${n} of ${count}`);
          break;
        }
        if (!this.locate(n, reader)) {
          this.noteCorruption(`entry ${n} is missing from the file`);
          break;
        }
        const buf = reader.buf;
        const pos = reader.pos;
        const keyHash = buf.readInt32BE(pos + Entry.KEY_HASH);
        if ((keyHash >>> 0) % this.slotCount !== slot) {
          this.noteCorruption(`entry ${n} in the chain of slot ${slot} belongs to another slot`);
          break;
        }
        const time = this.beginTs + buf.readInt32BE(pos + Entry.TIME_DIFF) * INDEX_TIME_UNIT_MS;
        // Stored times are floored to the second: the entry was stored in [time, time + 999].
        const latest = time + INDEX_TIME_UNIT_MS - 1;
        if (keyHash === query.hash && latest >= query.beginTimestamp && time <= query.endTimestamp) {
          const high = buf.readUInt32BE(pos + Entry.PHY_OFFSET);
          if (high !== TOMBSTONE_HIGH) {
            const phy = readUInt64(buf, pos + Entry.PHY_OFFSET);
            // Outside the header's range means garbage (e.g. a torn write): never a candidate.
            if (phy >= this.beginPhy && phy <= this.endPhy && !query.seen.has(phy)) {
              query.seen.add(phy);
              query.results.push(phy);
              if (query.results.length >= query.maxResults) return true;
            }
          }
        }
        if (latest + CLOCK_STEP_TOLERANCE_MS < query.beginTimestamp) break;
        const prev = buf.readUInt32BE(pos + Entry.PREV_INDEX);
        if (prev >= n) {
          this.noteCorruption(`entry ${n} links forward to entry ${prev}`);
          break;
        }
        n = prev;
      }
      return false;
    } catch (err) {
      throw toIndexError(`reading index file ${this.path}`, err);
    }
  }

  private noteCorruption(detail: string): void {
    if (this.corruptionLogged) return;
    this.corruptionLogged = true;
    this.logger.warn(
      `index file ${this.path}: damaged chain (${detail}); lookups may miss entries of this file`,
    );
  }
}

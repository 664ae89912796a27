import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmdirSync,
  unlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { consoleStoreLogger, type DispatchRequest, type StoreLogger } from './dispatch-request.js';
import { listOffsetFiles, offsetFileName } from './file-names.js';
import {
  EntryReader,
  hashIndexKey,
  hashTopicKey,
  IndexFile,
  IndexFileCorruptError,
  IndexOptionsError,
  IndexStateError,
  indexKeyForMessageId,
  MAX_INDEX_ENTRIES,
  MAX_INDEX_SLOTS,
  toIndexError,
  type IndexQuery,
} from './index-file.js';
import { EMBEDDED_INDEX_ENTRIES, EMBEDDED_INDEX_SLOTS, MAX_READ_BATCH } from './limits.js';

export interface IndexServiceOptions {
  /** The index directory itself (the message store passes `<storeDir>/index`). Created on load. */
  dir: string;
  /** Hash slots of each new file (default EMBEDDED_INDEX_SLOTS; STANDALONE_INDEX_SLOTS for RocketMQ's). */
  slotCount?: number;
  /** Entries per file before it is sealed and a new one started (default EMBEDDED_INDEX_ENTRIES). */
  entryCount?: number;
  logger?: StoreLogger;
  /** Sealed files kept with an open descriptor (LRU); the others are re-opened when a lookup reaches them. */
  maxOpenFiles?: number;
}

/**
 * Calls `visit` with the index hash of each thing a record is found by: its message id and each
 * distinct non-empty key (scoped by topic).
 */
export function forEachIndexHash(
  request: Pick<DispatchRequest, 'topic' | 'messageId' | 'keys'>,
  visit: (hash: number) => void,
): void {
  if (request.messageId.length > 0) visit(hashIndexKey(indexKeyForMessageId(request.messageId)));
  const keys = request.keys;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key.length === 0 || keys.indexOf(key) < i) continue;
    visit(hashTopicKey(request.topic, key));
  }
}

/** Default of `maxOpenFiles`: a few hundred MB to GBs of index stay one pread away, far below fd limits. */
export const DEFAULT_MAX_OPEN_INDEX_FILES = 64;

const CORRUPT_SUFFIX = '.corrupt';
const INDEX_FILE_NAME = /^\d{20}(\.corrupt)?$/;

/**
 * The key/message-id index: a sequence of IndexFiles in `dir`, named by a 20-digit sequence number
 * (file-names.ts), oldest first. Only the newest file is writable and holds memory (its slot table
 * and staging); sealed files are read with positional reads, so memory stays bounded whatever the
 * number of files. Descriptors of sealed files are kept in an LRU of `maxOpenFiles`.
 *
 * Lookups return CANDIDATE physical offsets: different keys share 32-bit hashes, so the caller reads
 * the record at each offset and keeps only the real matches.
 *
 * Crash behaviour: `commit()` only writes to the page cache; `flush()` makes everything durable. After
 * a crash, entries added since the last flush may be missing (never wrong: see IndexFile). That is
 * acceptable because the message store re-dispatches the commit log from its checkpoint, which is
 * taken after an index flush, and `maxPhysicalOffset` reports what the index really holds.
 *
 * All methods are synchronous and the class is not re-entrant, like the rest of the store.
 */
export class IndexService {
  private readonly dir: string;
  private readonly slotCount: number;
  private readonly entryCount: number;
  private readonly maxOpenFiles: number;
  private readonly logger: StoreLogger;
  /** Oldest first; the active file, if any, is the last one. */
  private files: IndexFile[] = [];
  private active: IndexFile | undefined;
  /** Sealed files with an open descriptor, least recently used first. */
  private readonly openSealed = new Set<IndexFile>();
  private nextSequence = 0;
  private maxPhy = -1;
  private state: 'new' | 'open' | 'closed' = 'new';
  /** A file was created since the directory was last fsynced. */
  private dirDirty = false;
  private readonly reader = new EntryReader();

  constructor(options: IndexServiceOptions) {
    this.dir = options.dir;
    this.slotCount = options.slotCount ?? EMBEDDED_INDEX_SLOTS;
    this.entryCount = options.entryCount ?? EMBEDDED_INDEX_ENTRIES;
    this.maxOpenFiles = options.maxOpenFiles ?? DEFAULT_MAX_OPEN_INDEX_FILES;
    this.logger = options.logger ?? consoleStoreLogger;
    checkInteger('slotCount', this.slotCount, 1, MAX_INDEX_SLOTS);
    checkInteger('entryCount', this.entryCount, 1, MAX_INDEX_ENTRIES);
    checkInteger('maxOpenFiles', this.maxOpenFiles, 1, 1 << 20);
  }

  /**
   * Opens the files in `dir`. The newest file stays writable unless it is full; all others are sealed.
   * A file whose header cannot be trusted is renamed `<name>.corrupt` (kept for an operator) or, if it
   * is empty (a crash right after creating it), deleted. A newest file whose header disagrees with
   * its contents is repaired: entries past its header's indexCount are treated as absent.
   */
  load(): void {
    if (this.state === 'open') throw new IndexStateError('the index is already loaded');
    try {
      mkdirSync(this.dir, { recursive: true });
    } catch (err) {
      throw toIndexError(`creating ${this.dir}`, err);
    }
    const sequences = listOffsetFiles(this.dir);
    this.nextSequence = sequences.length > 0 ? sequences[sequences.length - 1]! + 1 : 0;
    const files: IndexFile[] = [];
    try {
      for (const sequence of sequences) {
        const file = this.openFile(join(this.dir, offsetFileName(sequence)));
        if (file) files.push(file);
      }
      // Empty files other than the newest hold nothing and would never be written again.
      for (let i = files.length - 2; i >= 0; i--) {
        if (files[i]!.indexCount === 0) files.splice(i, 1)[0]!.remove();
      }
      const newest = files[files.length - 1];
      if (newest && newest.indexCount < this.entryCount) {
        newest.activate();
        this.active = newest;
      }
      // A sealed file is normally consistent (sealing is a full flush); one that is not is repaired the
      // same way as a writable one, with a transient slot table, then sealed again.
      for (const file of files) {
        if (file !== this.active && file.wasInconsistent) {
          file.activate();
          file.seal();
        }
      }
      for (const file of files) if (file !== this.active) file.releaseFd();
    } catch (err) {
      for (const file of files) closeQuietly(file);
      this.active = undefined;
      throw err;
    }
    this.files = files;
    this.maxPhy = this.computeMaxPhysicalOffset();
    this.state = 'open';
  }

  private openFile(path: string): IndexFile | undefined {
    try {
      return IndexFile.open(path, this.logger);
    } catch (err) {
      if (!(err instanceof IndexFileCorruptError)) throw err;
      try {
        if (err.empty) {
          this.logger.warn(`${err.message}; deleting it`);
          unlinkSync(path);
        } else {
          this.logger.error(`${err.message}; renaming it ${path}${CORRUPT_SUFFIX} and ignoring it`);
          renameSync(path, path + CORRUPT_SUFFIX);
        }
      } catch (cleanupError) {
        throw toIndexError(`setting aside ${path}`, cleanupError);
      }
      return undefined;
    }
  }

  /**
   * Indexes `request.messageId` and each non-empty key (once, even if repeated) at
   * `request.physicalOffset`, stamped with `request.storeTimestamp`. Everything is staged in memory.
   *
   * Requests must arrive in commit-log order. One whose offset is below `maxPhysicalOffset` is a
   * re-dispatch of something already indexed and is skipped (RocketMQ's IndexService does the same);
   * one AT `maxPhysicalOffset` is indexed again, because after a crash its entries may have been only
   * partly kept (a message can straddle two files). The duplicates this creates are removed at lookup.
   */
  put(request: DispatchRequest): void {
    this.assertOpen();
    if (request.physicalOffset < this.maxPhy) return;
    forEachIndexHash(request, (hash) => this.putHash(hash, request.physicalOffset, request.storeTimestamp));
    if (request.physicalOffset > this.maxPhy) this.maxPhy = request.physicalOffset;
  }

  /**
   * `put` for keys hashed elsewhere (the index thread receives hashes, not strings): all hashes of
   * one record carry its offset, in commit-log order, with the same skip rule as `put`.
   */
  putHashed(hash: number, physicalOffset: number, timestamp: number): void {
    this.assertOpen();
    if (physicalOffset < this.maxPhy) return;
    this.putHash(hash, physicalOffset, timestamp);
    this.maxPhy = physicalOffset;
  }

  private putHash(hash: number, physicalOffset: number, timestamp: number): void {
    let file = this.active;
    if (file && file.indexCount >= this.entryCount) {
      this.sealActive(file);
      file = undefined;
    }
    file ??= this.createFile();
    file.append(hash, physicalOffset, timestamp);
  }

  private sealActive(file: IndexFile): void {
    file.seal();
    this.active = undefined;
    this.touch(file);
  }

  private createFile(): IndexFile {
    const path = join(this.dir, offsetFileName(this.nextSequence));
    const file = IndexFile.create(path, this.slotCount, this.logger);
    this.nextSequence++;
    this.files.push(file);
    this.active = file;
    this.dirDirty = true;
    return file;
  }

  /** Writes staged entries to the active file with one write. Not durable until `flush()`. */
  commit(): void {
    this.assertOpen();
    this.active?.commit();
  }

  /** Commits, then makes the active file (entries, slot table, header) and new directory entries durable. */
  flush(): void {
    this.assertOpen();
    this.active?.flush();
    if (this.dirDirty) {
      syncDirectory(this.dir);
      this.dirDirty = false;
    }
  }

  /**
   * Highest physical offset indexed so far, -1 if none. After a load this is what the files durably
   * hold, so the message store can re-dispatch from `min(checkpoint, maxPhysicalOffset)`.
   */
  get maxPhysicalOffset(): number {
    return this.maxPhy;
  }

  /** Number of index files (diagnostics and tests). */
  get fileCount(): number {
    return this.files.length;
  }

  /** Candidate physical offsets of messages with this id, newest first, without duplicates. */
  lookupMessageId(messageId: string, maxResults: number): number[] {
    return this.query(hashIndexKey(indexKeyForMessageId(messageId)), maxResults, undefined, undefined);
  }

  /**
   * Candidate physical offsets of messages of `topic` with business key `key`, newest first, without
   * duplicates, at most `maxResults` (capped at MAX_READ_BATCH). The optional store-time range is
   * inclusive and applied at the index's one-second resolution, so candidates may lie up to 999 ms
   * outside it; files entirely outside it are not read.
   */
  lookupKey(
    topic: string,
    key: string,
    maxResults: number,
    beginTimestamp?: number,
    endTimestamp?: number,
  ): number[] {
    return this.query(hashTopicKey(topic, key), maxResults, beginTimestamp, endTimestamp);
  }

  private query(
    hash: number,
    maxResults: number,
    beginTimestamp: number | undefined,
    endTimestamp: number | undefined,
  ): number[] {
    this.assertOpen();
    const limit = Math.min(Math.floor(maxResults), MAX_READ_BATCH);
    const begin = beginTimestamp ?? Number.NEGATIVE_INFINITY;
    const end = endTimestamp ?? Number.POSITIVE_INFINITY;
    if (!(limit > 0) || begin > end) return [];
    const query: IndexQuery = {
      hash,
      maxResults: limit,
      beginTimestamp: begin,
      endTimestamp: end,
      results: [],
      seen: new Set<number>(),
    };
    this.reader.reset();
    for (let i = this.files.length - 1; i >= 0; i--) {
      const file = this.files[i]!;
      if (!file.overlaps(begin, end)) continue;
      if (file !== this.active) this.touch(file);
      if (file.collect(query, this.reader)) break;
    }
    return query.results;
  }

  /** Marks a sealed file most recently used, opening it and closing the least recently used past the limit. */
  private touch(file: IndexFile): void {
    this.openSealed.delete(file);
    file.ensureOpen();
    this.openSealed.add(file);
    if (this.openSealed.size > this.maxOpenFiles) {
      const oldest = this.openSealed.values().next().value!;
      this.openSealed.delete(oldest);
      oldest.releaseFd();
    }
  }

  /**
   * Retention: deletes sealed files whose endPhyOffset < `minPhysicalOffset` (everything in them points
   * at deleted commit-log segments). The newest file is always kept, so `maxPhysicalOffset` survives.
   * Returns the number of files deleted.
   */
  deleteFilesBelow(minPhysicalOffset: number): number {
    this.assertOpen();
    const newest = this.files[this.files.length - 1];
    let deleted = 0;
    for (let i = 0; i < this.files.length;) {
      const file = this.files[i]!;
      if (file === newest || file === this.active || file.endPhyOffset >= minPhysicalOffset) {
        i++;
        continue;
      }
      // Forget the file before deleting it, so that a failed unlink leaves no half-removed file behind.
      this.files.splice(i, 1);
      this.openSealed.delete(file);
      deleted++;
      file.remove();
    }
    if (deleted > 0)
      this.logger.log(`index: deleted ${deleted} files below physical offset ${minPhysicalOffset}`);
    return deleted;
  }

  /**
   * After the commit log was truncated at `maxPhysicalOffset`: entries at or above it are never returned
   * again. Rather than filtering at every lookup (which would have to be remembered across restarts),
   * the affected entries are tombstoned in place and the files made durable; a file left with no live
   * entry is deleted. Only files whose endPhyOffset reaches the cut are scanned (normally the newest).
   * New dispatches from the cut on are then indexed as usual.
   */
  truncateAbove(maxPhysicalOffset: number): void {
    this.assertOpen();
    this.reader.reset();
    for (let i = this.files.length - 1; i >= 0; i--) {
      const file = this.files[i]!;
      if (file.indexCount === 0 || file.endPhyOffset < maxPhysicalOffset) continue;
      if (file !== this.active) this.touch(file);
      const live = file.beginPhyOffset >= maxPhysicalOffset ? 0 : file.tombstoneFrom(maxPhysicalOffset);
      if (live > 0) continue;
      this.files.splice(i, 1);
      this.openSealed.delete(file);
      if (file === this.active) this.active = undefined;
      file.remove();
      this.logger.log(
        `index: deleted ${file.path}, wholly above truncated physical offset ${maxPhysicalOffset}`,
      );
    }
    this.maxPhy = this.computeMaxPhysicalOffset();
  }

  /** Flushes and closes every file. Idempotent. The index can be loaded again afterwards. */
  close(): void {
    if (this.state !== 'open') return;
    this.state = 'closed';
    try {
      this.active?.flush();
      if (this.dirDirty) syncDirectory(this.dir);
    } finally {
      this.dirDirty = false;
      for (const file of this.files) closeQuietly(file);
      this.files = [];
      this.active = undefined;
      this.openSealed.clear();
      this.reader.reset();
    }
  }

  /** Closes and deletes every index file (for a full rebuild from the commit log); `load()` starts afresh. */
  destroy(): void {
    try {
      this.close();
    } catch (err) {
      this.logger.warn(`index: flush before destroy failed (${String(err)}); deleting anyway`);
    }
    this.state = 'closed';
    let names: string[];
    try {
      names = readdirSync(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw toIndexError(`listing ${this.dir}`, err);
    }
    try {
      for (const name of names) if (INDEX_FILE_NAME.test(name)) unlinkSync(join(this.dir, name));
    } catch (err) {
      throw toIndexError(`deleting index files in ${this.dir}`, err);
    }
    try {
      rmdirSync(this.dir);
    } catch {
      // Not empty (someone else's files) or already gone: leave it.
    }
    this.maxPhy = -1;
    this.nextSequence = 0;
  }

  private computeMaxPhysicalOffset(): number {
    let max = -1;
    for (const file of this.files)
      if (file.indexCount > 0 && file.endPhyOffset > max) max = file.endPhyOffset;
    return max;
  }

  private assertOpen(): void {
    if (this.state !== 'open') {
      throw new IndexStateError(this.state === 'new' ? 'the index is not loaded' : 'the index is closed');
    }
  }
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new IndexOptionsError(`${name} ${value} is not an integer in [${min}, ${max}]`);
  }
}

/** Closes a file, flushing it if active; errors are swallowed (used on paths already failing or closing). */
function closeQuietly(file: IndexFile): void {
  try {
    file.close();
  } catch {
    // The close of a failing file: nothing more to do.
  }
}

/** fsync the directory so that newly created files survive a power loss. */
function syncDirectory(dir: string): void {
  let fd = -1;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch (err) {
    throw toIndexError(`syncing directory ${dir}`, err);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
}

import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { AbortMarker } from './abort-marker.js';
import { Checkpoint } from './checkpoint.js';
import { CommitLog } from './commit-log.js';
import { scanCommitLog, type CorruptRange, type TruncatedTail } from './commit-log-scanner.js';
import { ConsumeQueueStore, type ConsumeQueueEntry } from './consume-queue-store.js';
import { consoleStoreLogger, type DispatchRequest, type StoreLogger } from './dispatch-request.js';
import {
  CorruptRecordError,
  DiskFullError,
  FlushTimeoutError,
  StoreClosedError,
  StoreError,
  StoreIOError,
} from './errors.js';
import { FlushService, type FlushMode } from './flush-service.js';
import { IndexThread } from './index-thread.js';
import {
  ASYNC_FLUSH_INTERVAL_MS,
  DEFAULT_DISK_USAGE_LIMIT,
  DEFAULT_RETENTION_HOURS,
  EMBEDDED_SEGMENT_SIZE,
  MAX_READ_BATCH,
  MAX_READ_BYTES,
  SYNC_FLUSH_TIMEOUT_MS,
} from './limits.js';
import {
  checkRecord,
  decodeRecord,
  measureRecord,
  type MessageToStore,
  type StoredMessage,
} from './message-record.js';
import { RetentionService } from './retention-service.js';
import { tagHash } from './tag-hash.js';

export interface MessageStoreOptions {
  /** Root directory: `commitlog/`, `consumequeue/`, `index/`, `checkpoint`, `abort`. */
  readonly dataDir: string;
  /** `sync`: an append resolves after fdatasync covers it. `async`: once written. Default `async`. */
  readonly flushMode?: FlushMode;
  /** Commit-log segment size; default 64 MiB (embedded). The standalone broker uses 1 GiB. */
  readonly segmentSize?: number;
  /** Zero-fill the next segment ahead of time. Default false. */
  readonly preallocate?: boolean;
  /** Async mode: fdatasync the log this often. Default 500 ms (RocketMQ). */
  readonly asyncFlushIntervalMs?: number;
  /** Sync mode: fail an append with FLUSH_DISK_TIMEOUT if not durable within this. Default 5 s. */
  readonly syncFlushTimeoutMs?: number;
  /** Flush consume queues + index and write the checkpoint this often. Default 1 s. */
  readonly checkpointIntervalMs?: number;
  /** Delete segments older than this. Default 72 h. */
  readonly retentionHours?: number;
  /** Delete oldest segments while the disk is fuller than this ratio. Default 0.75. */
  readonly diskUsageLimit?: number;
  /** How often retention runs. Default 10 s; 0 disables the timer (call `runRetention()`). */
  readonly retentionIntervalMs?: number;
  readonly consumeQueueEntriesPerFile?: number;
  readonly indexSlotCount?: number;
  readonly indexEntryCount?: number;
  /** `ip:port` recorded as each message's store host. */
  readonly storeHost?: string;
  /** Disk usage ratio probe for retention (default: statfs of the data dir); injectable for tests. */
  readonly diskUsage?: (dir: string) => number;
  readonly logger?: StoreLogger;
}

/** The result of an append: where the message went. */
export interface AppendResult {
  readonly messageId: string;
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: number;
  readonly physicalOffset: number;
  readonly size: number;
  readonly storeTimestamp: number;
}

/** RocketMQ's GetMessageStatus names. */
export type GetMessageStatus =
  | 'FOUND'
  | 'NO_MATCHED_MESSAGE'
  | 'NO_MESSAGE_IN_QUEUE'
  | 'NO_MATCHED_LOGIC_QUEUE'
  | 'OFFSET_OVERFLOW_ONE'
  | 'OFFSET_OVERFLOW_BADLY';

export interface GetMessageOptions {
  /** Skip entries whose tag hash fails this test (the record's tag is NOT re-checked here). */
  readonly tagFilter?: (tagsCode: number) => boolean;
  /** Stop adding messages once this many bytes were read (at least one is returned). */
  readonly maxBytes?: number;
}

export interface GetMessageResult {
  readonly status: GetMessageStatus;
  readonly messages: StoredMessage[];
  /** Where the next read should start. */
  readonly nextOffset: number;
  readonly minOffset: number;
  readonly maxOffset: number;
  /** The requested offset was below the retained minimum and reading started at `minOffset`. */
  readonly offsetCorrected: boolean;
  /** Entries whose record failed its checks: reported, never served, and stepped over. */
  readonly corrupted: readonly CorruptRecordError[];
}

export interface RecoveryReport {
  readonly abnormal: boolean;
  readonly scannedFrom: number;
  readonly endOffset: number;
  readonly redispatchedFrom: number;
  readonly redispatched: number;
  readonly corruptions: readonly CorruptRange[];
  readonly truncated: TruncatedTail | undefined;
  readonly durationMs: number;
}

/**
 * One append between staging and acknowledgement. It is at once the dispatch request and the
 * append result (one allocation per message instead of four on the hot path). Its promise's
 * resolvers are attached right after staging (see `captureResolvers`).
 */
class PendingAppend implements DispatchRequest, AppendResult {
  /** Replaced by a no-op once the caller was told FLUSH_DISK_TIMEOUT. */
  resolve: (result: AppendResult) => void = noop;
  reject: (err: Error) => void = noop;

  constructor(
    readonly topic: string,
    readonly queueId: number,
    readonly queueOffset: number,
    readonly physicalOffset: number,
    readonly size: number,
    readonly tagsCode: number,
    readonly storeTimestamp: number,
    readonly messageId: string,
    readonly keys: readonly string[],
    readonly sysFlag: number,
    readonly indexHashes: readonly number[],
  ) {}

  get end(): number {
    return this.physicalOffset + this.size;
  }
}

/**
 * The promise of a single append is created with this shared executor instead of a closure per
 * call: `capturing` is set just before `new Promise(captureResolvers)`, which runs the executor
 * synchronously, so no other append can interleave.
 */
let capturing: PendingAppend | undefined;
function captureResolvers(resolve: (r: AppendResult) => void, reject: (e: Error) => void): void {
  capturing!.resolve = resolve;
  capturing!.reject = reject;
}

type Listener = (requests: readonly DispatchRequest[]) => void;

/**
 * The built-in broker's durable store: one commit log, a consume queue per (topic, queue) and a
 * key/id index, with group-committed sync flush or interval async flush, checkpointed recovery and
 * retention. Knows nothing of gRPC or Nest.
 *
 * Hot path: `append` encodes into a staging buffer synchronously; all appends of one event-loop
 * turn are written with one pwrite (setImmediate), then acknowledged (async) or handed to the
 * group commit (sync). Consume-queue and index entries are written when records become visible
 * (written in async mode, durable in sync mode), so a consumer never sees a message a crash can
 * take back in sync mode.
 */
export class MessageStore {
  readonly flushMode: FlushMode;
  private readonly logger: StoreLogger;
  private readonly commitLog: CommitLog;
  private readonly consumeQueues: ConsumeQueueStore;
  /** Set in start(): the index lives on its own thread. */
  private index!: IndexThread;
  private readonly checkpoint: Checkpoint;
  private readonly abortMarker: AbortMarker;
  private readonly flusher: FlushService;
  private readonly retention: RetentionService;
  /** Next queue offset per `topic\u0000queueId`, seeded lazily from the consume queue. */
  private readonly queueOffsets = new Map<string, number[]>();
  private readonly syncFlushTimeoutMs: number;
  private batchTimestamp = 0;
  private checkpointing: Promise<void> | undefined;
  /** Records dispatched since queue and index staging was last written. */
  private uncommittedDerived = 0;
  /** First record whose queue/index entries could not be written this run (Infinity: none). */
  private derivedGapFrom = Infinity;
  /** Encoded in staging, not yet written. */
  private staged: PendingAppend[] = [];
  /** Written, waiting for fdatasync (sync mode only). */
  private unflushed: PendingAppend[] = [];
  private unflushedHead = 0;
  private commitScheduled = false;
  private dispatchedEnd = 0;
  private lastDispatchTimestamp = 0;
  private lastFlushedTimestamp = 0;
  private state: 'new' | 'open' | 'closing' | 'closed' = 'new';
  private failure: Error | undefined;
  private timers: NodeJS.Timeout[] = [];
  private readonly listeners: Listener[] = [];
  private readonly reportedCorruptions = new Set<number>();
  private recovery: RecoveryReport | undefined;

  constructor(private readonly options: MessageStoreOptions) {
    this.flushMode = options.flushMode ?? 'async';
    this.syncFlushTimeoutMs = options.syncFlushTimeoutMs ?? SYNC_FLUSH_TIMEOUT_MS;
    this.logger = options.logger ?? consoleStoreLogger;
    mkdirSync(options.dataDir, { recursive: true });
    this.commitLog = new CommitLog({
      dir: join(options.dataDir, 'commitlog'),
      segmentSize: options.segmentSize ?? EMBEDDED_SEGMENT_SIZE,
      preallocate: options.preallocate ?? false,
      logger: this.logger,
      storeHost: options.storeHost,
    });
    this.consumeQueues = new ConsumeQueueStore({
      dir: join(options.dataDir, 'consumequeue'),
      entriesPerFile: options.consumeQueueEntriesPerFile,
      logger: this.logger,
    });
    this.checkpoint = Checkpoint.open(join(options.dataDir, 'checkpoint'));
    this.abortMarker = new AbortMarker(join(options.dataDir, 'abort'));
    this.flusher = new FlushService(
      this.commitLog,
      0,
      (flushed) => this.onFlushed(flushed),
      (err) => this.fail(err),
    );
    this.retention = new RetentionService({
      commitLog: this.commitLog,
      consumeQueues: this.consumeQueues,
      index: { deleteFilesBelow: (offset) => this.index.deleteFilesBelow(offset) },
      retentionMs: (options.retentionHours ?? DEFAULT_RETENTION_HOURS) * 3_600_000,
      diskUsageLimit: options.diskUsageLimit ?? DEFAULT_DISK_USAGE_LIMIT,
      flushedOffset: () => this.flusher.flushedOffset,
      logger: this.logger,
      diskUsage: options.diskUsage,
    });
  }

  /** Opens (and if needed recovers) the store. */
  static async open(options: MessageStoreOptions): Promise<MessageStore> {
    const store = new MessageStore(options);
    await store.start();
    return store;
  }

  get recoveryReport(): RecoveryReport | undefined {
    return this.recovery;
  }

  async start(): Promise<void> {
    if (this.state !== 'new') throw new StoreError(50001, 'store already started');
    const started = Date.now();
    const abnormal = this.abortMarker.acquire(this.options.dataDir);
    const saved = this.checkpoint.read();
    const derivedMissing =
      !existsSync(join(this.options.dataDir, 'consumequeue')) ||
      !existsSync(join(this.options.dataDir, 'index'));
    this.commitLog.load();
    this.consumeQueues.load();
    this.index = await IndexThread.start({
      dir: join(this.options.dataDir, 'index'),
      slotCount: this.options.indexSlotCount,
      entryCount: this.options.indexEntryCount,
      logger: this.logger,
      onWriteFailed: (physicalOffset, err) => this.derivedWriteFailed(physicalOffset, err),
    });

    const logMin = this.commitLog.minOffset;
    this.consumeQueues.deleteExpired(logMin);
    // The checkpoint's offset was durable when written. After a clean close the log ends there;
    // after a crash we re-validate from the start of its segment (RocketMQ's abnormal recovery
    // does the same), so damage just behind the checkpoint is found too. Bounded: one segment.
    const safePoint = Math.max(saved?.commitLogFlushedOffset ?? logMin, logMin);
    const safeSegment = this.commitLog.segmentFor(safePoint);
    const scannedFrom = abnormal && safeSegment ? Math.max(safeSegment.startOffset, logMin) : safePoint;
    const scan = scanCommitLog(this.commitLog.allSegments(), scannedFrom);
    for (const c of scan.corruptions) {
      this.logger.error(
        `damaged record in ${c.file} at file offset ${c.fileOffset} (physical ${c.physicalOffset}): ${c.reason}; ` +
          `log continues at ${c.resumeOffset}; the damaged record will not be served`,
      );
    }
    if (scan.truncated) {
      const t = scan.truncated;
      this.logger.warn(
        `truncated torn tail of ${t.file} at file offset ${t.fileOffset} (physical ${t.physicalOffset}): ${t.reason}`,
      );
    }
    const end = scan.endOffset;
    this.commitLog.setEnd(end);
    this.flusher.reset(end);

    // Consume queues and index are rebuilt from the commit log past what the checkpoint says was
    // durable for them; all of them when their directory is gone.
    let redispatchFrom = Math.min(saved?.dispatchedOffset ?? logMin, safePoint, end);
    if (derivedMissing || !saved) redispatchFrom = logMin;
    redispatchFrom = Math.max(redispatchFrom, logMin);
    this.consumeQueues.truncateByPhysicalOffset(end);
    this.index.truncateAbove(end);
    let redispatched = 0;
    if (redispatchFrom < end) {
      scanCommitLog(this.commitLog.allSegments(), redispatchFrom, (buf, pos) => {
        const m = decodeRecord(buf, pos);
        if (m.physicalOffset >= end) return;
        this.dispatchOne({
          topic: m.topic,
          queueId: m.queueId,
          queueOffset: m.queueOffset,
          physicalOffset: m.physicalOffset,
          size: m.size,
          tagsCode: tagHash(m.tag),
          storeTimestamp: m.storeTimestamp,
          messageId: m.messageId,
          keys: m.keys,
          sysFlag: m.sysFlag,
        });
        redispatched++;
      });
      this.consumeQueues.commit();
      this.index.commit();
    }
    this.dispatchedEnd = end;
    await this.commitLog.prepareNextSegment(FIRST_SEGMENT_PREPARE_TIMEOUT_MS);
    this.state = 'open';
    await this.writeCheckpoint();

    this.recovery = {
      abnormal,
      scannedFrom,
      endOffset: end,
      redispatchedFrom: redispatchFrom,
      redispatched,
      corruptions: scan.corruptions,
      truncated: scan.truncated,
      durationMs: Date.now() - started,
    };
    if (abnormal || redispatched > 0 || scan.truncated || scan.corruptions.length > 0) {
      this.logger.warn(
        `recovered ${abnormal ? 'after an abnormal exit' : 'cleanly'} in ${this.recovery.durationMs} ms: log ends at ${end}, ` +
          `re-dispatched ${redispatched} records from ${redispatchFrom}`,
      );
    }

    if (this.flushMode === 'async')
      this.flusher.startInterval(this.options.asyncFlushIntervalMs ?? ASYNC_FLUSH_INTERVAL_MS);
    this.every(this.options.checkpointIntervalMs ?? 1_000, () => this.periodicCheckpoint());
    if (this.flushMode === 'sync') this.every(250, () => this.expireFlushWaiters());
    const retentionEvery = this.options.retentionIntervalMs ?? 10_000;
    if (retentionEvery > 0) this.every(retentionEvery, () => this.runRetention());
  }

  private every(ms: number, fn: () => void): void {
    const t = setInterval(() => {
      try {
        fn();
      } catch (err) {
        this.logger.error(`background task failed: ${(err as Error).stack ?? String(err)}`);
      }
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  /** Subscribes to records becoming visible (written in async mode, durable in sync mode). */
  onDispatch(listener: Listener): () => void {
    this.listeners.push(listener);
    return () => {
      const i = this.listeners.indexOf(listener);
      if (i >= 0) this.listeners.splice(i, 1);
    };
  }

  // ---------------------------------------------------------------- writes

  /** Stores one message. Rejects with a typed error carrying a RocketMQ status code. */
  append(message: MessageToStore): Promise<AppendResult> {
    let pending: PendingAppend;
    try {
      this.assertWritable();
      pending = this.stage(message);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    capturing = pending;
    const promise = new Promise<AppendResult>(captureResolvers);
    capturing = undefined;
    return promise;
  }

  /**
   * Stores several messages; all are validated before any is stored, so a bad one rejects the
   * whole batch without side effects. Resolves with one result per message, in order.
   */
  appendBatch(messages: readonly MessageToStore[]): Promise<AppendResult[]> {
    try {
      this.assertWritable();
      for (const m of messages) measureRecord(m, this.commitLog.storeHostBytes);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    if (messages.length === 0) return Promise.resolve([]);
    return new Promise<AppendResult[]>((resolve, reject) => {
      const results = new Array<AppendResult>(messages.length);
      let remaining = messages.length;
      let failed = false;
      const fail = (err: Error): void => {
        if (!failed) reject(err);
        failed = true;
      };
      for (let i = 0; i < messages.length; i++) {
        let pending: PendingAppend;
        try {
          pending = this.stage(messages[i]!);
        } catch (err) {
          // Everything staged in this turn, this batch's earlier messages included, was rejected.
          fail(err as Error);
          return;
        }
        pending.resolve = (r) => {
          results[i] = r;
          if (--remaining === 0 && !failed) resolve(results);
        };
        pending.reject = fail;
      }
    });
  }

  private assertWritable(): void {
    if (this.state !== 'open') throw new StoreClosedError();
    if (this.failure) throw this.failure;
  }

  /**
   * Validates and places a message in the commit log's staging buffer and queues it for the next
   * commit. Throws a typed error for an invalid message (nothing changes), or an I/O error if a
   * commit this forced failed (everything staged before it is then rejected).
   */
  private stage(m: MessageToStore): PendingAppend {
    let offsets = this.queueOffsets.get(m.topic);
    if (offsets === undefined) this.queueOffsets.set(m.topic, (offsets = []));
    const queueOffset = offsets[m.queueId] ?? this.consumeQueues.find(m.topic, m.queueId)?.maxOffset ?? 0;
    // One clock read per batch: appends of one event-loop turn are microseconds apart.
    if (!this.commitScheduled) this.batchTimestamp = Date.now();
    const storeTimestamp = this.batchTimestamp;
    let physicalOffset: number;
    const hashes = new Array<number>(1 + (m.keys?.length ?? 0));
    try {
      physicalOffset = this.commitLog.append(m, queueOffset, storeTimestamp, hashes);
    } catch (err) {
      // A commit forced by a full staging buffer or a roll-over failed: what was staged is lost.
      if (err instanceof DiskFullError || err instanceof StoreIOError) this.failStaged(err);
      throw err;
    }
    offsets[m.queueId] = queueOffset + 1;
    const pending = new PendingAppend(
      m.topic,
      m.queueId,
      queueOffset,
      physicalOffset,
      this.commitLog.writeOffset - physicalOffset,
      tagHash(m.tag),
      storeTimestamp,
      m.messageId,
      m.keys ?? NO_KEYS,
      m.sysFlag ?? 0,
      hashes,
    );
    this.staged.push(pending);
    if (!this.commitScheduled) {
      this.commitScheduled = true;
      setImmediate(this.commitStagedCallback);
    }
    return pending;
  }

  private readonly commitStagedCallback = (): void => this.commitStaged();

  /** Writes everything staged in this turn with one pwrite, then acknowledges or waits for flush. */
  private commitStaged(): void {
    this.commitScheduled = false;
    const batch = this.staged;
    if (batch.length === 0) return;
    this.staged = [];
    try {
      this.commitLog.commit();
    } catch (err) {
      this.rewindQueueOffsets(batch);
      for (const p of batch) p.reject(err as Error);
      return;
    }
    if (this.flushMode === 'async') {
      this.dispatch(batch);
      for (const p of batch) p.resolve(p);
      return;
    }
    for (const p of batch) this.unflushed.push(p);
    this.flusher.kick();
  }

  /** A write failed before `commitStaged`: reject what was staged and give back its queue offsets. */
  private failStaged(err: Error): void {
    const batch = this.staged;
    this.staged = [];
    this.commitLog.discardStaged();
    this.rewindQueueOffsets(batch);
    for (const p of batch) p.reject(err);
  }

  private rewindQueueOffsets(batch: readonly PendingAppend[]): void {
    for (let i = batch.length - 1; i >= 0; i--) {
      const r = batch[i]!;
      this.queueOffsets.get(r.topic)![r.queueId] = r.queueOffset;
    }
  }

  /** Sync mode: acknowledge and dispatch every append the last fdatasync covered. */
  private onFlushed(flushed: number): void {
    if (this.flushMode !== 'sync') return;
    const queue = this.unflushed;
    let i = this.unflushedHead;
    while (i < queue.length && queue[i]!.end <= flushed) i++;
    if (i === this.unflushedHead) return;
    const done = queue.slice(this.unflushedHead, i);
    if (i === queue.length) {
      this.unflushed = [];
      this.unflushedHead = 0;
    } else {
      this.unflushedHead = i;
      if (i > 4096) {
        this.unflushed = queue.slice(i);
        this.unflushedHead = 0;
      }
    }
    this.dispatch(done);
    for (const p of done) p.resolve(p);
  }

  /** RocketMQ's FLUSH_DISK_TIMEOUT: the append was written, its durability is not confirmed. */
  private expireFlushWaiters(): void {
    const now = Date.now();
    const queue = this.unflushed;
    const timeout = this.syncFlushTimeoutMs;
    const head = queue[this.unflushedHead];
    if (!head || head.storeTimestamp + timeout > now) return;
    // Waiters stay queued (the flush may still succeed and must dispatch them); only the caller is told.
    for (let i = this.unflushedHead; i < queue.length && queue[i]!.storeTimestamp + timeout <= now; i++) {
      const p = queue[i]!;
      p.reject(new FlushTimeoutError(timeout));
      p.resolve = noop;
      p.reject = noop;
    }
  }

  private fail(err: Error): void {
    this.failure = err;
    this.logger.error(`store stopped accepting writes: ${err.message}`);
    const waiting = this.unflushed.slice(this.unflushedHead);
    this.unflushed = [];
    this.unflushedHead = 0;
    for (const p of waiting) p.reject(err);
  }

  /**
   * Makes records visible: consume-queue and index entries, then listeners. A failure here (disk
   * full while a queue or index file grows) must not lose the batch or escape the event loop: the
   * record is in the commit log already, so it is logged, dispatching goes on, and the checkpoint
   * stops vouching for anything past the first failed record, so the next start re-dispatches it.
   */
  private dispatch(batch: readonly PendingAppend[]): void {
    for (const r of batch) this.dispatchOne(r);
    // Queue and index entries are read from their staging buffers until written, so they are
    // written in chunks (here, when a queue's or the index's staging fills, and at checkpoints)
    // rather than with several small pwrites per event-loop turn.
    this.uncommittedDerived += batch.length;
    if (this.uncommittedDerived >= DERIVED_COMMIT_EVERY) this.commitDerived(batch[0]!);
    const last = batch[batch.length - 1]!;
    this.dispatchedEnd = last.physicalOffset + last.size;
    this.lastDispatchTimestamp = last.storeTimestamp;
    for (const l of this.listeners) {
      try {
        l(batch);
      } catch (err) {
        this.logger.error(`dispatch listener failed: ${(err as Error).message}`);
      }
    }
  }

  private commitDerived(first: DispatchRequest): void {
    this.uncommittedDerived = 0;
    try {
      this.consumeQueues.commit();
    } catch (err) {
      this.derivedWriteFailed(first.physicalOffset, err);
    }
    try {
      this.index.commit();
    } catch (err) {
      this.derivedWriteFailed(first.physicalOffset, err);
    }
  }

  private dispatchOne(request: DispatchRequest): void {
    try {
      this.consumeQueues.put(request);
    } catch (err) {
      this.derivedWriteFailed(request.physicalOffset, err);
    }
    try {
      this.index.put(request);
    } catch (err) {
      this.derivedWriteFailed(request.physicalOffset, err);
    }
  }

  private derivedWriteFailed(physicalOffset: number, err: unknown): void {
    if (physicalOffset >= this.derivedGapFrom) return;
    this.derivedGapFrom = physicalOffset;
    this.logger.error(
      `could not write consume-queue/index entries for the record at ${physicalOffset}: ` +
        `${(err as Error).message}; they will be rebuilt from the commit log at the next start`,
    );
  }

  // ---------------------------------------------------------------- reads

  /**
   * Reads up to `maxCount` messages of a queue from `offset`. Batched: one read of consume-queue
   * entries, then one read per run of adjacent records. Memory is bounded by `maxCount` and
   * `maxBytes`, never by the size of the log.
   */
  getMessages(
    topic: string,
    queueId: number,
    offset: number,
    maxCount: number,
    options: GetMessageOptions = {},
  ): GetMessageResult {
    const queue = this.consumeQueues.find(topic, queueId);
    const corrupted: CorruptRecordError[] = [];
    if (!queue) {
      return {
        status: 'NO_MATCHED_LOGIC_QUEUE',
        messages: [],
        nextOffset: 0,
        minOffset: 0,
        maxOffset: 0,
        offsetCorrected: false,
        corrupted,
      };
    }
    const minOffset = queue.minOffset;
    const maxOffset = queue.maxOffset;
    const base = { minOffset, maxOffset, corrupted, messages: [] as StoredMessage[] };
    if (maxOffset === minOffset)
      return {
        ...base,
        status: 'NO_MESSAGE_IN_QUEUE',
        nextOffset: minOffset,
        offsetCorrected: offset < minOffset,
      };
    if (offset === maxOffset)
      return { ...base, status: 'OFFSET_OVERFLOW_ONE', nextOffset: offset, offsetCorrected: false };
    if (offset > maxOffset)
      return { ...base, status: 'OFFSET_OVERFLOW_BADLY', nextOffset: maxOffset, offsetCorrected: true };
    const offsetCorrected = offset < minOffset;
    const from = Math.max(offset, minOffset);
    const count = Math.max(1, Math.min(maxCount, MAX_READ_BATCH));
    const maxBytes = Math.min(options.maxBytes ?? MAX_READ_BYTES, MAX_READ_BYTES);
    const { entries, nextOffset: scannedTo } = queue.read(from, count, options.tagFilter, count * 16);
    const messages: StoredMessage[] = [];
    let nextOffset = scannedTo;
    let bytes = 0;
    const logMin = this.commitLog.minOffset;
    const runs = groupIntoRuns(entries.filter((e) => e.physicalOffset >= logMin));
    outer: for (const run of runs) {
      const first = run[0]!;
      const last = run[run.length - 1]!;
      const length = last.physicalOffset + last.size - first.physicalOffset;
      const buf = Buffer.allocUnsafe(length);
      const read = this.commitLog.read(buf, 0, first.physicalOffset, length);
      for (const e of run) {
        if (messages.length > 0 && bytes + e.size > maxBytes) {
          nextOffset = e.queueOffset;
          break outer;
        }
        const pos = e.physicalOffset - first.physicalOffset;
        const message = this.verifiedAt(buf, pos, Math.max(0, read - pos), e, topic, queueId, corrupted);
        if (message) {
          messages.push(message);
          bytes += e.size;
        }
      }
    }
    const status: GetMessageStatus = messages.length > 0 ? 'FOUND' : 'NO_MATCHED_MESSAGE';
    return { status, messages, nextOffset, minOffset, maxOffset, offsetCorrected, corrupted };
  }

  private verifiedAt(
    buf: Buffer,
    pos: number,
    available: number,
    entry: ConsumeQueueEntry,
    topic: string,
    queueId: number,
    corrupted: CorruptRecordError[],
  ): StoredMessage | undefined {
    const check = checkRecord(buf, pos, Math.min(available, entry.size), entry.physicalOffset);
    let reason: string | undefined;
    let message: StoredMessage | undefined;
    if (check.kind !== 'message')
      reason = check.kind === 'corrupt' ? check.reason : `no record (${check.kind})`;
    else if (check.size !== entry.size)
      reason = `record size ${check.size} differs from queue entry size ${entry.size}`;
    else {
      message = decodeRecord(buf, pos);
      if (
        message.topic !== topic ||
        message.queueId !== queueId ||
        message.queueOffset !== entry.queueOffset
      ) {
        reason = `record belongs to ${message.topic}/${message.queueId}@${message.queueOffset}`;
        message = undefined;
      }
    }
    if (reason === undefined) return message;
    corrupted.push(this.corruption(entry.physicalOffset, reason));
    return undefined;
  }

  private corruption(physicalOffset: number, reason: string): CorruptRecordError {
    const segment = this.commitLog.segmentFor(physicalOffset);
    const err = new CorruptRecordError(
      segment?.path ?? '(deleted segment)',
      segment ? physicalOffset - segment.startOffset : -1,
      physicalOffset,
      reason,
    );
    if (!this.reportedCorruptions.has(physicalOffset)) {
      if (this.reportedCorruptions.size > 10_000) this.reportedCorruptions.clear();
      this.reportedCorruptions.add(physicalOffset);
      this.logger.error(`${err.message}; not served`);
    }
    return err;
  }

  /** Reads one record by its commit-log offset (verified); undefined if none is there. */
  getMessageByPhysicalOffset(physicalOffset: number): StoredMessage | undefined {
    if (physicalOffset < this.commitLog.minOffset || physicalOffset >= this.commitLog.committedOffset)
      return undefined;
    const head = Buffer.allocUnsafe(8);
    if (this.commitLog.read(head, 0, physicalOffset, 8) < 8) return undefined;
    const size = head.readUInt32BE(0);
    if (size < 8 || size > this.commitLog.segmentSize)
      throw this.corruption(physicalOffset, `impossible size ${size}`);
    const buf = Buffer.allocUnsafe(size);
    const read = this.commitLog.read(buf, 0, physicalOffset, size);
    const check = checkRecord(buf, 0, read, physicalOffset);
    if (check.kind === 'message') return decodeRecord(buf, 0);
    if (check.kind === 'blank') return undefined;
    throw this.corruption(physicalOffset, check.kind === 'corrupt' ? check.reason : 'no record');
  }

  private readVerified(offsets: readonly number[], match: (m: StoredMessage) => boolean): StoredMessage[] {
    const out: StoredMessage[] = [];
    for (const offset of offsets) {
      try {
        const m = this.getMessageByPhysicalOffset(offset);
        if (m && match(m)) out.push(m);
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
      }
    }
    return out;
  }

  /** Messages with this id (normally one; a producer retry may have stored it twice). */
  async queryByMessageId(messageId: string, maxResults = 32): Promise<StoredMessage[]> {
    const offsets = await this.index.lookupMessageId(messageId, maxResults);
    return this.readVerified(offsets, (m) => m.messageId === messageId);
  }

  /** Messages of `topic` carrying business key `key`, newest first. */
  async queryByKey(
    topic: string,
    key: string,
    maxResults = 32,
    beginTimestamp?: number,
    endTimestamp?: number,
  ): Promise<StoredMessage[]> {
    const offsets = await this.index.lookupKey(topic, key, maxResults, beginTimestamp, endTimestamp);
    return this.readVerified(
      offsets,
      (m) =>
        m.topic === topic &&
        m.keys.includes(key) &&
        (beginTimestamp === undefined || m.storeTimestamp >= beginTimestamp) &&
        (endTimestamp === undefined || m.storeTimestamp <= endTimestamp),
    );
  }

  // ---------------------------------------------------------------- queue metadata

  minOffset(topic: string, queueId: number): number {
    return this.consumeQueues.find(topic, queueId)?.minOffset ?? 0;
  }

  /** Next offset to be consumed-into: the number of visible messages ever stored in the queue. */
  maxOffset(topic: string, queueId: number): number {
    return this.consumeQueues.find(topic, queueId)?.maxOffset ?? 0;
  }

  topics(): string[] {
    return this.consumeQueues.topics();
  }

  queueIds(topic: string): number[] {
    return this.consumeQueues.queueIds(topic);
  }

  /** First queue offset whose message was stored at or after `timestamp` (maxOffset if none). */
  offsetForTimestamp(topic: string, queueId: number, timestamp: number): number {
    const queue = this.consumeQueues.find(topic, queueId);
    if (!queue) return 0;
    return queue.search((e) => {
      try {
        return (this.getMessageByPhysicalOffset(e.physicalOffset)?.storeTimestamp ?? Infinity) >= timestamp;
      } catch {
        return false;
      }
    });
  }

  /** Removes a topic's consume queues (its records age out of the commit log with retention). */
  deleteTopic(topic: string): void {
    this.consumeQueues.deleteTopic(topic);
    this.queueOffsets.delete(topic);
  }

  get stats(): {
    minPhysicalOffset: number;
    committedOffset: number;
    flushedOffset: number;
    dispatchedOffset: number;
    segments: number;
  } {
    return {
      minPhysicalOffset: this.commitLog.minOffset,
      committedOffset: this.commitLog.committedOffset,
      flushedOffset: this.flusher.flushedOffset,
      dispatchedOffset: this.dispatchedEnd,
      segments: this.commitLog.allSegments().length,
    };
  }

  /** Validates every record from the start of the log (an operator's check; O(log size)). */
  verify(): { records: number; corruptions: readonly CorruptRange[]; endOffset: number } {
    const scan = scanCommitLog(this.commitLog.allSegments(), this.commitLog.minOffset);
    return { records: scan.records, corruptions: scan.corruptions, endOffset: scan.endOffset };
  }

  // ---------------------------------------------------------------- maintenance

  /** Deletes expired segments and what they make obsolete. Returns segments deleted. */
  runRetention(now = Date.now()): number {
    if (this.state !== 'open') return 0;
    return this.retention.run(now);
  }

  private periodicCheckpoint(): void {
    if (this.state !== 'open' || this.checkpointing) return;
    this.writeCheckpoint().catch((err: unknown) =>
      this.logger.error(`checkpoint failed: ${(err as Error).message}; will retry`),
    );
  }

  /**
   * Consume queues and index first, then the checkpoint that vouches for them: a crash between
   * the two only makes recovery re-dispatch a little more. One runs at a time.
   */
  private async writeCheckpoint(): Promise<void> {
    while (this.checkpointing) await this.checkpointing.catch(() => undefined);
    const run = this.checkpointOnce();
    this.checkpointing = run;
    try {
      await run;
    } finally {
      this.checkpointing = undefined;
    }
  }

  private async checkpointOnce(): Promise<void> {
    const dispatched = this.dispatchedEnd;
    const dispatchTimestamp = this.lastDispatchTimestamp;
    // Every entry dispatched so far was committed / queued to the index thread before these
    // flushes, and any index write failure is reported (in order) before the index's reply, so
    // derivedGapFrom is current below. Neither blocks the event loop on fdatasync.
    await Promise.all([this.consumeQueues.flushAsync(), this.index.flush()]);
    const flushed = Math.min(this.flusher.flushedOffset, this.commitLog.committedOffset);
    if (flushed >= dispatched) this.lastFlushedTimestamp = dispatchTimestamp;
    await this.checkpoint.write({
      commitLogFlushedOffset: flushed,
      dispatchedOffset: Math.min(dispatched, flushed, this.derivedGapFrom),
      physicMsgTimestamp: this.lastFlushedTimestamp,
      logicsMsgTimestamp: dispatchTimestamp,
      indexMsgTimestamp: dispatchTimestamp,
    });
  }

  /** Flushes everything, checkpoints and releases the directory. Pending appends complete first. */
  async close(): Promise<void> {
    if (this.state !== 'open') {
      this.state = 'closed';
      return;
    }
    this.state = 'closing';
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.commitStaged();
    await this.flusher.drain();
    this.flusher.stop();
    // A failed final checkpoint (disk full, I/O error) must not keep descriptors open: the commit
    // log is already durable, so we close everything and leave the abort marker, which makes the
    // next start run crash recovery and rebuild whatever the checkpoint could not vouch for.
    let clean = !this.failure;
    const attempt = async (what: string, fn: () => void | Promise<void>): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        clean = false;
        this.logger.error(
          `${what} failed during close: ${(err as Error).message}; the next start will recover`,
        );
      }
    };
    if (clean) await attempt('final checkpoint', () => this.writeCheckpoint());
    this.state = 'closed';
    await attempt('closing consume queues', () => this.consumeQueues.close());
    await attempt('closing the index', () => this.index.close());
    await attempt('closing the commit log', () => this.commitLog.close());
    await attempt('closing the checkpoint', () => this.checkpoint.close());
    if (clean) this.abortMarker.release();
  }
}

function noop(): void {}

const NO_KEYS: readonly string[] = [];

/**
 * Bound on dispatched records whose queue/index entries are only staged in memory (≈ 20 B + 40 B
 * each); a chunk this size is written with one pwrite per touched file.
 */
const DERIVED_COMMIT_EVERY = 16_384;

/**
 * How long opening a new preallocated log may wait for its first segment to be prepared (a 1 GiB
 * segment takes a few seconds here); past it the log starts on a cold segment.
 */
const FIRST_SEGMENT_PREPARE_TIMEOUT_MS = 10_000;

/** Most bytes one coalesced read may span. */
const MAX_RUN_BYTES = 1024 * 1024;

/** Groups entries whose records are adjacent in the log into runs read with one pread each. */
function groupIntoRuns(entries: readonly ConsumeQueueEntry[]): ConsumeQueueEntry[][] {
  const runs: ConsumeQueueEntry[][] = [];
  let run: ConsumeQueueEntry[] = [];
  let runStart = 0;
  let runEnd = 0;
  for (const e of entries) {
    if (
      run.length > 0 &&
      e.physicalOffset === runEnd &&
      e.physicalOffset + e.size - runStart <= MAX_RUN_BYTES
    ) {
      run.push(e);
      runEnd += e.size;
      continue;
    }
    if (run.length > 0) runs.push(run);
    run = [e];
    runStart = e.physicalOffset;
    runEnd = e.physicalOffset + e.size;
  }
  if (run.length > 0) runs.push(run);
  return runs;
}

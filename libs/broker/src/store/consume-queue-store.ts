import { type Dirent, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { consoleStoreLogger, type DispatchRequest, type StoreLogger } from './dispatch-request.js';
import { StoreClosedError, StoreIOError } from './errors.js';
import {
  ConsumeQueue,
  type ConsumeQueueListener,
  CQ_DEFAULT_MAX_OPEN_FILES,
  FdPool,
  isLegalQueueId,
  isLegalTopicName,
} from './consume-queue.js';

export {
  ConsumeQueue,
  ConsumeQueueError,
  CQ_ENTRY_SIZE,
  FdPool,
  type ConsumeQueueEntry,
  type ConsumeQueueOptions,
} from './consume-queue.js';

export interface ConsumeQueueStoreOptions {
  /** The consume-queue root, `<storeDir>/consumequeue`. */
  dir: string;
  entriesPerFile?: number;
  logger?: StoreLogger;
  /** Descriptors kept open across all queues (LRU); default {@link CQ_DEFAULT_MAX_OPEN_FILES}. */
  maxOpenFiles?: number;
}

/** Canonical decimal queue id directory name: no sign, no leading zeros. */
const QUEUE_ID_NAME = /^(0|[1-9]\d{0,4})$/;

/**
 * All consume queues of a store: `<dir>/<topic>/<queueId>/`. Queues that have something staged or
 * unflushed are tracked in two sets (the queues report it through a listener), so `commit` and
 * `flush` touch only the queues written since the previous call, not every idle queue. All queues
 * share one descriptor pool.
 */
export class ConsumeQueueStore {
  readonly dir: string;
  private readonly entriesPerFile: number | undefined;
  private readonly logger: StoreLogger;
  private readonly pool: FdPool;
  private readonly byTopic = new Map<string, Map<number, ConsumeQueue>>();
  private readonly staged = new Set<ConsumeQueue>();
  private readonly unflushed = new Set<ConsumeQueue>();
  private readonly listener: ConsumeQueueListener;
  private closed = false;

  constructor(options: ConsumeQueueStoreOptions) {
    this.dir = options.dir;
    this.entriesPerFile = options.entriesPerFile;
    this.logger = options.logger ?? consoleStoreLogger;
    this.pool = new FdPool(options.maxOpenFiles ?? CQ_DEFAULT_MAX_OPEN_FILES);
    this.listener = {
      staged: (queue) => this.staged.add(queue),
      unflushed: (queue) => this.unflushed.add(queue),
    };
  }

  /** Queues with staged entries (waiting for `commit`). */
  get stagedQueueCount(): number {
    return this.staged.size;
  }

  /** Queues with writes not yet made durable (waiting for `flush`). */
  get unflushedQueueCount(): number {
    return this.unflushed.size;
  }

  /**
   * Discovers and loads `<topic>/<queueId>` directories. Topic directories must be legal RocketMQ
   * topic names (`[%|a-zA-Z0-9_-]+`), queue directories canonical decimal ids in [0, 65535];
   * anything else is skipped with a warning. Queues already open are closed first.
   */
  load(): void {
    this.closeQueues();
    this.closed = false;
    for (const topicEntry of this.readDir(this.dir)) {
      const topic = topicEntry.name;
      if (!topicEntry.isDirectory()) {
        this.logger.warn(`consume queues: ignoring ${join(this.dir, topic)}: not a directory`);
        continue;
      }
      if (!isLegalTopicName(topic)) {
        this.logger.warn(`consume queues: ignoring ${join(this.dir, topic)}: not a legal topic name`);
        continue;
      }
      for (const queueEntry of this.readDir(join(this.dir, topic))) {
        const path = join(this.dir, topic, queueEntry.name);
        const queueId = Number(queueEntry.name);
        if (!queueEntry.isDirectory() || !QUEUE_ID_NAME.test(queueEntry.name) || !isLegalQueueId(queueId)) {
          this.logger.warn(`consume queues: ignoring ${path}: not a queue id directory`);
          continue;
        }
        this.open(topic, queueId);
      }
    }
  }

  findOrCreate(topic: string, queueId: number): ConsumeQueue {
    return this.byTopic.get(topic)?.get(queueId) ?? this.open(topic, queueId);
  }

  find(topic: string, queueId: number): ConsumeQueue | undefined {
    return this.byTopic.get(topic)?.get(queueId);
  }

  *queues(): Iterable<ConsumeQueue> {
    for (const byId of this.byTopic.values()) yield* byId.values();
  }

  topics(): string[] {
    return [...this.byTopic.keys()].sort();
  }

  queueIds(topic: string): number[] {
    const byId = this.byTopic.get(topic);
    return byId ? [...byId.keys()].sort((a, b) => a - b) : [];
  }

  put(request: DispatchRequest): void {
    const queue =
      this.byTopic.get(request.topic)?.get(request.queueId) ?? this.open(request.topic, request.queueId);
    queue.put(request.queueOffset, request.physicalOffset, request.size, request.tagsCode);
  }

  /** Commits the queues that staged entries since the last call. */
  commit(): void {
    for (const queue of this.staged) {
      queue.commit();
      this.staged.delete(queue);
    }
  }

  /** Commits, then flushes the queues written since the last flush. */
  flush(): void {
    this.commit();
    for (const queue of this.unflushed) {
      queue.flush();
      this.unflushed.delete(queue);
    }
  }

  /** `flush()` without blocking the event loop on fdatasync (see ConsumeQueue.flushAsync). */
  async flushAsync(): Promise<void> {
    this.commit();
    const queues = [...this.unflushed];
    this.unflushed.clear();
    try {
      await Promise.all(queues.map((q) => q.flushAsync()));
    } catch (err) {
      for (const q of queues) this.unflushed.add(q);
      throw err;
    }
  }

  truncateByPhysicalOffset(maxPhysicalOffset: number): void {
    for (const queue of this.queues()) queue.truncateByPhysicalOffset(maxPhysicalOffset);
  }

  /** Applies retention to every queue; returns the number of files deleted. */
  deleteExpired(minPhysicalOffset: number): number {
    let deleted = 0;
    for (const queue of this.queues()) deleted += queue.deleteExpired(minPhysicalOffset);
    return deleted;
  }

  /** Highest `physicalOffset + size` of any queue's last entry (staged included); 0 if none. */
  maxPhysicalEnd(): number {
    let end = 0;
    for (const queue of this.queues()) {
      const last = queue.lastEntry();
      if (last && last.physicalOffset + last.size > end) end = last.physicalOffset + last.size;
    }
    return end;
  }

  /** Destroys the topic's queues and deletes its directory. */
  deleteTopic(topic: string): void {
    const byId = this.byTopic.get(topic);
    if (byId) {
      for (const queue of byId.values()) {
        this.staged.delete(queue);
        this.unflushed.delete(queue);
        queue.destroy();
      }
      this.byTopic.delete(topic);
    }
    if (!isLegalTopicName(topic)) return; // never a directory of ours; do not let it name a path
    try {
      rmSync(join(this.dir, topic), { recursive: true, force: true });
    } catch (err) {
      throw new StoreIOError(`deleting consume queues of ${topic}`, err);
    }
  }

  /** Flushes and closes every queue. Reopen with `load()`. */
  close(): void {
    if (this.closed) return;
    try {
      this.flush();
    } finally {
      this.closed = true;
      this.closeQueues();
    }
  }

  /** Closes every queue and deletes the whole consume-queue root. */
  destroy(): void {
    for (const queue of this.queues()) queue.destroy();
    this.byTopic.clear();
    this.staged.clear();
    this.unflushed.clear();
    this.closed = true;
    try {
      rmSync(this.dir, { recursive: true, force: true });
    } catch (err) {
      throw new StoreIOError(`deleting ${this.dir}`, err);
    }
  }

  private open(topic: string, queueId: number): ConsumeQueue {
    if (this.closed) throw new StoreClosedError();
    const queue = new ConsumeQueue({
      dir: this.dir,
      topic,
      queueId,
      entriesPerFile: this.entriesPerFile,
      logger: this.logger,
      fdPool: this.pool,
      listener: this.listener,
    });
    queue.load();
    let byId = this.byTopic.get(topic);
    if (!byId) {
      byId = new Map();
      this.byTopic.set(topic, byId);
    }
    byId.set(queueId, queue);
    return queue;
  }

  /** Closes every queue (each flushes what it holds) and forgets them; the first failure is rethrown. */
  private closeQueues(): void {
    let failure: unknown;
    for (const queue of this.queues()) {
      try {
        queue.close();
      } catch (err) {
        failure ??= err;
      }
    }
    this.byTopic.clear();
    this.staged.clear();
    this.unflushed.clear();
    if (failure !== undefined) throw failure;
  }

  private readDir(dir: string): Dirent[] {
    try {
      return readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
        a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
      );
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new StoreIOError(`listing ${dir}`, err);
    }
  }
}

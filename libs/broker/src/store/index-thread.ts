import { Worker } from 'node:worker_threads';
import { type DispatchRequest, type StoreLogger } from './dispatch-request.js';
import { StoreIOError } from './errors.js';
import { forEachIndexHash } from './index-service.js';
import {
  ENTRY_FIELDS,
  type IndexThreadOptions,
  type IndexThreadReply,
  type IndexThreadRequest,
} from './index-thread-protocol.js';

export interface IndexThreadStartOptions extends IndexThreadOptions {
  readonly logger: StoreLogger;
  /** A queued index write failed on the index thread (disk full…): entries from this record on are missing. */
  readonly onWriteFailed: (physicalOffset: number, err: Error) => void;
}

/** Entries per chunk sent to the index thread (transferred, not copied: 8192 × 24 B). */
const CHUNK_ENTRIES = 8192;

/**
 * The key/message-id index, built on its own thread. RocketMQ builds its IndexFile in the reput
 * thread, off the send path; here the event loop only hashes the id and keys of each record and
 * appends three numbers to a chunk, which is transferred to a worker that owns the IndexService
 * (slot table, entries, files). On a 2-core machine that moves ~0.7 µs of work per message off the
 * thread that encodes, writes and serves.
 *
 * Everything sent to the worker is applied in order, so a lookup or flush sees every entry put
 * before it. Lookups and flushes are therefore asynchronous.
 */
export class IndexThread {
  private chunk = new Float64Array(CHUNK_ENTRIES * ENTRY_FIELDS);
  private count = 0;
  private nextId = 1;
  private readonly replies = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (err: Error) => void }
  >();
  private failure: Error | undefined;
  private closing = false;
  private putOffset = 0;
  private putTimestamp = 0;

  private constructor(
    private readonly worker: Worker,
    private readonly options: IndexThreadStartOptions,
    readonly loadedMaxPhysicalOffset: number,
  ) {
    worker.on('message', (reply: IndexThreadReply) => this.onReply(reply));
    worker.on('error', (err) => this.onDeath(err));
    worker.on('exit', (code) => {
      if (this.failure) return;
      if (this.closing && code === 0) {
        // After a close request the thread ends on its own, possibly before its reply is read here.
        for (const waiter of this.replies.values()) waiter.resolve(undefined);
        this.replies.clear();
        return;
      }
      this.onDeath(new Error(`index thread exited with code ${code}`));
    });
    // Like the store's timers, the index thread never keeps a process alive on its own.
    worker.unref();
  }

  /** Starts the thread and loads (and if needed repairs) the index files. */
  static start(options: IndexThreadStartOptions): Promise<IndexThread> {
    const self = import.meta.url;
    // From source (tests, ts loaders) the worker is TypeScript too and needs the same loader.
    const fromSource = self.endsWith('.ts');
    const worker = new Worker(
      new URL(fromSource ? './index-thread-worker.ts' : './index-thread-worker.js', self),
      {
        workerData: { dir: options.dir, slotCount: options.slotCount, entryCount: options.entryCount },
        execArgv: fromSource ? ['--import', '@swc-node/register/esm-register'] : [],
      },
    );
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => reject(new StoreIOError('starting the index thread', err));
      worker.once('error', onError);
      const onMessage = (reply: IndexThreadReply): void => {
        if (reply.type === 'log') return logTo(options.logger, reply);
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (reply.type === 'loaded') resolve(new IndexThread(worker, options, reply.maxPhysicalOffset));
        else {
          void worker.terminate();
          reject(
            new StoreIOError(
              'loading the index',
              new Error(reply.type === 'loadFailed' ? reply.message : reply.type),
            ),
          );
        }
      };
      worker.on('message', onMessage);
    });
  }

  private readonly pushHash = (hash: number): void => {
    const at = this.count * ENTRY_FIELDS;
    const chunk = this.chunk;
    chunk[at] = hash;
    chunk[at + 1] = this.putOffset;
    chunk[at + 2] = this.putTimestamp;
    if (++this.count === CHUNK_ENTRIES) this.sendEntries();
  };

  /**
   * Queues the record's id and keys (their hashes: precomputed by the encoder for live appends).
   * Synchronous and allocation-free apart from full chunks.
   */
  put(request: DispatchRequest): void {
    if (this.failure) throw this.failure;
    this.putOffset = request.physicalOffset;
    this.putTimestamp = request.storeTimestamp;
    const hashes = request.indexHashes;
    if (hashes === undefined) forEachIndexHash(request, this.pushHash);
    else for (let i = 0; i < hashes.length; i++) this.pushHash(hashes[i]!);
  }

  /** Sends queued entries and has them written to the files' page cache. */
  commit(): void {
    this.sendEntries();
    this.post({ op: 'commit' });
  }

  /** Resolves once everything put so far is durable on disk. */
  async flush(): Promise<void> {
    this.sendEntries();
    await this.request({ op: 'flush', id: this.nextId++ });
  }

  lookupMessageId(messageId: string, maxResults: number): Promise<number[]> {
    this.sendEntries();
    return this.request({ op: 'lookupMessageId', id: this.nextId++, messageId, maxResults }) as Promise<
      number[]
    >;
  }

  lookupKey(topic: string, key: string, maxResults: number, begin?: number, end?: number): Promise<number[]> {
    this.sendEntries();
    return this.request({
      op: 'lookupKey',
      id: this.nextId++,
      topic,
      key,
      maxResults,
      begin,
      end,
    }) as Promise<number[]>;
  }

  /** Recovery cut the commit log: forget entries at or above `offset`. Applied in order. */
  truncateAbove(offset: number): void {
    this.sendEntries();
    this.post({ op: 'truncateAbove', offset });
  }

  /** Retention: drop index files that only reference records below `offset`. */
  deleteFilesBelow(offset: number): void {
    this.sendEntries();
    this.post({ op: 'deleteFilesBelow', offset });
  }

  /** Flushes, closes the files and ends the thread. */
  async close(): Promise<void> {
    if (this.failure) {
      await this.worker.terminate();
      return;
    }
    this.sendEntries();
    this.closing = true;
    try {
      await this.request({ op: 'close', id: this.nextId++ });
    } finally {
      this.failure = new StoreIOError('index', new Error('the index is closed'));
      await this.worker.terminate();
    }
  }

  private sendEntries(): void {
    if (this.count === 0 || this.failure) return;
    const data = this.chunk;
    const count = this.count;
    this.chunk = new Float64Array(CHUNK_ENTRIES * ENTRY_FIELDS);
    this.count = 0;
    this.worker.postMessage({ op: 'entries', data, count } satisfies IndexThreadRequest, [data.buffer]);
  }

  private post(request: IndexThreadRequest): void {
    if (this.failure) throw this.failure;
    this.worker.postMessage(request);
  }

  private request(request: IndexThreadRequest & { readonly id: number }): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      // Referenced only while someone awaits a reply, so an idle index never keeps a process alive
      // and an awaited flush or lookup is never cut short by the event loop running dry.
      if (this.replies.size === 0) this.worker.ref();
      this.replies.set(request.id, { resolve, reject });
      this.worker.postMessage(request);
    });
  }

  private onReply(reply: IndexThreadReply): void {
    switch (reply.type) {
      case 'log':
        return logTo(this.options.logger, reply);
      case 'failed':
        return this.options.onWriteFailed(
          reply.physicalOffset,
          new StoreIOError('index write', new Error(reply.message)),
        );
      case 'reply': {
        const waiter = this.replies.get(reply.id);
        this.replies.delete(reply.id);
        if (this.replies.size === 0) this.worker.unref();
        if (reply.error !== undefined) waiter?.reject(new StoreIOError('index', new Error(reply.error)));
        else waiter?.resolve(reply.result);
        return;
      }
      default:
        return;
    }
  }

  private onDeath(err: Error): void {
    this.failure = new StoreIOError('index thread', err);
    this.options.logger.error(`index thread stopped: ${err.message}`);
    for (const waiter of this.replies.values()) waiter.reject(this.failure);
    this.replies.clear();
  }
}

function logTo(
  logger: StoreLogger,
  reply: { readonly level: 'log' | 'warn' | 'error'; readonly message: string },
): void {
  logger[reply.level](reply.message);
}

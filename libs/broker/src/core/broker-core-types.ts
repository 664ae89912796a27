/** Options and request shapes of the broker core facade (broker-core.ts). */
import { type FlushMode, type MessageStoreOptions, type StoreLogger } from '../store/index.js';
import { type Clock } from './clock.js';
import { type ConsumeEngineLimits } from './consume/consume-engine.js';
import { type FilterExpression } from './filter/index.js';
import { type GroupOptions } from './group-registry.js';
import { type TransactionCheck, type TransactionServiceOptions } from './transaction/transaction-service.js';

/** Where the core logs; the store's shape (Nest's Logger fits). */
export type BrokerCoreLogger = StoreLogger;

/**
 * Sends a transaction check-back to a live producer of the topic; false when none is connected (the
 * check is repeated one interval later, not counted). The answer comes through `endTransaction(…,
 * 'SERVER_CHECK')`.
 */
export type TransactionCheckBack = (check: TransactionCheck) => boolean;

export interface BrokerCoreOptions {
  /** Root of all state: `store/`, `config/` (topics, groups, offsets, epoch), `timer/`, `transaction/`. */
  readonly dataDir: string;
  /** Every lease, backoff, timer and check-back runs on it. Default: the system clock. */
  readonly clock?: Clock;
  /** The store's flush mode: `sync` acks after fdatasync, `async` (default) once written. */
  readonly flushMode?: FlushMode;
  /** Commit-log segment size; default the store's (64 MiB). */
  readonly segmentSize?: number;
  /** Zero-fill the next segment ahead of time. Default false. */
  readonly preallocate?: boolean;
  /** Further store options (retention, checkpoint interval, store host, …). */
  readonly store?: Omit<
    MessageStoreOptions,
    'dataDir' | 'logger' | 'flushMode' | 'segmentSize' | 'preallocate'
  >;
  /** Create unknown topics on first send or receive. Default true. */
  readonly autoCreateTopics?: boolean;
  /** Create unknown consumer groups on first receive. Default true. */
  readonly autoCreateGroups?: boolean;
  /** Queue count of auto-created topics and of topics created without one. Default 8. */
  readonly defaultQueueCount?: number;
  /** Policy of auto-created groups and of groups created without one. Default RocketMQ's. */
  readonly groupDefaults?: GroupOptions;
  /** Latest accepted delivery timestamp, from now. Default 24 h (RocketMQ `maxDelayTimeMills`). */
  readonly maxDelayMs?: number;
  /** Largest accepted body. Default 4 MiB − 64 KiB (`DEFAULT_MAX_BODY_SIZE`, PROTOCOL.md §2). */
  readonly maxBodySize?: number;
  /**
   * Most messages one receive returns, and the `receive_batch_size` Settings push to consumers
   * (1..1024). Default 32, as Apache RocketMQ, whose brokers refuse more: code that runs here then
   * runs there unchanged. Like RocketMQ's `maxTransferCountOnMessageInMemory`, a standalone broker
   * may raise it: each receive is a gRPC call costing both sides a few hundred µs of CPU, so fewer,
   * larger answers leave more CPU for the messages (README, Performance).
   */
  readonly maxReceiveBatchSize?: number;
  /**
   * Key of the receipt handles' MAC, ≥ 16 bytes. Default: 32 random bytes per run, never written to
   * disk. Leases live in memory only, so no handle can outlive its run anyway; the persisted epoch
   * rejects an old handle even under a configured, fixed secret.
   */
  readonly receiptHandleSecret?: Buffer;
  /** How check-backs reach producers; settable later with `setTransactionCheckBack`. Default: none connected. */
  readonly transactionCheckBack?: TransactionCheckBack;
  /** Check-back timing and the pending-half cap (defaults: 6 s, 30 s, 15 checks, 200,000). */
  readonly transaction?: Pick<
    TransactionServiceOptions,
    'firstCheckMs' | 'checkIntervalMs' | 'maxChecks' | 'maxPending' | 'maxHalfAgeMs'
  >;
  /** Bounds of the consume engine's per-queue tables. */
  readonly consumeLimits?: Partial<Omit<ConsumeEngineLimits, 'maxReceiveBatchSize'>>;
  /** Default: each part logs to the console with its own prefix. */
  readonly logger?: BrokerCoreLogger;
}

/** A ReceiveMessage call. */
export interface ReceiveOptions {
  readonly group: string;
  readonly topic: string;
  /** Default TAG `*` (everything). */
  readonly filter?: FilterExpression;
  /** Missing takes 32; not an integer ≥ 1 is BAD_REQUEST; more than 32 is clamped (Apache's proxy). */
  readonly batchSize?: number;
  /** Lease length, 10 s..12 h. */
  readonly invisibleMs: number;
  /** The receiving client, so that `releaseClient` can hand its leases back. */
  readonly clientId?: string;
  /**
   * A repeat of a receive's attempt id while its messages are still leased gets them back with fresh
   * handles and the same attempt numbers (RocketMQ's `attempt_id`), in standard and FIFO groups.
   */
  readonly attemptId?: string;
  /**
   * When an expired lease comes back: `group-backoff` (default; Push consumers) or `lease-end`
   * (visible once the lease ends, as Apache does for a SimpleConsumer). A nack (ChangeInvisibleDuration
   * 0) always waits the group's backoff.
   */
  readonly retryAfter?: 'group-backoff' | 'lease-end';
}

export interface ListTopicsOptions {
  /** Also list broker-internal topics (none are registered by default). Default false. */
  readonly includeSystem?: boolean;
  /** Also list `%RETRY%<group>` and `%DLQ%<group>` topics. Default true. */
  readonly includeRetryAndDlq?: boolean;
}

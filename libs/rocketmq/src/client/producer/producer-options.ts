/**
 * Producer options (on top of the connection's `ClientOptions`) and their defaults.
 *
 * Batching defaults, and why:
 * - `maxMessages` 256 per SendMessage: with a window of 256 sends in flight the whole window fits
 *   in one call; larger batches only add latency to the first message of the batch.
 * - `maxBytes` 1 MiB per SendMessage: an Apache broker refuses a batch whose encoded size exceeds
 *   its `maxMessageSize` (4 MiB), and our size is an estimate; 1 MiB holds 256 messages of 1 KiB
 *   with room to spare. A single larger message (bodies go up to 4 MiB − 64 KiB) is sent alone.
 * - `maxInFlight` 4 batches per topic: an idle producer sends each message at once (no added
 *   latency); under load, sends arriving while 4 calls are under way are coalesced into the next
 *   call, so the number of calls adapts to the server's speed.
 * - FIFO: each message group has one call in flight (its order holds across retries), and at most
 *   `maxFifoInFlight` (32) calls per topic run at once whatever the number of groups. A FIFO call
 *   carries ONE message unless `fifo: true`: Apache's proxy places a request of several messages
 *   by round robin, ignoring their group (`SendMessageActivity.SendMessageQueueSelector`), which
 *   would scatter a group over queues. The built-in broker places each message by its group, so
 *   `fifo: true` is safe against it and batches a group's consecutive messages.
 */
import { type RocketMQClientError } from '../errors.js';
import { type ClientOptions } from '../options.js';
import {
  type SendReceipt,
  type TransactionCheckMessage,
  type TransactionResolution,
} from './producer-types.js';

export const DEFAULT_MAX_ATTEMPTS = 3;
export const DEFAULT_BATCH_MAX_MESSAGES = 256;
export const DEFAULT_BATCH_MAX_BYTES = 1024 * 1024;
export const DEFAULT_MAX_FIFO_IN_FLIGHT = 32;
export const DEFAULT_MAX_IN_FLIGHT = 4;
/** Hard cap on a batch: under the built-in broker's 16 MiB request limit with room to spare. */
export const MAX_BATCH_BYTES_LIMIT = 12 * 1024 * 1024;
/** Retry backoff when the server's Settings give none. */
export const DEFAULT_RETRY_BACKOFF = Object.freeze({ initialMs: 100, maxMs: 2_000, multiplier: 2 });

export interface BatchingOptions {
  /** Most messages per SendMessage. Default 256; 1 disables batching. */
  readonly maxMessages?: number;
  /** Most (estimated) bytes per SendMessage. Default 1 MiB, at most 12 MiB. */
  readonly maxBytes?: number;
  /** SendMessage calls of standard (and of DELAY) messages in flight per topic. Default 4. */
  readonly maxInFlight?: number;
  /** SendMessage calls of FIFO messages in flight per topic (one per message group). Default 32. */
  readonly maxFifoInFlight?: number;
  /**
   * Batch consecutive messages of one FIFO group into one call. Default false (Apache's proxy
   * would not keep a batched group in one queue); safe with the built-in broker.
   */
  readonly fifo?: boolean;
}

export interface RetryBackoffOptions {
  readonly initialMs?: number;
  readonly maxMs?: number;
  readonly multiplier?: number;
}

/**
 * Answers the server's check of a transaction whose outcome it never learned (the producer died
 * between the half message and EndTransaction, or the local function returned UNKNOWN). UNKNOWN
 * leaves it to the next check.
 */
export type TransactionChecker = (
  message: TransactionCheckMessage,
) => TransactionResolution | Promise<TransactionResolution>;

export interface ProducerOptions extends ClientOptions {
  /** Topics to route and declare at start (others are added on first send). */
  readonly topics?: readonly string[];
  /** Attempts per message for retryable failures (never for transactional messages). Default 3. */
  readonly maxAttempts?: number;
  /** Backoff between attempts; default the server's (Settings), else 100 ms doubling to 2 s. */
  readonly retryBackoff?: RetryBackoffOptions;
  /** Automatic batching of concurrent sends; see the defaults above. */
  readonly batching?: BatchingOptions;
  /** With `hashKey` messages: map keys to this many message groups. Default: one group per key. */
  readonly hashKeyGroups?: number;
  /** Answers recover_orphaned_transaction_command (transaction check-backs). */
  readonly checker?: TransactionChecker;
  /** How long `close()` waits for sends under way before failing them. Default 2 × request timeout. */
  readonly closeTimeoutMs?: number;
}

export interface ResolvedProducerOptions {
  readonly maxAttempts: number;
  readonly retryBackoff: Required<RetryBackoffOptions> | undefined;
  readonly batching: Required<BatchingOptions>;
  readonly hashKeyGroups: number | undefined;
  readonly checker: TransactionChecker | undefined;
  readonly closeTimeoutMs: number | undefined;
  readonly topics: readonly string[];
}

function integer(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  }
  return value;
}

/** @throws RangeError / TypeError naming the bad option */
export function resolveProducerOptions(options: ProducerOptions): ResolvedProducerOptions {
  const b = options.batching ?? {};
  const r = options.retryBackoff;
  let retryBackoff: Required<RetryBackoffOptions> | undefined;
  if (r !== undefined) {
    retryBackoff = {
      initialMs: integer('retryBackoff.initialMs', r.initialMs, DEFAULT_RETRY_BACKOFF.initialMs, 0, 60_000),
      maxMs: integer('retryBackoff.maxMs', r.maxMs, DEFAULT_RETRY_BACKOFF.maxMs, 0, 600_000),
      multiplier: r.multiplier ?? DEFAULT_RETRY_BACKOFF.multiplier,
    };
    if (!Number.isFinite(retryBackoff.multiplier) || retryBackoff.multiplier < 1) {
      throw new RangeError('retryBackoff.multiplier must be a number ≥ 1');
    }
  }
  if (options.checker !== undefined && typeof options.checker !== 'function') {
    throw new TypeError('checker must be a function');
  }
  const topics = options.topics ?? [];
  if (!Array.isArray(topics) || !topics.every((t) => typeof t === 'string')) {
    throw new TypeError('topics must be a list of topic names');
  }
  return {
    maxAttempts: integer('maxAttempts', options.maxAttempts, DEFAULT_MAX_ATTEMPTS, 1, 100),
    retryBackoff,
    batching: {
      maxMessages: integer('batching.maxMessages', b.maxMessages, DEFAULT_BATCH_MAX_MESSAGES, 1, 10_000),
      maxBytes: integer('batching.maxBytes', b.maxBytes, DEFAULT_BATCH_MAX_BYTES, 1, MAX_BATCH_BYTES_LIMIT),
      maxInFlight: integer('batching.maxInFlight', b.maxInFlight, DEFAULT_MAX_IN_FLIGHT, 1, 1_000),
      maxFifoInFlight: integer(
        'batching.maxFifoInFlight',
        b.maxFifoInFlight,
        DEFAULT_MAX_FIFO_IN_FLIGHT,
        1,
        10_000,
      ),
      fifo: b.fifo ?? false,
    },
    hashKeyGroups:
      options.hashKeyGroups === undefined
        ? undefined
        : integer('hashKeyGroups', options.hashKeyGroups, 1, 1, 1_000_000),
    checker: options.checker,
    closeTimeoutMs:
      options.closeTimeoutMs === undefined
        ? undefined
        : integer('closeTimeoutMs', options.closeTimeoutMs, 0, 0, 3_600_000),
    topics,
  };
}

/** `sendAsync`'s callback: exactly one of the two is set. */
export type SendCallback = (error: RocketMQClientError | null, receipt?: SendReceipt) => void;

/**
 * Options of `Consumer.start`, their defaults and their checks. Every limit is named here with the
 * RocketMQ value it follows.
 */
import { RECEIVE_BATCH_LIMIT } from '@rocketnest/broker/core/limits.js';
import { validateConsumerGroup, validateInvisibleDuration } from '@rocketnest/broker/core/validation.js';
import { RocketError } from '@rocketnest/broker/status-code.js';
import { clientErrorOf } from '../errors.js';
import { type ClientOptions } from '../options.js';
import { RpcClient } from '../rpc-client.js';
import { type ConsumerLogger } from './consumer-logger.js';
import { type ConsumerTransport } from './consumer-transport.js';
import { type MessageHandler } from './message-processor.js';
import { type BackoffOptions, checkBackoff } from './retry-policy.js';
import { checkSubscriptions, type CheckedSubscription, type Subscription } from './subscription.js';

/** Messages held at once (received, waiting or running, not yet handed to settlement). */
export const DEFAULT_MAX_IN_FLIGHT = 1024;
/** Handlers running at once (Java PushConsumer: 20 consumption threads; async handlers are cheaper). */
export const DEFAULT_MAX_CONCURRENCY = 64;
/** Lease of a received message, renewed while it is held (10 s..12 h, Apache's bounds). */
export const DEFAULT_INVISIBLE_DURATION_MS = 30_000;
/** How long `close()` waits for running handlers. */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;
/**
 * Most messages one receive asks for. The server's `receive_batch_size` (Settings) caps it: 32 on
 * Apache RocketMQ, whose brokers refuse more; a built-in broker's `maxReceiveBatchSize` (32 unless
 * raised, up to this).
 */
export const MAX_RECEIVE_BATCH_SIZE = RECEIVE_BATCH_LIMIT;
/** Most receives in flight at once per queue. */
export const MAX_RECEIVE_CONCURRENCY = 8;
/**
 * Receives in flight at once per queue of a standard group. The Java client keeps one; with one, the
 * server idles while the client handles a batch and the client idles while the server prepares the
 * next, so a consumer gets at most half of what the two can do. Four overlap the two sides: draining
 * a backlog of 1 KiB messages from the built-in broker went from 8.1k to 10.5k msg/s here, and
 * nothing changes for an idle consumer (its receives wait in long polls, which cost the server a
 * timer each). FIFO groups keep one: their order is per message group, and the server hands a
 * group's next messages only after the previous ones are settled anyway.
 */
export const DEFAULT_RECEIVE_CONCURRENCY = 4;
/** The long poll when the server does not say (RocketMQ: 20 s). */
export const DEFAULT_LONG_POLLING_TIMEOUT_MS = 20_000;

export interface ConsumerOptions {
  /**
   * The connection: a connected `RpcClient` (it may be shared with producers; closing the consumer
   * leaves it open), or the options to connect one (`{ endpoints: 'host:port', … }`; it is closed
   * with the consumer). Give this or `transport`.
   */
  readonly client?: RpcClient | ClientOptions;
  /** Instead of `client`: a connection of your own (tests, proxies). */
  readonly transport?: ConsumerTransport;
  /** Consumer group: `^[%|a-zA-Z0-9_-]+$`, ≤ 120 characters. */
  readonly group: string;
  /** Topics and their filters (at least one; each topic once). */
  readonly subscriptions: readonly Subscription[];
  /**
   * Called once per delivery. Resolve with nothing or `ConsumeResult.SUCCESS` to acknowledge;
   * throw, reject or answer `ConsumeResult.FAILURE` to retry after the group's backoff, or
   * `Reconsume.after(ms)` to retry after `ms`.
   */
  readonly handler: MessageHandler;
  /** Most messages held at once; receives ask only for what fits. Default 1024. */
  readonly maxInFlight?: number;
  /** Most handlers running at once. Default 64. */
  readonly maxConcurrency?: number;
  /** Lease of each received message (renewed while held), 10 s..12 h. Default 30 s. */
  readonly invisibleDurationMs?: number;
  /**
   * Retry delays by attempt: exponential `{ initialMs, maxMs, multiplier }` or one delay per attempt.
   * Default: the group's, as the server sends it in the Settings answer.
   */
  readonly retryBackoff?: BackoffOptions;
  /** Max delivery attempts when the server does not say (it normally does). Default 17. */
  readonly maxAttempts?: number;
  /**
   * Most messages one receive asks for, 1..1024. Default: the server's batch size (Settings'
   * `receive_batch_size`), which caps it anyway; 32 when the server says none.
   */
  readonly receiveBatchSize?: number;
  /**
   * Receives in flight at once per assigned queue, 1..8. Default 4 for standard groups (overlaps the
   * server's work on the next batch with the handling of the current one), 1 for FIFO groups.
   */
  readonly receiveConcurrency?: number;
  /** How long `close()` waits for running handlers before leaving their messages to the server. Default 10 s. */
  readonly shutdownTimeoutMs?: number;
  /** How often assignments are refreshed. Default 5 s (Java). */
  readonly assignmentRefreshMs?: number;
  /** Default: the client's logger (console warnings and errors without one). */
  readonly logger?: ConsumerLogger;
}

/** Where the consumer's connection comes from. */
export type ConnectionSource =
  | { readonly kind: 'transport'; readonly transport: ConsumerTransport }
  | { readonly kind: 'client'; readonly client: RpcClient }
  | { readonly kind: 'connect'; readonly options: ClientOptions };

/** The options with defaults applied and everything checked. */
export interface ResolvedConsumerOptions {
  readonly connection: ConnectionSource;
  readonly group: string;
  readonly subscriptions: readonly CheckedSubscription[];
  readonly handler: MessageHandler;
  readonly maxInFlight: number;
  readonly maxConcurrency: number;
  readonly invisibleDurationMs: number;
  readonly retryBackoff: BackoffOptions | undefined;
  readonly maxAttempts: number | undefined;
  /** Undefined: the server's. */
  readonly receiveBatchSize: number | undefined;
  /** Undefined: the default for the group's kind (known once the server answered the Settings). */
  readonly receiveConcurrency: number | undefined;
  readonly shutdownTimeoutMs: number;
  readonly assignmentRefreshMs: number | undefined;
  readonly logger: ConsumerLogger | undefined;
}

/**
 * Applies defaults and checks everything a consumer can check before it connects.
 * @throws BadRequestError with ILLEGAL_CONSUMER_GROUP (40003), ILLEGAL_TOPIC (40002),
 *   ILLEGAL_FILTER_EXPRESSION (40010) or ILLEGAL_INVISIBLE_TIME (40011); TypeError / RangeError for
 *   other bad options
 */
export function resolveConsumerOptions(options: ConsumerOptions): ResolvedConsumerOptions {
  try {
    return resolve(options);
  } catch (err) {
    // The broker's validators speak RocketError; the client's callers get the client's error family.
    throw err instanceof RocketError ? clientErrorOf(err) : err;
  }
}

function connectionOf(options: ConsumerOptions): ConnectionSource {
  if (options.transport !== undefined && options.client !== undefined) {
    throw new TypeError('Consumer.start takes a client or a transport, not both');
  }
  if (typeof options.transport === 'object' && options.transport !== null) {
    return { kind: 'transport', transport: options.transport };
  }
  if (options.client instanceof RpcClient) return { kind: 'client', client: options.client };
  if (typeof options.client === 'object' && options.client !== null) {
    return { kind: 'connect', options: options.client };
  }
  throw new TypeError('Consumer.start needs a client (an RpcClient, or its options with endpoints)');
}

function resolve(options: ConsumerOptions): ResolvedConsumerOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('Consumer.start needs options');
  const connection = connectionOf(options);
  if (typeof options.handler !== 'function') throw new TypeError('Consumer.start needs a handler function');
  validateConsumerGroup(options.group);
  const subscriptions = checkSubscriptions(options.subscriptions);
  const invisibleDurationMs = validateInvisibleDuration(
    options.invisibleDurationMs ?? DEFAULT_INVISIBLE_DURATION_MS,
  );
  if (options.retryBackoff !== undefined) checkBackoff(options.retryBackoff);
  return {
    connection,
    group: options.group,
    subscriptions,
    handler: options.handler,
    maxInFlight: positiveInteger('maxInFlight', options.maxInFlight, DEFAULT_MAX_IN_FLIGHT),
    maxConcurrency: positiveInteger('maxConcurrency', options.maxConcurrency, DEFAULT_MAX_CONCURRENCY),
    invisibleDurationMs,
    retryBackoff: options.retryBackoff,
    maxAttempts:
      options.maxAttempts === undefined ? undefined : positiveInteger('maxAttempts', options.maxAttempts, 1),
    receiveBatchSize:
      options.receiveBatchSize === undefined
        ? undefined
        : Math.min(MAX_RECEIVE_BATCH_SIZE, positiveInteger('receiveBatchSize', options.receiveBatchSize, 1)),
    receiveConcurrency:
      options.receiveConcurrency === undefined
        ? undefined
        : Math.min(
            MAX_RECEIVE_CONCURRENCY,
            positiveInteger('receiveConcurrency', options.receiveConcurrency, 1),
          ),
    shutdownTimeoutMs: nonNegative(
      'shutdownTimeoutMs',
      options.shutdownTimeoutMs,
      DEFAULT_SHUTDOWN_TIMEOUT_MS,
    ),
    assignmentRefreshMs:
      options.assignmentRefreshMs === undefined
        ? undefined
        : positiveInteger('assignmentRefreshMs', options.assignmentRefreshMs, 1),
    logger: options.logger,
  };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new RangeError(`${name} must be an integer ≥ 1, got ${String(value)}`);
  }
  return value;
}

function nonNegative(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${name} must be a finite number ≥ 0, got ${String(value)}`);
  }
  return value;
}

/**
 * A discovered `@RocketListener`, resolved: its id, effective group, filter, limits and the call
 * into the Nest pipeline (pipes, guards, interceptors, filters), checked before anything connects.
 */
import { Filter, type BackoffOptions, type FilterExpression } from '../../client/index.js';
import { type BatchOptions, type RocketListenerOptions } from '../decorators/rocket-listener.decorator.js';
import { checkReconsumeTimes, type ResolvedRocketMQOptions } from '../module/rocketmq-options.js';
import { type PayloadCodec } from '../serialization/payload-codec.js';
import { broadcastGroupName, checkGroupName, defaultGroupName } from './listener-group.js';

/** Largest batch a batch listener may ask for. */
export const MAX_LISTENER_BATCH_SIZE = 1024;
/** Longest batch wait: past the default lease it would only add redeliveries. */
export const MAX_LISTENER_BATCH_WAIT_MS = 10_000;
/** Batches running at once per batch listener when `concurrency` is not given. */
export const DEFAULT_BATCH_CONCURRENCY = 1;

/** The Nest pipeline of a listener method: `args` are `[payload, context]` (batch: `[payloads, batchContext]`). */
export type ListenerInvoker = (args: readonly [unknown, unknown]) => Promise<unknown>;

export interface ListenerDefinition {
  readonly id: string;
  readonly className: string;
  readonly methodName: string;
  readonly topic: string;
  /** The group the listener consumes with (broadcasting: this instance's own). */
  readonly group: string;
  readonly filter: FilterExpression;
  /** `topic` or `topic:tag`, as RocketMQContext.getPattern() says. */
  readonly pattern: string;
  readonly orderly: boolean;
  readonly model: 'clustering' | 'broadcasting';
  readonly batch: BatchOptions | undefined;
  readonly maxReconsumeTimes: number | undefined;
  /** Handlers (batch listeners: batches) running at once; undefined = the client's default. */
  readonly concurrency: number | undefined;
  readonly maxInFlight: number | undefined;
  readonly invisibleDurationMs: number | undefined;
  readonly backoff: BackoffOptions | undefined;
  readonly drainTimeoutMs: number | undefined;
  readonly codec: PayloadCodec;
  readonly invoke: ListenerInvoker;
}

export interface ListenerSource {
  readonly className: string;
  readonly methodName: string;
  readonly options: RocketListenerOptions;
  readonly orderly: boolean;
  /** How many `@RocketListener`s the method has (ids get `#<topic>` when several). */
  readonly onMethod: number;
  readonly invoke: ListenerInvoker;
}

/**
 * Resolves a listener's options against the module's defaults.
 * @throws TypeError / RangeError naming the listener and the bad option; the client's
 *   ILLEGAL_CONSUMER_GROUP error for a bad group name
 */
export function defineListener(source: ListenerSource, module: ResolvedRocketMQOptions): ListenerDefinition {
  const { options, className, methodName } = source;
  const where = `@RocketListener on ${className}.${methodName}`;
  if (typeof options !== 'object' || options === null) throw new TypeError(`${where} needs options`);
  if (typeof options.topic !== 'string' || options.topic === '') {
    throw new TypeError(`${where} needs a topic`);
  }
  if (options.tag !== undefined && options.sql !== undefined) {
    throw new RangeError(`${where}: give tag or sql, not both`);
  }
  const model = options.model ?? 'clustering';
  if (model !== 'clustering' && model !== 'broadcasting') {
    throw new RangeError(`${where}: model must be 'clustering' or 'broadcasting', got ${String(model)}`);
  }
  if (source.orderly && model === 'broadcasting') {
    // As rocketmq-spring: the order of a message group is a promise of one group's consumption.
    throw new RangeError(`${where}: @Orderly() does not go with broadcasting`);
  }
  const batch = options.batch === undefined ? undefined : checkBatch(where, options.batch);
  const consumer = module.consumer;
  const maxReconsumeTimes = options.maxReconsumeTimes ?? consumer.maxReconsumeTimes;
  if (maxReconsumeTimes !== undefined) checkReconsumeTimes(maxReconsumeTimes);
  const baseGroup = checkGroupName(options.group ?? defaultGroupName(className, methodName, options.topic));
  const group = checkGroupName(
    model === 'broadcasting' ? broadcastGroupName(baseGroup, module.instanceName) : baseGroup,
  );
  const filter =
    options.sql !== undefined
      ? Filter.sql(options.sql)
      : options.tag !== undefined
        ? Filter.tag(options.tag)
        : Filter.ALL;
  const tagged = options.tag !== undefined && options.tag !== '*';
  return {
    id: options.id ?? `${className}.${methodName}${source.onMethod > 1 ? `#${options.topic}` : ''}`,
    className,
    methodName,
    topic: options.topic,
    group,
    filter,
    pattern: tagged ? `${options.topic}:${options.tag}` : options.topic,
    orderly: source.orderly,
    model,
    batch,
    maxReconsumeTimes,
    concurrency: options.concurrency ?? (batch ? DEFAULT_BATCH_CONCURRENCY : consumer.concurrency),
    maxInFlight: options.maxInFlight ?? consumer.maxInFlight,
    invisibleDurationMs: options.invisibleDurationMs ?? consumer.invisibleDurationMs,
    backoff: options.backoff ?? consumer.backoff,
    drainTimeoutMs: consumer.drainTimeoutMs,
    codec: options.codec ?? module.codec,
    invoke: source.invoke,
  };
}

function checkBatch(where: string, batch: BatchOptions): BatchOptions {
  const { size, waitMs } = batch ?? {};
  if (!Number.isInteger(size) || size < 1 || size > MAX_LISTENER_BATCH_SIZE) {
    throw new RangeError(
      `${where}: batch.size must be an integer 1..${MAX_LISTENER_BATCH_SIZE}, got ${String(size)}`,
    );
  }
  if (
    typeof waitMs !== 'number' ||
    !Number.isFinite(waitMs) ||
    waitMs < 0 ||
    waitMs > MAX_LISTENER_BATCH_WAIT_MS
  ) {
    throw new RangeError(
      `${where}: batch.waitMs must be 0..${MAX_LISTENER_BATCH_WAIT_MS} ms, got ${String(waitMs)}`,
    );
  }
  return { size, waitMs };
}

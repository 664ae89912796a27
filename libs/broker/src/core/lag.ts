/**
 * Backlog tools over the store and the committed offsets: lag per group and queue, reset to a
 * timestamp, and where a group starts in a queue it has never read.
 *
 * The store is taken through the few read-only methods used here (a MessageStore fits), so the tools
 * work on any store-like source and stay free of the store's lifecycle.
 */
import { BadRequestError } from './errors.js';
import type { ConsumerOffsets } from './consumer-offsets.js';
import type { ConsumeFrom, GroupConfig } from './group-registry.js';
import { isRetryOrDlqTopic } from './validation.js';

/** What lag needs of a store (MessageStore has these). */
export interface QueueBounds {
  /** Lowest retained queue offset (0 for an unknown queue). */
  minOffset(topic: string, queueId: number): number;
  /** Queue offset the next message will get (0 for an unknown queue). */
  maxOffset(topic: string, queueId: number): number;
  /** Queues of `topic` that exist in the store. */
  queueIds(topic: string): number[];
}

/** What a timestamp reset needs of a store. */
export interface TimestampIndex {
  /** First queue offset stored at or after `timestamp`; the max offset if none. */
  offsetForTimestamp(topic: string, queueId: number, timestamp: number): number;
  queueIds(topic: string): number[];
}

export interface QueueLag {
  readonly queueId: number;
  /** Undefined when the group never committed here (lag then counts from `minOffset`). */
  readonly committedOffset: number | undefined;
  readonly minOffset: number;
  readonly maxOffset: number;
  /** Messages stored but not yet done by the group: `max − max(committed, min)`, never negative. */
  readonly lag: number;
}

export interface TopicLag {
  readonly group: string;
  readonly topic: string;
  /** By queue id. */
  readonly queues: readonly QueueLag[];
  readonly total: number;
}

export interface LagOptions {
  /** Also report queues 0..queueCount−1 (e.g. the topic's configured queues that are still empty). */
  readonly queueCount?: number;
}

/** The store's queues, the group's committed queues and 0..queueCount−1, by id. */
function queuesOf(
  source: { queueIds(topic: string): number[] },
  offsets: ConsumerOffsets,
  group: string,
  topic: string,
  queueCount = 0,
): number[] {
  const ids = new Set(source.queueIds(topic));
  for (const { queueId } of offsets.forGroup(group, topic)) ids.add(queueId);
  for (let q = 0; q < queueCount; q++) ids.add(q);
  return [...ids].sort((a, b) => a - b);
}

/**
 * Lag of `group` in every queue of `topic`. In-flight messages (received, not acked) count as lag,
 * as in RocketMQ's consume stats; messages already removed by retention do not.
 */
export function computeLag(
  store: QueueBounds,
  offsets: ConsumerOffsets,
  group: string,
  topic: string,
  options: LagOptions = {},
): TopicLag {
  const queues: QueueLag[] = [];
  let total = 0;
  for (const queueId of queuesOf(store, offsets, group, topic, options.queueCount)) {
    const committedOffset = offsets.get(group, topic, queueId);
    const minOffset = store.minOffset(topic, queueId);
    const maxOffset = store.maxOffset(topic, queueId);
    const lag = Math.max(0, maxOffset - Math.max(committedOffset ?? minOffset, minOffset));
    queues.push({ queueId, committedOffset, minOffset, maxOffset, lag });
    total += lag;
  }
  return { group, topic, queues, total };
}

/**
 * Moves `group`'s offset in every queue of `topic` to the first message stored at or after
 * `timestamp` (backwards: those messages are delivered again; forwards: older ones are skipped), then
 * persists at once. A timestamp after the newest message moves to the end. Returns the new offsets.
 * @throws BadRequestError (BAD_REQUEST) for a timestamp that is not a finite number
 */
export function resetOffsetsToTimestamp(
  store: TimestampIndex,
  offsets: ConsumerOffsets,
  group: string,
  topic: string,
  timestamp: number,
  options: LagOptions = {},
): { queueId: number; offset: number }[] {
  if (typeof timestamp !== 'number' || !Number.isFinite(timestamp)) {
    throw new BadRequestError(`reset timestamp ${String(timestamp)} is not a time in milliseconds`);
  }
  const result: { queueId: number; offset: number }[] = [];
  for (const queueId of queuesOf(store, offsets, group, topic, options.queueCount)) {
    const offset = store.offsetForTimestamp(topic, queueId, timestamp);
    offsets.reset(group, topic, queueId, offset);
    result.push({ queueId, offset });
  }
  offsets.flush();
  return result;
}

/** What choosing a start offset needs of a store. */
export type StartOffsetSource = Pick<QueueBounds, 'minOffset' | 'maxOffset'> &
  Pick<TimestampIndex, 'offsetForTimestamp'>;

/**
 * Where a group with no committed offset starts in a queue (see group-registry.ts for the choice of
 * default). `%RETRY%` and `%DLQ%` topics always start at the first retained message, as RocketMQ
 * starts retry topics (`ConsumeInitMode.MIN`): they only ever hold messages meant for the group.
 */
export function startOffset(
  store: StartOffsetSource,
  consumeFrom: ConsumeFrom,
  topic: string,
  queueId: number,
): number {
  const min = store.minOffset(topic, queueId);
  if (isRetryOrDlqTopic(topic)) return min;
  switch (consumeFrom.kind) {
    case 'first':
      return min;
    case 'last':
      return store.maxOffset(topic, queueId);
    case 'timestamp': {
      const at = store.offsetForTimestamp(topic, queueId, consumeFrom.timestamp);
      return Math.min(Math.max(at, min), store.maxOffset(topic, queueId));
    }
  }
}

/**
 * The offset a group reads `queueId` from: its committed offset, or on first contact its start
 * offset, committed at once so the start point does not drift while the queue grows (RocketMQ's
 * `getInitOffset(…, init = true)`).
 */
export function consumeOffsetOrStart(
  store: StartOffsetSource,
  offsets: ConsumerOffsets,
  group: Pick<GroupConfig, 'name' | 'consumeFrom'>,
  topic: string,
  queueId: number,
): number {
  const committed = offsets.get(group.name, topic, queueId);
  if (committed !== undefined) return committed;
  const start = startOffset(store, group.consumeFrom, topic, queueId);
  offsets.commit(group.name, topic, queueId, start);
  return start;
}

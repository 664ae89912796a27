/**
 * The consumption engine's view of its collaborators, kept to what it calls so that the broker can
 * wire in the real ones (the store, consumer offsets, the timer service, the group registry) and tests
 * can pass small fakes.
 */
import { type MessageStore, type MessageToStore, type StoredMessage } from '../../store/index.js';
import { type StatusCodeValue } from '../../status-code.js';
import { type CompiledFilter } from '../filter/index.js';

/** The parts of `MessageStore` the engine uses. */
export type ConsumeStore = Pick<
  MessageStore,
  | 'getMessages'
  | 'getMessageByPhysicalOffset'
  | 'append'
  | 'minOffset'
  | 'maxOffset'
  | 'offsetForTimestamp'
  | 'queueIds'
  | 'onDispatch'
  | 'queryByMessageId'
>;

/**
 * Committed offsets per (group, topic, queue): the queue offset of the first message the group has
 * not finished. The engine commits synchronously whenever the contiguous prefix of finished messages
 * grows; the implementation decides when to make it durable (`ConsumerOffsets` batches every 5 s).
 */
export interface OffsetStore {
  get(group: string, topic: string, queueId: number): number | undefined;
  /** Moves the offset forward; a lower offset must be ignored. */
  commit(group: string, topic: string, queueId: number, offset: number): unknown;
  /**
   * Sets the offset backwards: used when the store holds fewer messages than the committed offset
   * says (its unflushed tail was lost in a crash), so that the new messages written there are not
   * skipped after the next restart. Without it such a correction is not persisted.
   */
  reset?(group: string, topic: string, queueId: number, offset: number): unknown;
}

/**
 * Stores a message durably and appends it to its topic/queue at `deliverAt` (the timer service).
 * The promise resolves once the message is durable: the engine then counts the original as done.
 */
export interface RetryScheduler {
  schedule(message: MessageToStore, deliverAt: number): Promise<unknown>;
}

/** Where a group starts in a queue it never committed an offset for (as the group registry's). */
export type ConsumeFrom =
  | { readonly kind: 'first' }
  | { readonly kind: 'last' }
  | { readonly kind: 'timestamp'; readonly timestamp: number };

/** A consumer group's delivery policy, read at each use (a group may be reconfigured at runtime). */
export interface GroupPolicy {
  /** One message in flight per message group and queue; retries in place instead of via `%RETRY%`. */
  readonly fifo: boolean;
  /** Deliveries before the message goes to `%DLQ%<group>` (the first delivery included), ≥ 1. */
  readonly maxDeliveryAttempts: number;
  /** Wait before delivery `attempt + 1` after delivery `attempt` (≥ 1) failed, ms ≥ 0. */
  backoffMs(attempt: number): number;
  readonly consumeFrom: ConsumeFrom;
}

/** Where the engine reports what it cannot throw to a caller (failed background moves). */
export interface ConsumeLogger {
  warn(message: string): void;
  error(message: string): void;
}

export interface ReceiveRequest {
  readonly group: string;
  /** The topic subscribed to; the group's `%RETRY%<group>_<topic>` is read along with it. */
  readonly topic: string;
  readonly filter: CompiledFilter;
  /** 1..the broker's `maxReceiveBatchSize` (32); anything else is clamped (`clampReceiveBatchSize`). */
  readonly batchSize: number;
  /** Lease length, 10 s..12 h (`validateInvisibleDuration`). */
  readonly invisibleMs: number;
  /** The receiving client, so that `releaseClient` can hand its leases back when it goes away. */
  readonly clientId?: string;
  /**
   * The client's id for this receive (standard and FIFO groups). A repeat with the same id while that receive's
   * messages are still leased gets them back (RocketMQ's `attemptId`: a Push consumer retries a
   * receive whose answer it never got with the same id) instead of waiting out their lease.
   */
  readonly attemptId?: string;
  /**
   * When a lease of this receive runs out (its first one, or one set by ChangeInvisibleDuration > 0):
   * - `group-backoff` (default): the message comes back after the group's retry backoff, the
   *   broker's own schedule, as for a Push consumer (its lease is renewed while it lives, and the
   *   official client's nack durations are milliseconds by a units bug, PROTOCOL.md §7.2);
   * - `lease-end`: it is visible again as soon as the lease ends, as Apache RocketMQ does for a
   *   SimpleConsumer, whose invisible duration is its retry interval.
   * A nack (ChangeInvisibleDuration 0) always takes the group's backoff.
   */
  readonly retryAfter?: 'group-backoff' | 'lease-end';
}

/** Where a delivered message's lease lives: the queue it was read from (`%RETRY%…` for a retry). */
export interface LeasedQueue {
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: number;
}

export interface ReceivedMessage {
  readonly receiptHandle: string;
  /** 1 on first delivery. */
  readonly deliveryAttempt: number;
  /** Epoch ms at which the lease runs out. */
  readonly invisibleUntil: number;
  /** The message as stored, except that a retry copy shows the topic it was sent to. */
  readonly message: StoredMessage;
  readonly queue: LeasedQueue;
}

export interface AckEntry {
  readonly receiptHandle: string;
  readonly messageId?: string;
}

/** One entry of an AckMessage response. */
export interface AckEntryResult {
  readonly receiptHandle: string;
  readonly messageId: string | undefined;
  readonly code: StatusCodeValue;
  /** Why it failed; undefined on success. */
  readonly error: string | undefined;
}

export interface ChangeInvisibleResult {
  readonly receiptHandle: string;
  readonly invisibleUntil: number;
}

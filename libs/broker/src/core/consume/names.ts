/**
 * Names the consumption engine reads and writes: the retry and dead-letter topics of a group and the
 * system properties it puts on the copies it stores there. RocketMQ's names where RocketMQ has one
 * for the same thing (`MessageConst`), `__RN_` names for Rocketnest's own bookkeeping.
 */
import { TIMER_PROPERTY_KEYS } from '../limits.js';

export { dlqTopicOf, retryTopicOf } from '../topic-registry.js';

/** `MessageConst.PROPERTY_SHARDING_KEY`: the message group of a FIFO message. */
export const MESSAGE_GROUP_PROPERTY = '__SHARDINGKEY';

/** `MessageConst.PROPERTY_RETRY_TOPIC`: on a retry or DLQ copy, the topic the message was sent to. */
export const RETRY_TOPIC_PROPERTY = 'RETRY_TOPIC';

/** `MessageConst.PROPERTY_RECONSUME_TIME`: failed deliveries so far (also the record's own field). */
export const RECONSUME_TIME_PROPERTY = 'RECONSUME_TIME';

/** `MessageConst.PROPERTY_ORIGIN_MESSAGE_ID`: the id of the message a copy was made from. */
export const ORIGIN_MESSAGE_ID_PROPERTY = 'ORIGIN_MESSAGE_ID';

/** `MessageConst.PROPERTY_DLQ_ORIGIN_TOPIC`: on a DLQ copy, the topic the message was sent to. */
export const DLQ_ORIGIN_TOPIC_PROPERTY = 'DLQ_ORIGIN_TOPIC';

/** `MessageConst.PROPERTY_DLQ_ORIGIN_MESSAGE_ID`: on a DLQ copy, the id of the message. */
export const DLQ_ORIGIN_MESSAGE_ID_PROPERTY = 'DLQ_ORIGIN_MESSAGE_ID';

/**
 * The queue id the message was first stored in, so that a resend from the DLQ puts a FIFO message back
 * in its message group's queue. Not RocketMQ's `REAL_QID`: timers and transactions use that one for
 * the queue they park a message for, and a copy passes through the timer.
 */
export const ORIGIN_QUEUE_ID_PROPERTY = '__RN_ORIGIN_QID';

/**
 * On a retry copy: `<queueId>/<queueOffset>/<topic>` of the lease it was made from. An ack that
 * arrives for that lease before the copy is delivered (expired but not yet redelivered) suppresses
 * the copy; see late-ack-ledger.ts.
 */
export const RETRY_FROM_PROPERTY = '__RN_RETRY_FROM';

/** On a DLQ copy: how many deliveries were made before it was dead-lettered. */
export const DELIVERY_ATTEMPTS_PROPERTY = '__RN_DELIVERY_ATTEMPTS';

/** On a retry or DLQ copy: why the last delivery failed (lease expired, nack, forwarded, …). */
export const LAST_ERROR_PROPERTY = '__RN_LAST_ERROR';

/** On a DLQ copy: epoch ms at which it was dead-lettered. */
export const DEAD_LETTER_TIME_PROPERTY = '__RN_DEAD_LETTER_TIME';

/** Longest `LAST_ERROR_PROPERTY` value kept; a reason comes from a client and must stay small. */
export const LAST_ERROR_MAX_CHARS = 256;

/**
 * System properties a copy must not inherit: the store re-derives id, tag and keys; delay and
 * transaction markers belong to the first life of the message (a retry copy passes through the timer
 * with its own delivery time, a copy is never a half message); `REAL_TOPIC` / `REAL_QID` are where a
 * timer or transaction parks a message, not where the copy goes.
 */
export const PROPERTIES_NOT_COPIED: ReadonlySet<string> = new Set([
  'DELAY',
  ...TIMER_PROPERTY_KEYS,
  'TRAN_MSG',
  'PGROUP',
  'TRAN_PREPARED_QUEUE_OFFSET',
  '__transactionId__',
  'TRANSACTION_CHECK_TIMES',
  'CHECK_IMMUNITY_TIME_IN_SECONDS',
  'REAL_TOPIC',
  'REAL_QID',
  'POP_CK',
  'POP_CK_OFFSET',
  '1ST_POP_TIME',
]);

/** What a resend from the DLQ drops on top of `PROPERTIES_NOT_COPIED`: the message starts afresh. */
export const DEAD_LETTER_PROPERTIES: ReadonlySet<string> = new Set([
  RETRY_TOPIC_PROPERTY,
  RECONSUME_TIME_PROPERTY,
  DLQ_ORIGIN_TOPIC_PROPERTY,
  DLQ_ORIGIN_MESSAGE_ID_PROPERTY,
  RETRY_FROM_PROPERTY,
  DELIVERY_ATTEMPTS_PROPERTY,
  LAST_ERROR_PROPERTY,
  DEAD_LETTER_TIME_PROPERTY,
  ORIGIN_QUEUE_ID_PROPERTY,
]);

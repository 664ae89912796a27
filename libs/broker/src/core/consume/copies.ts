/**
 * The copies the engine stores of a delivered message: the retry copy (`%RETRY%<group>_<topic>`), the
 * dead-letter copy (`%DLQ%<group>`) and the resend of a dead letter to its original topic. Every copy
 * keeps the producer's message id, body, tag, keys, user properties, message group and born data;
 * what changes is recorded in system properties (names.ts).
 */
import { type MessageToStore, type StoredMessage } from '../../store/index.js';
import { SysFlag } from '../../store/message-record.js';
import {
  DEAD_LETTER_PROPERTIES,
  DEAD_LETTER_TIME_PROPERTY,
  DELIVERY_ATTEMPTS_PROPERTY,
  DLQ_ORIGIN_MESSAGE_ID_PROPERTY,
  DLQ_ORIGIN_TOPIC_PROPERTY,
  LAST_ERROR_MAX_CHARS,
  LAST_ERROR_PROPERTY,
  MESSAGE_GROUP_PROPERTY,
  ORIGIN_MESSAGE_ID_PROPERTY,
  ORIGIN_QUEUE_ID_PROPERTY,
  PROPERTIES_NOT_COPIED,
  RECONSUME_TIME_PROPERTY,
  RETRY_FROM_PROPERTY,
  RETRY_TOPIC_PROPERTY,
  dlqTopicOf,
  retryTopicOf,
} from './names.js';

/** Retry and dead-letter topics have one queue (RocketMQ `retryQueueNums` = 1, DLQ likewise). */
export const RETRY_DLQ_QUEUE_ID = 0;

/** The topic a retry copy was consumed from (`RETRY_TOPIC`), or undefined for anything else. */
export function retryTopicPropertyOf(message: StoredMessage): string | undefined {
  return message.systemProperties[RETRY_TOPIC_PROPERTY];
}

export function messageGroupOf(message: StoredMessage): string | undefined {
  const group = message.systemProperties[MESSAGE_GROUP_PROPERTY];
  return group === undefined || group === '' ? undefined : group;
}

/** The lease a retry copy was made from: `{queueId, queueOffset, topic}`, or undefined. */
export function retryFromOf(
  message: StoredMessage,
): { readonly topic: string; readonly queueId: number; readonly queueOffset: number } | undefined {
  const value = message.systemProperties[RETRY_FROM_PROPERTY];
  if (value === undefined) return undefined;
  const first = value.indexOf('/');
  const second = first < 0 ? -1 : value.indexOf('/', first + 1);
  if (second < 0) return undefined;
  const queueId = Number(value.slice(0, first));
  const queueOffset = Number(value.slice(first + 1, second));
  const topic = value.slice(second + 1);
  if (!Number.isSafeInteger(queueId) || !Number.isSafeInteger(queueOffset) || topic === '') return undefined;
  return { topic, queueId, queueOffset };
}

/** What a consumer sees: a retry copy shows the topic it was sent to, not `%RETRY%<group>_<topic>`. */
export function deliveredView(message: StoredMessage, realTopic: string): StoredMessage {
  return message.topic === realTopic ? message : { ...message, topic: realTopic };
}

function clip(reason: string): string {
  return reason.length <= LAST_ERROR_MAX_CHARS ? reason : `${reason.slice(0, LAST_ERROR_MAX_CHARS - 1)}…`;
}

function copiedSystemProperties(message: StoredMessage, drop: ReadonlySet<string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(message.systemProperties)) {
    if (!PROPERTIES_NOT_COPIED.has(key) && !drop.has(key)) out[key] = value;
  }
  return out;
}

const NOTHING_MORE: ReadonlySet<string> = new Set();

function base(
  message: StoredMessage,
  topic: string,
  queueId: number,
): Omit<MessageToStore, 'systemProperties'> {
  return {
    topic,
    queueId,
    body: message.body,
    messageId: message.messageId,
    ...(message.tag === undefined ? {} : { tag: message.tag }),
    keys: message.keys,
    userProperties: message.userProperties,
    flag: message.flag,
    // A copy is never a half message; compression and multi-tag bits stay.
    sysFlag: message.sysFlag & ~SysFlag.TRANSACTION_MASK,
    bornTimestamp: message.bornTimestamp,
    bornHost: message.bornHost,
  };
}

/**
 * The properties every copy adds on top of what it inherits. `realTopic` is the topic the group
 * consumed the message from: the queue's own topic, or for a retry copy the one it names. (A group
 * consuming another group's DLQ retries into its own retry topic, naming the DLQ topic.)
 */
function lineage(message: StoredMessage, realTopic: string, system: Record<string, string>): void {
  system[RETRY_TOPIC_PROPERTY] = realTopic;
  system[ORIGIN_MESSAGE_ID_PROPERTY] ??= message.messageId;
  if (message.topic === realTopic) system[ORIGIN_QUEUE_ID_PROPERTY] = String(message.queueId);
  else system[ORIGIN_QUEUE_ID_PROPERTY] ??= String(message.queueId);
}

/**
 * The retry copy after delivery `attempt` of `message` (consumed as `realTopic`, leased on `from`) failed: it goes to
 * `%RETRY%<group>_<realTopic>` with `reconsumeTimes = attempt`, so that its delivery is attempt + 1.
 */
export function retryCopy(
  message: StoredMessage,
  realTopic: string,
  group: string,
  attempt: number,
  from: { readonly topic: string; readonly queueId: number; readonly queueOffset: number },
  reason: string,
): MessageToStore {
  const system = copiedSystemProperties(message, NOTHING_MORE);
  lineage(message, realTopic, system);
  system[RECONSUME_TIME_PROPERTY] = String(attempt);
  system[RETRY_FROM_PROPERTY] = `${from.queueId}/${from.queueOffset}/${from.topic}`;
  system[LAST_ERROR_PROPERTY] = clip(reason);
  return {
    ...base(message, retryTopicOf(group, realTopic), RETRY_DLQ_QUEUE_ID),
    systemProperties: system,
    reconsumeTimes: attempt,
  };
}

/** The dead-letter copy after `attempts` deliveries, the last one failing for `reason`. */
export function deadLetterCopy(
  message: StoredMessage,
  realTopic: string,
  group: string,
  attempts: number,
  reason: string,
  now: number,
): MessageToStore {
  const system = copiedSystemProperties(message, new Set([RETRY_FROM_PROPERTY]));
  lineage(message, realTopic, system);
  system[RECONSUME_TIME_PROPERTY] = String(attempts);
  system[DLQ_ORIGIN_TOPIC_PROPERTY] = realTopic;
  system[DLQ_ORIGIN_MESSAGE_ID_PROPERTY] = message.messageId;
  system[DELIVERY_ATTEMPTS_PROPERTY] = String(attempts);
  system[LAST_ERROR_PROPERTY] = clip(reason);
  system[DEAD_LETTER_TIME_PROPERTY] = String(now);
  return {
    ...base(message, dlqTopicOf(group), RETRY_DLQ_QUEUE_ID),
    systemProperties: system,
    reconsumeTimes: attempts,
  };
}

/**
 * A dead letter sent back to its original topic, with its id, as a fresh message (attempt 1). The
 * queue is the one it was first stored in when that queue still exists, so that a FIFO message
 * rejoins its message group's queue; otherwise queue 0.
 */
export function resendCopy(
  deadLetter: StoredMessage,
  queueCountOf: (topic: string) => number,
): MessageToStore {
  const topic =
    deadLetter.systemProperties[DLQ_ORIGIN_TOPIC_PROPERTY] ??
    deadLetter.systemProperties[RETRY_TOPIC_PROPERTY] ??
    deadLetter.topic;
  const origin = Number(deadLetter.systemProperties[ORIGIN_QUEUE_ID_PROPERTY]);
  const queueId = Number.isInteger(origin) && origin >= 0 && origin < queueCountOf(topic) ? origin : 0;
  const system = copiedSystemProperties(deadLetter, DEAD_LETTER_PROPERTIES);
  delete system[ORIGIN_MESSAGE_ID_PROPERTY];
  return { ...base(deadLetter, topic, queueId), systemProperties: system, reconsumeTimes: 0 };
}

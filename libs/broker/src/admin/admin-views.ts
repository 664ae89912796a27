/** The JSON the admin API answers with for topics, groups, lag and stored messages. */
import {
  DEAD_LETTER_TIME_PROPERTY,
  DELIVERY_ATTEMPTS_PROPERTY,
  DLQ_ORIGIN_MESSAGE_ID_PROPERTY,
  DLQ_ORIGIN_TOPIC_PROPERTY,
  LAST_ERROR_PROPERTY,
  MESSAGE_GROUP_PROPERTY,
} from '../core/consume/names.js';
import { type GroupConfig } from '../core/group-registry.js';
import { type TopicLag } from '../core/lag.js';
import { type TopicConfig } from '../core/topic-registry.js';
import { type StoredMessage } from '../store/index.js';

export interface TopicView {
  readonly name: string;
  readonly kind: TopicConfig['kind'];
  readonly queueCount: number;
  readonly messageTypes: readonly string[];
  readonly createdAt: number;
}

export function topicView(topic: TopicConfig): TopicView {
  return {
    name: topic.name,
    kind: topic.kind,
    queueCount: topic.queueCount,
    messageTypes: [...topic.messageTypes].sort(),
    createdAt: topic.createdAt,
  };
}

export interface GroupView {
  readonly name: string;
  readonly fifo: boolean;
  readonly maxDeliveryAttempts: number;
  readonly retryBackoffMs: readonly number[];
  readonly consumeFrom: GroupConfig['consumeFrom'];
  readonly createdAt: number;
}

export function groupView(group: GroupConfig): GroupView {
  return {
    name: group.name,
    fifo: group.fifo,
    maxDeliveryAttempts: group.maxDeliveryAttempts,
    retryBackoffMs: [...group.retryBackoffMs],
    consumeFrom: group.consumeFrom,
    createdAt: group.createdAt,
  };
}

/** Lag with `committedOffset: null` where the group never committed (JSON has no undefined). */
export function lagView(lag: TopicLag): unknown {
  return {
    group: lag.group,
    topic: lag.topic,
    total: lag.total,
    queues: lag.queues.map((q) => ({ ...q, committedOffset: q.committedOffset ?? null })),
  };
}

/** What a dead letter's system properties say about how it got there. */
export interface DeadLetterInfo {
  readonly originTopic: string | null;
  readonly originMessageId: string | null;
  readonly deliveryAttempts: number | null;
  readonly lastError: string | null;
  readonly deadLetteredAt: number | null;
}

function numberOrNull(text: string | undefined): number | null {
  const n = Number(text);
  return text !== undefined && Number.isFinite(n) ? n : null;
}

export interface MessageView {
  readonly messageId: string;
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: number;
  readonly tag: string | null;
  readonly keys: readonly string[];
  readonly messageGroup: string | null;
  readonly userProperties: Readonly<Record<string, string>>;
  readonly systemProperties: Readonly<Record<string, string>>;
  readonly bornTimestamp: number;
  readonly bornHost: string;
  readonly storeTimestamp: number;
  readonly storeHost: string;
  readonly reconsumeTimes: number;
  readonly bodySize: number;
  /** The body bytes, base64. */
  readonly body: string;
  /** Present on messages of a `%DLQ%` topic. */
  readonly deadLetter?: DeadLetterInfo;
}

export function messageView(m: StoredMessage): MessageView {
  const sys = m.systemProperties;
  return {
    messageId: m.messageId,
    topic: m.topic,
    queueId: m.queueId,
    queueOffset: m.queueOffset,
    tag: m.tag ?? null,
    keys: [...m.keys],
    messageGroup: sys[MESSAGE_GROUP_PROPERTY] ?? null,
    userProperties: m.userProperties,
    systemProperties: sys,
    bornTimestamp: m.bornTimestamp,
    bornHost: m.bornHost,
    storeTimestamp: m.storeTimestamp,
    storeHost: m.storeHost,
    reconsumeTimes: m.reconsumeTimes,
    bodySize: m.body.length,
    body: m.body.toString('base64'),
    ...(sys[DLQ_ORIGIN_TOPIC_PROPERTY] === undefined
      ? {}
      : {
          deadLetter: {
            originTopic: sys[DLQ_ORIGIN_TOPIC_PROPERTY] ?? null,
            originMessageId: sys[DLQ_ORIGIN_MESSAGE_ID_PROPERTY] ?? null,
            deliveryAttempts: numberOrNull(sys[DELIVERY_ATTEMPTS_PROPERTY]),
            lastError: sys[LAST_ERROR_PROPERTY] ?? null,
            deadLetteredAt: numberOrNull(sys[DEAD_LETTER_TIME_PROPERTY]),
          },
        }),
  };
}

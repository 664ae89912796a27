/**
 * The shapes a transactional message takes in the store, one function each: the half
 * (`TransactionalMessageBridge.parseHalfMessageInner`), the committed message
 * (`EndTransactionProcessor.endMessageTransaction`), the check-max copy
 * (`DefaultTransactionalMessageCheckListener.toMessageExtBrokerInner`) and the message shown to a
 * producer in a check-back (`AbstractTransactionalMessageCheckListener.sendCheckMessage`).
 */
import { TRANS_CHECK_MAX_TIME_TOPIC, TRANS_HALF_TOPIC } from '../limits.js';
import type { MessageToStore, StoredMessage } from '../../store/index.js';
import { SysFlag } from '../../store/message-record.js';
import {
  HALF_ONLY_PROPERTIES,
  integerProperty,
  PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS,
  PROPERTY_OP_FLOOR,
  PROPERTY_PREPARED_AT,
  PROPERTY_PRODUCER_GROUP,
  PROPERTY_REAL_QUEUE_ID,
  PROPERTY_REAL_TOPIC,
  PROPERTY_TRANSACTION_CHECK_TIMES,
  PROPERTY_TRANSACTION_ID,
  PROPERTY_TRANSACTION_PREPARED,
} from './transaction-properties.js';

/** `MessageSysFlag.resetTransactionValue(flag, type)`. */
export function withTransactionType(sysFlag: number, type: number): number {
  return (sysFlag & ~SysFlag.TRANSACTION_MASK) | type;
}

/** What the service records on a half besides the message itself. */
export interface HalfFields {
  readonly transactionId: string;
  readonly producerGroup: string | undefined;
  /** The producer's recovery duration in whole seconds, if it gave one. */
  readonly recoverySeconds: number | undefined;
  /** Broker clock at prepare. */
  readonly preparedAt: number;
  /** Op-queue length before the half is appended. */
  readonly opFloor: number;
}

/** The half of `message`: on `RMQ_SYS_TRANS_HALF_TOPIC` queue 0, its destination in properties. */
export function halfMessage(message: MessageToStore, fields: HalfFields): MessageToStore {
  const systemProperties: Record<string, string> = {
    ...message.systemProperties,
    [PROPERTY_REAL_TOPIC]: message.topic,
    [PROPERTY_REAL_QUEUE_ID]: String(message.queueId),
    [PROPERTY_TRANSACTION_PREPARED]: 'true',
    [PROPERTY_TRANSACTION_ID]: fields.transactionId,
    [PROPERTY_PREPARED_AT]: String(fields.preparedAt),
    [PROPERTY_OP_FLOOR]: String(fields.opFloor),
  };
  if (fields.producerGroup !== undefined) systemProperties[PROPERTY_PRODUCER_GROUP] = fields.producerGroup;
  if (fields.recoverySeconds !== undefined) {
    systemProperties[PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS] = String(fields.recoverySeconds);
  }
  return {
    ...message,
    topic: TRANS_HALF_TOPIC,
    queueId: 0,
    systemProperties,
    // parseHalfMessageInner stores halves as TRANSACTION_NOT_TYPE.
    sysFlag: withTransactionType(message.sysFlag ?? 0, 0),
  };
}

/** What the service needs from a stored half, parsed from its properties. */
export interface HalfInfo {
  readonly transactionId: string;
  readonly realTopic: string;
  readonly realQueueId: number;
  readonly producerGroup: string | undefined;
  readonly preparedAt: number;
  readonly opFloor: number | undefined;
  /** CHECK_IMMUNITY_TIME_IN_SECONDS × 1000, when the producer set a recovery duration. */
  readonly recoveryMs: number | undefined;
}

/** Parses a record of the half topic; undefined when it lacks what a half message must carry. */
export function parseHalf(message: StoredMessage): HalfInfo | undefined {
  const p = message.systemProperties;
  const transactionId = p[PROPERTY_TRANSACTION_ID];
  const realTopic = p[PROPERTY_REAL_TOPIC];
  const realQueueId = integerProperty(p[PROPERTY_REAL_QUEUE_ID]);
  if (!transactionId || !realTopic || realQueueId === undefined) return undefined;
  const recoverySeconds = integerProperty(p[PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS]);
  return {
    transactionId,
    realTopic,
    realQueueId,
    producerGroup: p[PROPERTY_PRODUCER_GROUP] || undefined,
    preparedAt: integerProperty(p[PROPERTY_PREPARED_AT]) ?? message.bornTimestamp,
    opFloor: integerProperty(p[PROPERTY_OP_FLOOR]),
    recoveryMs: recoverySeconds === undefined ? undefined : recoverySeconds * 1000,
  };
}

/**
 * The half back on its real topic and queue: same id, body, tag, keys, flag, born time and host,
 * user and system properties less the half-only ones; sysFlag TRANSACTION_COMMIT;
 * `preparedTransactionOffset` = the half's offset (which is how a restart recognises it).
 */
export function committedMessage(
  half: StoredMessage,
  realTopic: string,
  realQueueId: number,
): MessageToStore {
  const systemProperties: Record<string, string> = { ...half.systemProperties };
  for (const key of HALF_ONLY_PROPERTIES) delete systemProperties[key];
  return {
    ...sameMessage(half),
    topic: realTopic,
    queueId: realQueueId,
    systemProperties,
    sysFlag: withTransactionType(half.sysFlag, SysFlag.TRANSACTION_COMMIT),
  };
}

/** The half, every property kept, in TRANS_CHECK_MAX_TIME_TOPIC queue 0 (RocketMQ's TCMT_QUEUE_NUMS = 1). */
export function checkMaxCopy(half: StoredMessage, checks: number): MessageToStore {
  return {
    ...sameMessage(half),
    topic: TRANS_CHECK_MAX_TIME_TOPIC,
    queueId: 0,
    systemProperties: { ...half.systemProperties, [PROPERTY_TRANSACTION_CHECK_TIMES]: String(checks) },
    sysFlag: half.sysFlag,
  };
}

/** The half as a producer's checker sees it: real topic and queue, TRANSACTION_CHECK_TIMES = attempt. */
export function checkBackMessage(
  half: StoredMessage,
  realTopic: string,
  realQueueId: number,
  attempt: number,
): StoredMessage {
  return {
    ...half,
    topic: realTopic,
    queueId: realQueueId,
    systemProperties: { ...half.systemProperties, [PROPERTY_TRANSACTION_CHECK_TIMES]: String(attempt) },
  };
}

function sameMessage(
  half: StoredMessage,
): Omit<MessageToStore, 'topic' | 'queueId' | 'systemProperties' | 'sysFlag'> {
  return {
    body: half.body,
    messageId: half.messageId,
    tag: half.tag,
    keys: half.keys,
    userProperties: half.userProperties,
    flag: half.flag,
    bornTimestamp: half.bornTimestamp,
    bornHost: half.bornHost,
    reconsumeTimes: half.reconsumeTimes,
    preparedTransactionOffset: half.physicalOffset,
  };
}

/**
 * The two shapes of a timed message: parked in SCHEDULE_TOPIC (its real destination and due time in
 * system properties, under RocketMQ's names), and delivered back to its real topic and queue.
 */
import type { MessageToStore, StoredMessage } from '../../store/index.js';
import { SCHEDULE_TOPIC } from '../limits.js';

/** `MessageConst.PROPERTY_REAL_TOPIC`: the topic a parked message is delivered to. */
export const REAL_TOPIC = 'REAL_TOPIC';
/** `MessageConst.PROPERTY_REAL_QUEUE_ID`: the queue it is delivered to. */
export const REAL_QID = 'REAL_QID';
/** `MessageConst.PROPERTY_TIMER_DELIVER_MS`: when (ms epoch). Kept on the delivered message for tracing. */
export const TIMER_DELIVER_MS = 'TIMER_DELIVER_MS';
/** `MessageConst.PROPERTY_DELAY_TIME_LEVEL`: the delay level, when scheduled by level. Dropped on delivery. */
export const DELAY = 'DELAY';

/** The record parked in SCHEDULE_TOPIC queue `scheduleQueueId` until `deliverAt`. */
export function toScheduleRecord(
  message: MessageToStore,
  deliverAt: number,
  scheduleQueueId: number,
  level?: number,
): MessageToStore {
  const systemProperties: Record<string, string> = { ...message.systemProperties };
  systemProperties[REAL_TOPIC] = message.topic;
  systemProperties[REAL_QID] = String(message.queueId);
  systemProperties[TIMER_DELIVER_MS] = String(deliverAt);
  if (level !== undefined) systemProperties[DELAY] = String(level);
  else delete systemProperties[DELAY];
  return { ...message, topic: SCHEDULE_TOPIC, queueId: scheduleQueueId, systemProperties };
}

/** The message as appended to its real topic now, `deliverAt` recorded for tracing. */
export function toImmediateMessage(message: MessageToStore, deliverAt: number): MessageToStore {
  const systemProperties: Record<string, string> = { ...message.systemProperties };
  systemProperties[TIMER_DELIVER_MS] = String(deliverAt);
  delete systemProperties[DELAY];
  return { ...message, systemProperties };
}

/** Due time recorded on a parked record; undefined if missing or not a number. */
export function deliverAtOf(stored: StoredMessage): number | undefined {
  const raw = stored.systemProperties[TIMER_DELIVER_MS];
  if (raw === undefined) return undefined;
  const t = Number(raw);
  return raw.length > 0 && Number.isFinite(t) ? t : undefined;
}

/**
 * The message to deliver for a parked record: original topic, queue, id, body, tag, keys, user and
 * system properties, flag, sysFlag, born time and host, reconsume times and prepared-transaction
 * offset. REAL_TOPIC, REAL_QID and DELAY are removed; TIMER_DELIVER_MS stays. Returns a reason string
 * when the record is not a parked message.
 */
export function toRealMessage(stored: StoredMessage): MessageToStore | string {
  const { [REAL_TOPIC]: topic, [REAL_QID]: qid, [DELAY]: _level, ...rest } = stored.systemProperties;
  if (topic === undefined || topic.length === 0) return `no ${REAL_TOPIC} property`;
  const queueId = Number(qid);
  if (qid === undefined || qid.length === 0 || !Number.isInteger(queueId) || queueId < 0) {
    return `bad ${REAL_QID} property ${JSON.stringify(qid)}`;
  }
  return {
    topic,
    queueId,
    // The stored body is a view into a read buffer of this one record: no copy needed.
    body: stored.body,
    messageId: stored.messageId,
    tag: stored.tag,
    keys: stored.keys,
    userProperties: stored.userProperties,
    systemProperties: rest,
    flag: stored.flag,
    sysFlag: stored.sysFlag,
    bornTimestamp: stored.bornTimestamp,
    bornHost: stored.bornHost,
    reconsumeTimes: stored.reconsumeTimes,
    preparedTransactionOffset: stored.preparedTransactionOffset,
  };
}

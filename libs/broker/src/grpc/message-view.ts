/**
 * The delivered `Message` of PROTOCOL.md §3, built from a message as the core hands it out: a
 * `ReceivedMessage` (ReceiveMessage) or a `StoredMessage` (the half message of an orphaned-transaction
 * recovery command). What the official client needs is always there: `topic`, `message_id`,
 * `body_digest` (over the body bytes as sent), `receipt_handle` (for deliveries) and
 * `delivery_attempt` ≥ 1; without any of these it throws or stalls (PROTOCOL.md §5).
 *
 * Message type, as the Java proxy's `GrpcConverter.buildMessageType`: TRAN_MSG=true (a half) →
 * TRANSACTION; a timer property → DELAY (with its `delivery_timestamp`); a message group → FIFO; else
 * NORMAL. One deviation: a retry or dead-letter copy passed through the timer for its backoff, and
 * that timer property does not make it a DELAY message.
 */
import { type ReceivedMessage } from '../core/consume/types.js';
import {
  DLQ_ORIGIN_MESSAGE_ID_PROPERTY,
  DLQ_ORIGIN_TOPIC_PROPERTY,
  MESSAGE_GROUP_PROPERTY,
  RETRY_TOPIC_PROPERTY,
} from '../core/consume/names.js';
import { DELAY, TIMER_DELIVER_MS } from '../core/timer/timer-message.js';
import { PROPERTY_TRANSACTION_PREPARED } from '../core/transaction/transaction-properties.js';
import { type StoredMessage } from '../store/index.js';
import { SysFlag } from '../store/message-record.js';
import { unwrapName } from './namespace.js';
import { durationOf, timestampOf } from './proto-time.js';
import {
  DigestType,
  Encoding,
  type Digest,
  ProtoMessageType,
  type Message,
  type SystemProperties,
} from './proto-types.js';

export { durationOf, timestampOf };

export interface MessageViewOptions {
  /** `host:port` shown as `store_host` (the broker's advertised endpoint); default the record's. */
  readonly storeHost?: string;
  /** Namespace of the receiving call: the topic is shown without it. */
  readonly namespace?: string;
  /** Lease length of this delivery, shown as `invisible_duration`. */
  readonly invisibleMs?: number;
  /** A StoredMessage's receipt handle, if it has one (a ReceivedMessage brings its own). */
  readonly receiptHandle?: string;
  /** A StoredMessage's delivery attempt; default 1 (a ReceivedMessage brings its own). */
  readonly deliveryAttempt?: number;
}

export function isReceivedMessage(message: StoredMessage | ReceivedMessage): message is ReceivedMessage {
  return 'receiptHandle' in message && 'message' in message;
}

/**
 * The digest a delivery carries: CRC-32 (unsigned decimal, a type every RocketMQ 5 client checks),
 * taken from the CRC the commit log stored with the body and verified when it read the record back.
 * The Java proxy computes an MD5 per delivery instead; reusing the stored CRC costs nothing and
 * still lets the consumer detect a body damaged between the store and its handler.
 */
function bodyDigestOfStored(stored: StoredMessage): Digest {
  return { type: DigestType.CRC32, checksum: String(stored.bodyCrc >>> 0) };
}

/** The proto `MessageType` of a stored message (see the file comment). */
export function messageTypeOf(message: StoredMessage): number {
  const props = message.systemProperties;
  if (props[PROPERTY_TRANSACTION_PREPARED] === 'true') return ProtoMessageType.TRANSACTION;
  if (deliverAtOf(message) !== undefined) return ProtoMessageType.DELAY;
  const group = props[MESSAGE_GROUP_PROPERTY];
  if (group !== undefined && group !== '') return ProtoMessageType.FIFO;
  return ProtoMessageType.NORMAL;
}

/** The delivery time of a DELAY message; undefined for others (and for retry / DLQ copies). */
function deliverAtOf(message: StoredMessage): number | undefined {
  const props = message.systemProperties;
  if (props[RETRY_TOPIC_PROPERTY] !== undefined) return undefined;
  const raw = props[TIMER_DELIVER_MS];
  if (raw !== undefined && raw !== '') {
    const at = Number(raw);
    if (Number.isFinite(at)) return at;
  }
  // A delay-level message not yet fired has no time of its own here; it is DELAY all the same.
  return props[DELAY] !== undefined ? message.storeTimestamp : undefined;
}

/** The `Message` a client receives (PROTOCOL.md §3). */
export function toProtoMessage(
  message: StoredMessage | ReceivedMessage,
  opts: MessageViewOptions = {},
): Message {
  const received = isReceivedMessage(message) ? message : undefined;
  const stored = received ? received.message : (message as StoredMessage);
  const namespace = opts.namespace ?? '';
  const props = stored.systemProperties;

  const system: SystemProperties = {
    keys: [...stored.keys],
    message_id: stored.messageId,
    body_digest: bodyDigestOfStored(stored),
    body_encoding: (stored.sysFlag & SysFlag.COMPRESSED) !== 0 ? Encoding.GZIP : Encoding.IDENTITY,
    message_type: messageTypeOf(stored),
    born_timestamp: timestampOf(stored.bornTimestamp),
    born_host: stored.bornHost,
    store_timestamp: timestampOf(stored.storeTimestamp),
    store_host: opts.storeHost ?? stored.storeHost,
    queue_id: stored.queueId,
    queue_offset: stored.queueOffset,
    delivery_attempt: Math.max(1, received?.deliveryAttempt ?? opts.deliveryAttempt ?? 1),
  };
  if (stored.tag !== undefined) system.tag = stored.tag;
  const receiptHandle = received?.receiptHandle ?? opts.receiptHandle;
  if (receiptHandle !== undefined) system.receipt_handle = receiptHandle;
  if (system.message_type === ProtoMessageType.DELAY) {
    system.delivery_timestamp = timestampOf(deliverAtOf(stored) ?? stored.storeTimestamp);
  }
  const group = props[MESSAGE_GROUP_PROPERTY];
  if (group !== undefined && group !== '') system.message_group = group;
  if (opts.invisibleMs !== undefined) system.invisible_duration = durationOf(opts.invisibleMs);
  const dlqTopic = props[DLQ_ORIGIN_TOPIC_PROPERTY];
  if (dlqTopic !== undefined) {
    system.dead_letter_queue = {
      topic: unwrapName(namespace, dlqTopic),
      message_id: props[DLQ_ORIGIN_MESSAGE_ID_PROPERTY] ?? stored.messageId,
    };
  }

  return {
    topic: { resource_namespace: namespace, name: unwrapName(namespace, stored.topic) },
    user_properties: { ...stored.userProperties },
    system_properties: system,
    body: stored.body,
  };
}

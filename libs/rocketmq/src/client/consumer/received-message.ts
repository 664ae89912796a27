/**
 * A delivered `Message` (PROTOCOL.md §3) read into what a handler sees (`ReceivedMessageView`) and
 * what the consumer keeps to settle it (receipt handle, topic, the queue it came from).
 *
 * The body is checked against `body_digest` (MD5 and SHA1 upper hex, CRC32 decimal) over the bytes
 * as sent, then gunzipped when `body_encoding` is GZIP. A digest mismatch or a body that does not
 * gunzip marks the delivery corrupted: the handler never sees it, and the consumer
 * nacks it (FIFO: forwards it to the dead-letter queue), as the Java client does.
 */
import { gunzipSync } from 'node:zlib';
import {
  Encoding,
  ProtoMessageType,
  type Message,
  type MessageQueue,
} from '@rocketnest/broker/grpc/proto-types.js';
import { bodyDigestOf } from '@rocketnest/broker/grpc/body-digest.js';
import { millisOfDuration, millisOfTimestamp } from '@rocketnest/broker/grpc/proto-time.js';

export type MessageType = 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION' | 'UNSPECIFIED';

/** A message as a handler receives it. Immutable. */
export interface ReceivedMessageView {
  /** The producer's message id (34 hex characters from RocketMQ 5 clients). */
  readonly messageId: string;
  /** The topic it was sent to (a retried message keeps its original topic). */
  readonly topic: string;
  readonly body: Buffer;
  readonly tag?: string;
  readonly keys: readonly string[];
  /** User properties as sent. */
  readonly properties: Readonly<Record<string, string>>;
  /** FIFO messages: their message group. */
  readonly messageGroup?: string;
  readonly messageType: MessageType;
  /** 1 on first delivery, +1 per redelivery (and per local retry of a FIFO group). */
  readonly deliveryAttempt: number;
  /** Epoch ms the producer created it. */
  readonly bornTimestamp: number;
  readonly bornHost: string;
  /** Epoch ms the broker stored it. */
  readonly storeTimestamp?: number;
  /** DELAY messages: epoch ms it was due. */
  readonly deliveryTimestamp?: number;
  readonly queueId: number;
  readonly queueOffset: number;
  readonly storeHost?: string;
  /** Trace context propagated by the producer, if any. */
  readonly traceContext?: string;
  /** A copy from a dead-letter queue: where the original was. */
  readonly deadLetter?: { readonly topic: string; readonly messageId: string };
}

/** A delivery as the consumer keeps it. */
export interface DecodedDelivery {
  readonly view: ReceivedMessageView;
  readonly receiptHandle: string;
  /** The lease length the server says it granted, if it says. */
  readonly invisibleMs?: number;
  /** Why the body cannot be trusted; undefined when it is fine. */
  readonly corruption?: string;
}

const MESSAGE_TYPES: Record<number, MessageType> = {
  [ProtoMessageType.NORMAL]: 'NORMAL',
  [ProtoMessageType.FIFO]: 'FIFO',
  [ProtoMessageType.DELAY]: 'DELAY',
  [ProtoMessageType.TRANSACTION]: 'TRANSACTION',
};

/**
 * Reads a delivered message. `queue` is where it was received from: it names the topic when the
 * message itself does not.
 * @throws TypeError when the message lacks what a delivery must carry (message id, receipt handle)
 */
export function decodeDelivery(message: Message, queue?: MessageQueue | null): DecodedDelivery {
  const system = message.system_properties ?? {};
  const messageId = system.message_id ?? '';
  const receiptHandle = system.receipt_handle ?? '';
  if (messageId === '') throw new TypeError('a delivered message has no message_id');
  if (receiptHandle === '') throw new TypeError(`delivered message ${messageId} has no receipt_handle`);
  const topic = message.topic?.name || queue?.topic?.name || '';
  if (topic === '') throw new TypeError(`delivered message ${messageId} has no topic`);

  const raw = Buffer.isBuffer(message.body) ? message.body : Buffer.from(message.body ?? []);
  let corruption = digestProblem(raw, system.body_digest?.type, system.body_digest?.checksum);
  let body = raw;
  if (corruption === undefined && system.body_encoding === Encoding.GZIP) {
    try {
      body = gunzipSync(raw);
    } catch (err) {
      corruption = `the GZIP body does not decompress: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  const view: ReceivedMessageView = Object.freeze({
    messageId,
    topic,
    body,
    ...(system.tag ? { tag: system.tag } : {}),
    keys: Object.freeze([...(system.keys ?? [])]),
    properties: Object.freeze({ ...(message.user_properties ?? {}) }),
    ...(system.message_group ? { messageGroup: system.message_group } : {}),
    messageType: MESSAGE_TYPES[system.message_type ?? 0] ?? 'UNSPECIFIED',
    deliveryAttempt: Math.max(1, system.delivery_attempt ?? 1),
    bornTimestamp: finiteOr(millisOfTimestamp(system.born_timestamp), 0),
    bornHost: system.born_host ?? '',
    ...optional('storeTimestamp', millisOfTimestamp(system.store_timestamp)),
    ...optional('deliveryTimestamp', millisOfTimestamp(system.delivery_timestamp)),
    queueId: system.queue_id ?? 0,
    queueOffset: system.queue_offset ?? 0,
    ...(system.store_host ? { storeHost: system.store_host } : {}),
    ...(system.trace_context ? { traceContext: system.trace_context } : {}),
    ...(system.dead_letter_queue?.topic
      ? {
          deadLetter: Object.freeze({
            topic: system.dead_letter_queue.topic,
            messageId: system.dead_letter_queue.message_id ?? '',
          }),
        }
      : {}),
  });
  const invisibleMs = millisOfDuration(system.invisible_duration);
  return {
    view,
    receiptHandle,
    ...(invisibleMs !== undefined && Number.isFinite(invisibleMs) ? { invisibleMs } : {}),
    ...(corruption === undefined ? {} : { corruption }),
  };
}

/** The same view at another delivery attempt (a FIFO group's local retry). */
export function withAttempt(view: ReceivedMessageView, deliveryAttempt: number): ReceivedMessageView {
  return Object.freeze({ ...view, deliveryAttempt });
}

/**
 * Why `body` does not match its digest; undefined when it does, or when there is nothing this client
 * can check (no digest, an algorithm it does not know): like the Java client, only a mismatch of a
 * known algorithm condemns a message.
 */
export function digestProblem(
  body: Buffer,
  type: number | undefined,
  checksum: string | undefined,
): string | undefined {
  if (type === undefined || checksum === undefined || checksum === '') return undefined;
  const actual = bodyDigestOf(type, body);
  if (actual === undefined) return undefined;
  return actual === checksum.toUpperCase()
    ? undefined
    : `body digest mismatch (expected ${checksum}, computed ${actual})`;
}

function finiteOr(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) ? value : fallback;
}

function optional<K extends string>(key: K, value: number | undefined): { [P in K]?: number } {
  return (value !== undefined && Number.isFinite(value) ? { [key]: value } : {}) as { [P in K]?: number };
}

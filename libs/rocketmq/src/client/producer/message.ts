/**
 * The message a producer sends, and its preparation into the proto `Message` of a SendMessage
 * request. Preparation validates every field with the broker core's own rules
 * (`checkSendRequests` of `@rocketnest/broker`: topic, tag, keys, message group, properties, body
 * size, delivery time, type conflicts), so a message the server would refuse never leaves the
 * process, and the error has the status code the server would have answered.
 *
 * Type (as the official clients and the proxy decide it): TRANSACTION (sendInTransaction) › DELAY
 * (`delayLevel`, `delayMs` or `deliverAt`) › FIFO (`messageGroup` or `hashKey`) › NORMAL.
 * Delays become `delivery_timestamp` (gRPC has no level field); levels are RocketMQ's 18:
 * 1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { DELAY_LEVELS_MS, MAX_DELAY_MS } from '@rocketnest/broker/core/limits.js';
import { checkSendRequests, type SendRequest } from '@rocketnest/broker/core/send-path.js';
import { IllegalDelayLevelError } from '@rocketnest/broker/core/timer/timer-errors.js';
import { validateMessageGroup, type MessageType } from '@rocketnest/broker/core/validation.js';
import { timestampOf } from '@rocketnest/broker/grpc/proto-time.js';
import {
  Encoding,
  ProtoMessageType,
  type Message as ProtoMessage,
} from '@rocketnest/broker/grpc/proto-types.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { BadRequestError, clientErrorOf } from '../errors.js';
import { createMessageId } from './message-id.js';

/** A message to send. */
export interface ProducerMessage {
  readonly topic: string;
  /** Bytes, or a string sent as UTF-8. Not empty. */
  readonly body: Buffer | Uint8Array | string;
  /** One tag (consumers filter on it). */
  readonly tag?: string;
  /** Business keys (indexed by the broker: query by key). */
  readonly keys?: string | readonly string[];
  /** User properties (SQL92 filters see them). */
  readonly properties?: Readonly<Record<string, string>>;
  /** FIFO: messages of one group are stored in one queue and consumed in order. */
  readonly messageGroup?: string;
  /**
   * FIFO by a business key (an order id, a user id): the key maps to a message group. A key that is
   * itself a legal group (< 64 UTF-8 bytes, no control character) is the group; any other is hashed.
   * With the producer option `hashKeyGroups: n`, keys map to one of n groups `hk-0`…`hk-<n-1>`.
   */
  readonly hashKey?: string | number;
  /** DELAY by RocketMQ level 1–18 (1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h). */
  readonly delayLevel?: number;
  /** DELAY by milliseconds from now (at most 24 h on Apache's defaults). */
  readonly delayMs?: number;
  /** DELAY until this time (a past time delivers at once). */
  readonly deliverAt?: Date | number;
  /** The message id; default a fresh one in the official clients' format. */
  readonly messageId?: string;
}

/** A message ready for a SendMessage request, with what batching needs to know about it. */
export interface PreparedMessage {
  readonly topic: string;
  readonly messageId: string;
  readonly type: MessageType;
  readonly protoType: number;
  /** FIFO only. */
  readonly messageGroup: string | undefined;
  /** Estimated bytes on the wire (body, properties, keys, tag and a fixed overhead). */
  readonly size: number;
  /** The proto message; `system_properties.queue_id` is set when a queue is chosen. */
  readonly proto: ProtoMessage;
}

export interface PrepareOptions {
  readonly namespace: string;
  /** Largest body the server takes (its Settings answer). */
  readonly maxBodySize: number;
  readonly hashKeyGroups?: number | undefined;
  readonly transaction?: boolean;
  readonly now?: number;
}

const PROTO_TYPES: Readonly<Record<MessageType, number>> = {
  NORMAL: ProtoMessageType.NORMAL,
  FIFO: ProtoMessageType.FIFO,
  DELAY: ProtoMessageType.DELAY,
  TRANSACTION: ProtoMessageType.TRANSACTION,
};

/** Proto fields and framing of one message beyond its body and properties, roughly. */
const MESSAGE_OVERHEAD_BYTES = 160;
const BORN_HOST = hostname();

function bodyOf(body: unknown): Buffer {
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (Buffer.isBuffer(body)) return body;
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new BadRequestError(
    StatusCode.MESSAGE_CORRUPTED,
    'the body must be a Buffer, a Uint8Array or a string',
  );
}

function keysOf(keys: unknown): string[] | undefined {
  if (keys === undefined || keys === null) return undefined;
  if (typeof keys === 'string') return [keys];
  if (Array.isArray(keys)) return keys as string[];
  throw new BadRequestError(StatusCode.ILLEGAL_MESSAGE_KEY, 'keys must be a string or a list of strings');
}

/** The message group a hash key maps to (see `ProducerMessage.hashKey`). */
export function groupOfHashKey(hashKey: string | number, buckets?: number): string {
  const key = String(hashKey);
  if (buckets !== undefined) {
    const digest = createHash('sha1').update(key).digest();
    return `hk-${digest.readUInt32BE(0) % buckets}`;
  }
  try {
    const legal = validateMessageGroup(key);
    if (legal !== undefined) return legal;
  } catch {
    // not a legal group as it is: hashed below
  }
  return `hk-${createHash('sha1').update(key).digest('hex').slice(0, 32)}`;
}

/** The delivery time of a message's delay fields, or undefined for none. */
export function deliveryTimestampOf(message: ProducerMessage, now: number): number | undefined {
  const given = [message.delayLevel, message.delayMs, message.deliverAt].filter((v) => v !== undefined);
  if (given.length > 1) {
    throw new BadRequestError(
      StatusCode.BAD_REQUEST,
      'give one of delayLevel, delayMs and deliverAt, not several',
    );
  }
  if (message.delayLevel !== undefined) {
    const level = message.delayLevel;
    if (!Number.isInteger(level) || level < 1 || level > DELAY_LEVELS_MS.length) {
      throw clientErrorOf(new IllegalDelayLevelError(level, DELAY_LEVELS_MS.length));
    }
    return now + DELAY_LEVELS_MS[level - 1]!;
  }
  if (message.delayMs !== undefined) {
    if (typeof message.delayMs !== 'number' || !Number.isFinite(message.delayMs) || message.delayMs < 0) {
      throw new BadRequestError(
        StatusCode.ILLEGAL_DELIVERY_TIME,
        `delayMs must be a number ≥ 0, got ${String(message.delayMs)}`,
      );
    }
    return now + message.delayMs;
  }
  if (message.deliverAt !== undefined) {
    const at = message.deliverAt instanceof Date ? message.deliverAt.getTime() : message.deliverAt;
    if (typeof at !== 'number' || !Number.isFinite(at)) {
      throw new BadRequestError(
        StatusCode.ILLEGAL_DELIVERY_TIME,
        'deliverAt must be a valid Date or epoch milliseconds',
      );
    }
    return Math.max(at, now);
  }
  return undefined;
}

/**
 * Validates a message as the server would and builds its proto form.
 * @throws RocketMQClientError with the server's status code for the first fault found
 */
export function prepareMessage(message: ProducerMessage, options: PrepareOptions): PreparedMessage {
  if (typeof message !== 'object' || message === null) {
    throw new BadRequestError(StatusCode.MESSAGE_CORRUPTED, 'a message must be an object');
  }
  const now = options.now ?? Date.now();
  try {
    if (message.messageGroup !== undefined && message.hashKey !== undefined) {
      throw new BadRequestError(StatusCode.ILLEGAL_MESSAGE_GROUP, 'give messageGroup or hashKey, not both');
    }
    const messageGroup =
      message.hashKey !== undefined
        ? groupOfHashKey(message.hashKey, options.hashKeyGroups)
        : message.messageGroup;
    const deliveryTimestamp = deliveryTimestampOf(message, now);
    const request: SendRequest = {
      topic: message.topic,
      body: bodyOf(message.body),
      messageId: message.messageId ?? createMessageId(now),
      ...(message.tag === undefined ? {} : { tag: message.tag }),
      ...(message.keys === undefined ? {} : { keys: keysOf(message.keys)! }),
      ...(message.properties === undefined ? {} : { userProperties: message.properties }),
      ...(messageGroup === undefined ? {} : { messageGroup }),
      ...(deliveryTimestamp === undefined ? {} : { deliveryTimestamp }),
      ...(options.transaction ? { transaction: {} } : {}),
    };
    const checked = checkSendRequests([request], now, {
      maxDelayMs: MAX_DELAY_MS,
      maxBodySize: options.maxBodySize,
    }).messages[0]!;
    const keys = checked.keys ? [...checked.keys] : [];
    let size = MESSAGE_OVERHEAD_BYTES + checked.body.length + request.messageId.length;
    if (checked.tag) size += checked.tag.length;
    for (const key of keys) size += key.length + 2;
    if (checked.userProperties) {
      for (const [k, v] of Object.entries(checked.userProperties)) size += k.length + v.length + 4;
    }
    const protoType = PROTO_TYPES[checked.type];
    return {
      topic: request.topic,
      messageId: request.messageId,
      type: checked.type,
      protoType,
      messageGroup: checked.messageGroup,
      size,
      proto: {
        topic: { resource_namespace: options.namespace, name: request.topic },
        user_properties: checked.userProperties ? { ...checked.userProperties } : {},
        system_properties: {
          ...(checked.tag === undefined ? {} : { tag: checked.tag }),
          keys,
          message_id: request.messageId,
          body_encoding: Encoding.IDENTITY,
          message_type: protoType,
          born_timestamp: timestampOf(now),
          born_host: BORN_HOST,
          queue_id: 0,
          ...(checked.messageGroup === undefined ? {} : { message_group: checked.messageGroup }),
          ...(deliveryTimestamp === undefined ? {} : { delivery_timestamp: timestampOf(deliveryTimestamp) }),
        },
        body: checked.body,
      },
    };
  } catch (err) {
    throw clientErrorOf(err);
  }
}

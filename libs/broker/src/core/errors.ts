/**
 * Typed errors of the broker core. Each one carries the exact RocketMQ 5 status code
 * (`apache.rocketmq.v2.Code`) that the Java proxy answers with for the same fault, so the gRPC layer
 * maps an error to a response by its `code` alone.
 *
 * Errors that the store already defines for exactly the same fault are re-exported, not duplicated:
 * one class per fault keeps `instanceof` true whichever layer threw it, and the package barrel can
 * `export *` both `store/` and `core/` without two classes fighting over one name. These five are:
 * IllegalTopicError (ILLEGAL_TOPIC), IllegalMessageKeyError (ILLEGAL_MESSAGE_KEY),
 * MessageBodyEmptyError (MESSAGE_BODY_EMPTY), MessageBodyTooLargeError (MESSAGE_BODY_TOO_LARGE) and
 * MessagePropertiesTooLargeError (MESSAGE_PROPERTIES_TOO_LARGE). They are `StoreError`s too; the core
 * always passes them a value shortened with `preview()`. The store's CorruptRecordError (a damaged
 * record on disk) is not the core's MessageCorruptedError (a malformed request), so both exist.
 */
import { RocketError, StatusCode } from '../status-code.js';

export {
  IllegalMessageKeyError,
  IllegalTopicError,
  MessageBodyEmptyError,
  MessageBodyTooLargeError,
  MessagePropertiesTooLargeError,
} from '../store/errors.js';

/** Longest piece of a client-supplied value that an error message repeats. */
export const ERROR_VALUE_PREVIEW_CHARS = 64;

/**
 * The first `max` characters of `value`, never splitting a surrogate pair, with a note of the full
 * length when cut. Client values end up in logs and responses; a 4 MiB topic must not.
 */
export function preview(value: string, max = ERROR_VALUE_PREVIEW_CHARS): string {
  if (value.length <= max) return value;
  let end = max;
  const last = value.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${value.slice(0, end)}…(${value.length} chars)`;
}

/** `preview(value)` as a JSON string literal: quoted, with control characters escaped. */
export function quote(value: string): string {
  return JSON.stringify(preview(value));
}

export class TopicNotFoundError extends RocketError {
  constructor(readonly topic: string) {
    super(StatusCode.TOPIC_NOT_FOUND, `topic ${quote(topic)} does not exist`);
  }
}

export class IllegalConsumerGroupError extends RocketError {
  constructor(
    readonly group: string,
    reason: string,
  ) {
    super(StatusCode.ILLEGAL_CONSUMER_GROUP, `illegal consumer group ${quote(group)}: ${reason}`);
  }
}

export class ConsumerGroupNotFoundError extends RocketError {
  constructor(readonly group: string) {
    super(StatusCode.CONSUMER_GROUP_NOT_FOUND, `consumer group ${quote(group)} does not exist`);
  }
}

export class IllegalMessageTagError extends RocketError {
  constructor(
    readonly tag: string,
    reason: string,
  ) {
    super(StatusCode.ILLEGAL_MESSAGE_TAG, `illegal message tag ${quote(tag)}: ${reason}`);
  }
}

export class IllegalMessageGroupError extends RocketError {
  constructor(
    readonly messageGroup: string,
    reason: string,
  ) {
    super(StatusCode.ILLEGAL_MESSAGE_GROUP, `illegal message group ${quote(messageGroup)}: ${reason}`);
  }
}

/** A reserved or malformed user-property key, or (as RocketMQ) a value with a control character. */
export class IllegalPropertyKeyError extends RocketError {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(StatusCode.ILLEGAL_MESSAGE_PROPERTY_KEY, `illegal message property ${quote(key)}: ${reason}`);
  }
}

export class IllegalMessageIdError extends RocketError {
  constructor(
    readonly messageId: string,
    reason: string,
  ) {
    super(StatusCode.ILLEGAL_MESSAGE_ID, `illegal message id ${quote(messageId)}: ${reason}`);
  }
}

export class IllegalDeliveryTimeError extends RocketError {
  constructor(
    readonly deliveryTimestamp: number,
    reason: string,
  ) {
    super(StatusCode.ILLEGAL_DELIVERY_TIME, `illegal delivery timestamp ${deliveryTimestamp}: ${reason}`);
  }
}

/** The message's type (or its mix of transaction, delivery time and group) is not what the topic takes. */
export class MessageTypeConflictError extends RocketError {
  constructor(
    readonly messageType: string,
    reason: string,
  ) {
    super(StatusCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE, `message type ${messageType} conflicts: ${reason}`);
  }
}

export class IllegalInvisibleTimeError extends RocketError {
  constructor(
    readonly invisibleMs: number,
    reason: string,
  ) {
    super(StatusCode.ILLEGAL_INVISIBLE_TIME, `illegal invisible duration ${invisibleMs} ms: ${reason}`);
  }
}

/** The remaining call deadline cannot fit the shortest long poll (RocketMQ ReceiveMessageActivity). */
export class IllegalPollingTimeError extends RocketError {
  constructor(
    readonly remainingMs: number,
    reason: string,
  ) {
    super(StatusCode.ILLEGAL_POLLING_TIME, `illegal polling time (${remainingMs} ms left): ${reason}`);
  }
}

/**
 * A receipt handle that is garbage, forged, tampered with, from another broker epoch, stale or
 * already acked. The handle itself is not repeated: it is a bearer token for a lease.
 */
export class InvalidReceiptHandleError extends RocketError {
  constructor(reason: string) {
    super(StatusCode.INVALID_RECEIPT_HANDLE, `invalid receipt handle: ${reason}`);
  }
}

export class InvalidTransactionIdError extends RocketError {
  constructor(
    readonly transactionId: string,
    reason: string,
  ) {
    super(StatusCode.INVALID_TRANSACTION_ID, `invalid transaction id ${quote(transactionId)}: ${reason}`);
  }
}

/** A malformed send request: no message, or messages for several topics in one batch. */
export class MessageCorruptedError extends RocketError {
  constructor(reason: string) {
    super(StatusCode.MESSAGE_CORRUPTED, `message corrupted: ${reason}`);
  }
}

/** Any other invalid request field (RocketMQ answers BAD_REQUEST, e.g. a too long tx recovery time). */
export class BadRequestError extends RocketError {
  constructor(reason: string) {
    super(StatusCode.BAD_REQUEST, `bad request: ${reason}`);
  }
}

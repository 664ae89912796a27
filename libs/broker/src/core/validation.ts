/**
 * Request validation of the broker core: pure functions that throw the typed errors of
 * `./errors.ts`, following the RocketMQ 5 proxy (`GrpcValidator`, `SendMessageActivity`,
 * `ReceiveMessageActivity`, client `Validators`, `TopicValidator`) and PROTOCOL.md §2.
 *
 * "Blank" means what Java's `StringUtils.isBlank` means: empty or only `Character.isWhitespace`
 * characters. "Control character" means Guava's `CharMatcher.javaIsoControl()`: U+0000–U+001F and
 * U+007F–U+009F. Where RocketMQ treats an empty optional field as absent (tag, message group), so do
 * we, and the validator returns `undefined` for it.
 */
import {
  BadRequestError,
  IllegalConsumerGroupError,
  IllegalDeliveryTimeError,
  IllegalInvisibleTimeError,
  IllegalMessageGroupError,
  IllegalMessageIdError,
  IllegalMessageKeyError,
  IllegalMessageTagError,
  IllegalPropertyKeyError,
  IllegalTopicError,
  InvalidTransactionIdError,
  MessageBodyEmptyError,
  MessageBodyTooLargeError,
  MessagePropertiesTooLargeError,
  MessageTypeConflictError,
  preview,
} from './errors.js';
import {
  DEFAULT_MAX_BODY_SIZE,
  DEFAULT_RECEIVE_BATCH_SIZE,
  DLQ_TOPIC_PREFIX,
  GROUP_MAX_LENGTH,
  INVISIBLE_DURATION_MAX_MS,
  INVISIBLE_DURATION_MIN_MS,
  MAX_DELAY_MS,
  MAX_PROPERTIES_COUNT,
  MAX_PROPERTIES_SIZE,
  MESSAGE_GROUP_MAX_BYTES,
  MESSAGE_ID_MAX_LENGTH,
  RECEIVE_BATCH_LIMIT,
  RECEIVE_BATCH_MAX,
  RESERVED_PROPERTY_KEYS,
  RESERVED_PROPERTY_KEY_PREFIXES,
  RETRY_OR_DLQ_TOPIC_MAX_LENGTH,
  RETRY_TOPIC_PREFIX,
  SYSTEM_GROUPS,
  SYSTEM_GROUP_PREFIX,
  SYSTEM_TOPICS,
  SYSTEM_TOPIC_PREFIXES,
  TOPIC_MAX_LENGTH,
  TOPIC_OR_GROUP_NAME_PATTERN,
  TRANSACTION_RECOVERY_MAX_MS,
} from './limits.js';

/** RocketMQ 5 message types (`apache.rocketmq.v2.MessageType` without UNSPECIFIED, LITE and PRIORITY). */
export type MessageType = 'NORMAL' | 'FIFO' | 'DELAY' | 'TRANSACTION';

/** What a MIXED topic accepts (`TopicMessageType.MIXED`). */
export const ALL_MESSAGE_TYPES: ReadonlySet<MessageType> = new Set<MessageType>([
  'NORMAL',
  'FIFO',
  'DELAY',
  'TRANSACTION',
]);

// ---------------------------------------------------------------------------------------------
// Character classes
// ---------------------------------------------------------------------------------------------

/** Guava `CharMatcher.javaIsoControl()`: U+0000–U+001F, U+007F–U+009F. */
export function isControlChar(code: number): boolean {
  return code <= 0x1f || (code >= 0x7f && code <= 0x9f);
}

export function containsControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (isControlChar(s.charCodeAt(i))) return true;
  return false;
}

/**
 * Java `Character.isWhitespace`: Unicode space, line and paragraph separators except the no-break
 * spaces U+00A0, U+2007, U+202F, plus U+0009–U+000D and U+001C–U+001F.
 */
function isJavaWhitespace(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d) || (code >= 0x1c && code <= 0x1f);
  if (code < 0x1680) return false;
  if (code === 0x2007 || code === 0x202f) return false;
  return (
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x205f ||
    code === 0x3000
  );
}

/** Java `StringUtils.isBlank`: empty or whitespace only. */
export function isBlank(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (!isJavaWhitespace(s.charCodeAt(i))) return false;
  return true;
}

/** UTF-8 length without encoding when the string is plain ASCII (the usual case). */
function utf8Bytes(s: string): number {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return s.length;
}

// ---------------------------------------------------------------------------------------------
// Topics and groups
// ---------------------------------------------------------------------------------------------

export interface TopicNameOptions {
  /** Accept system topics (`TBW102`, `RMQ_SYS_*`, `rmq_sys_*`, …): broker-internal use only. */
  readonly allowSystem?: boolean;
  /** Accept `%RETRY%<group>` / `%DLQ%<group>` topics (≤ 255 chars), e.g. to consume a DLQ. */
  readonly allowRetryDlq?: boolean;
  /** More names to treat as system topics (RocketMQ adds the cluster and broker names at runtime). */
  readonly extraSystemTopics?: ReadonlySet<string>;
}

/** `%RETRY%…` or `%DLQ%…` (`MixAll.RETRY_GROUP_TOPIC_PREFIX`, `MixAll.DLQ_GROUP_TOPIC_PREFIX`). */
export function isRetryOrDlqTopic(name: string): boolean {
  return name.startsWith(RETRY_TOPIC_PREFIX) || name.startsWith(DLQ_TOPIC_PREFIX);
}

/** `TopicValidator.isSystemTopic`, plus the `RMQ_SYS_` prefix and any `extra` names. */
export function isSystemTopic(name: string, extra?: ReadonlySet<string>): boolean {
  if (SYSTEM_TOPICS.has(name) || extra?.has(name)) return true;
  for (const prefix of SYSTEM_TOPIC_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}

/**
 * A topic name as `Validators.checkTopic` + `GrpcValidator.validateTopic` check it: not blank,
 * `^[%|a-zA-Z0-9_-]+$`, ≤ 127 chars (≤ 255 for retry/DLQ topics), not a system topic.
 * Retry and DLQ topics are refused unless `allowRetryDlq` (RocketMQ lets them through the proxy).
 * @throws IllegalTopicError (ILLEGAL_TOPIC)
 */
export function validateTopicName(name: string, options: TopicNameOptions = {}): void {
  if (typeof name !== 'string' || isBlank(name)) throw new IllegalTopicError(textOf(name), 'blank');
  const retryOrDlq = isRetryOrDlqTopic(name);
  const max = retryOrDlq ? RETRY_OR_DLQ_TOPIC_MAX_LENGTH : TOPIC_MAX_LENGTH;
  if (name.length > max) {
    throw new IllegalTopicError(preview(name), `${name.length} characters, longer than ${max}`);
  }
  if (!TOPIC_OR_GROUP_NAME_PATTERN.test(name)) {
    throw new IllegalTopicError(
      preview(name),
      'contains illegal characters, allowed only ^[%|a-zA-Z0-9_-]+$',
    );
  }
  if (retryOrDlq && !options.allowRetryDlq) {
    throw new IllegalTopicError(preview(name), 'retry and dead-letter topics are reserved');
  }
  if (!options.allowSystem && isSystemTopic(name, options.extraSystemTopics)) {
    throw new IllegalTopicError(preview(name), 'cannot access a system topic');
  }
}

/** `MixAll.isSysConsumerGroup` (`CID_RMQ_SYS_` prefix) or one of `MixAll.PREDEFINE_GROUP_SET`. */
export function isSystemGroup(name: string): boolean {
  return name.startsWith(SYSTEM_GROUP_PREFIX) || SYSTEM_GROUPS.has(name);
}

/**
 * A consumer group name as `Validators.checkGroup` + `GrpcValidator.validateConsumerGroup` check it:
 * not blank, ≤ 120 chars, `^[%|a-zA-Z0-9_-]+$`, not a system group.
 * @throws IllegalConsumerGroupError (ILLEGAL_CONSUMER_GROUP)
 */
export function validateConsumerGroup(name: string): void {
  if (typeof name !== 'string' || isBlank(name)) throw new IllegalConsumerGroupError(textOf(name), 'blank');
  if (name.length > GROUP_MAX_LENGTH) {
    throw new IllegalConsumerGroupError(name, `${name.length} characters, longer than ${GROUP_MAX_LENGTH}`);
  }
  if (!TOPIC_OR_GROUP_NAME_PATTERN.test(name)) {
    throw new IllegalConsumerGroupError(name, 'contains illegal characters, allowed only ^[%|a-zA-Z0-9_-]+$');
  }
  if (isSystemGroup(name)) throw new IllegalConsumerGroupError(name, 'cannot use a system consumer group');
}

// ---------------------------------------------------------------------------------------------
// Message fields
// ---------------------------------------------------------------------------------------------

/**
 * `GrpcValidator.validateTag`. An absent or empty tag means "no tag" and returns `undefined`;
 * otherwise the tag must not be blank, contain `|` (the filter separator) or a control character.
 * @throws IllegalMessageTagError (ILLEGAL_MESSAGE_TAG)
 */
export function validateTag(tag: string | null | undefined): string | undefined {
  if (tag === undefined || tag === null || tag === '') return undefined;
  if (isBlank(tag)) throw new IllegalMessageTagError(tag, 'cannot be whitespace only');
  if (tag.includes('|')) throw new IllegalMessageTagError(tag, "cannot contain '|'");
  if (containsControlChar(tag)) throw new IllegalMessageTagError(tag, 'cannot contain a control character');
  return tag;
}

/**
 * `SendMessageActivity.validateMessageKey` for each key: not blank, no control character. Unlike
 * the proxy, which skips empty keys, an empty key is rejected (the store indexes every key).
 * @throws IllegalMessageKeyError (ILLEGAL_MESSAGE_KEY)
 */
export function validateKeys(keys: readonly string[] | null | undefined): void {
  if (!keys) return;
  for (const key of keys) {
    if (typeof key !== 'string' || key === '') throw new IllegalMessageKeyError(textOf(key), 'empty');
    if (isBlank(key)) throw new IllegalMessageKeyError(preview(key), 'cannot be whitespace only');
    if (containsControlChar(key)) {
      throw new IllegalMessageKeyError(preview(key), 'cannot contain a control character');
    }
  }
}

/**
 * `SendMessageActivity.validateMessageGroup`. Absent or empty means "no group" (`undefined`);
 * otherwise not blank, fewer than 64 UTF-8 bytes (`utf8 >= maxMessageGroupSize` is rejected), no
 * control character.
 * @throws IllegalMessageGroupError (ILLEGAL_MESSAGE_GROUP)
 */
export function validateMessageGroup(group: string | null | undefined): string | undefined {
  if (group === undefined || group === null || group === '') return undefined;
  if (isBlank(group)) throw new IllegalMessageGroupError(group, 'cannot be whitespace only');
  // Each UTF-16 unit is at least one UTF-8 byte, so a long string is rejected without encoding it.
  const bytes = group.length >= MESSAGE_GROUP_MAX_BYTES ? group.length : utf8Bytes(group);
  if (bytes >= MESSAGE_GROUP_MAX_BYTES) {
    throw new IllegalMessageGroupError(
      group,
      `must be shorter than ${MESSAGE_GROUP_MAX_BYTES} UTF-8 bytes (at least ${bytes})`,
    );
  }
  if (containsControlChar(group)) {
    throw new IllegalMessageGroupError(group, 'cannot contain a control character');
  }
  return group;
}

/** Extra fields counted against the 16 KiB property budget, as the proxy counts them. */
export interface PropertyBudgetExtras {
  readonly tag?: string | null | undefined;
  readonly keys?: readonly string[] | null | undefined;
}

/**
 * User properties as `SendMessageActivity.buildMessageProperty` checks them: at most 128; no
 * reserved key (`MessageConst.STRING_HASH_SET` and Rocketnest's additions, see limits.ts); no
 * control character in a key or (as RocketMQ) a value; the UTF-8 bytes of all keys and values plus
 * the tag and the message keys at most 16 KiB. Rocketnest also rejects an empty key.
 * @throws MessagePropertiesTooLargeError (MESSAGE_PROPERTIES_TOO_LARGE)
 * @throws IllegalPropertyKeyError (ILLEGAL_MESSAGE_PROPERTY_KEY)
 */
export function validateUserProperties(
  properties: Readonly<Record<string, string>> | ReadonlyMap<string, string> | null | undefined,
  extras: PropertyBudgetExtras = {},
): void {
  let total = 0;
  if (properties) {
    const isMap = properties instanceof Map;
    const entries: Iterable<readonly [string, unknown]> = isMap
      ? (properties as ReadonlyMap<string, string>).entries()
      : Object.entries(properties);
    const count = isMap ? (properties as ReadonlyMap<string, string>).size : Object.keys(properties).length;
    if (count > MAX_PROPERTIES_COUNT) {
      throw new MessagePropertiesTooLargeError(`${count} user properties, at most ${MAX_PROPERTIES_COUNT}`);
    }
    for (const [key, value] of entries) {
      if (key === '') throw new IllegalPropertyKeyError(key, 'the key is empty');
      if (isReservedPropertyKey(key)) throw new IllegalPropertyKeyError(key, 'the key is used by the system');
      if (containsControlChar(key)) {
        throw new IllegalPropertyKeyError(key, 'the key cannot contain a control character');
      }
      if (typeof value !== 'string') throw new IllegalPropertyKeyError(key, 'the value is not a string');
      if (containsControlChar(value)) {
        throw new IllegalPropertyKeyError(key, 'the value cannot contain a control character');
      }
      total += utf8Bytes(key) + utf8Bytes(value);
    }
  }
  if (extras.tag) total += utf8Bytes(extras.tag);
  if (extras.keys) for (const key of extras.keys) if (typeof key === 'string') total += utf8Bytes(key);
  if (total > MAX_PROPERTIES_SIZE) {
    throw new MessagePropertiesTooLargeError(
      `${total} bytes of user properties, tag and keys, at most ${MAX_PROPERTIES_SIZE}`,
    );
  }
}

/** A key RocketMQ or Rocketnest keeps for itself. */
export function isReservedPropertyKey(key: string): boolean {
  if (RESERVED_PROPERTY_KEYS.has(key)) return true;
  for (const prefix of RESERVED_PROPERTY_KEY_PREFIXES) if (key.startsWith(prefix)) return true;
  return false;
}

/**
 * The producer's message id (UNIQ_KEY). RocketMQ only rejects a blank id; Rocketnest also rejects
 * ids longer than 128 characters or with a control character (they end up in logs and indexes).
 * @throws IllegalMessageIdError (ILLEGAL_MESSAGE_ID)
 */
export function validateMessageId(id: string | null | undefined): void {
  if (typeof id !== 'string' || isBlank(id)) throw new IllegalMessageIdError(textOf(id), 'blank');
  if (id.length > MESSAGE_ID_MAX_LENGTH) {
    throw new IllegalMessageIdError(id, `${id.length} characters, longer than ${MESSAGE_ID_MAX_LENGTH}`);
  }
  if (containsControlChar(id)) throw new IllegalMessageIdError(id, 'cannot contain a control character');
}

/**
 * A transaction id from EndTransaction: blank is INVALID_TRANSACTION_ID (PROTOCOL.md §2); whether
 * it names a live transaction is the transaction service's check.
 * @throws InvalidTransactionIdError (INVALID_TRANSACTION_ID)
 */
export function validateTransactionId(id: string | null | undefined): void {
  if (typeof id !== 'string' || isBlank(id)) throw new InvalidTransactionIdError(textOf(id), 'blank');
  if (id.length > MESSAGE_ID_MAX_LENGTH) {
    throw new InvalidTransactionIdError(id, `${id.length} characters, longer than ${MESSAGE_ID_MAX_LENGTH}`);
  }
}

/**
 * A delivery timestamp (ms since the epoch) against `now`: not finite is rejected; more than
 * `maxDelayMs` ahead is rejected (`SendMessageActivity.validateDelayTime`: `ts - now > maxDelay`);
 * a past timestamp means "deliver now". Returns the time to deliver at, `max(ts, now)`.
 * @throws IllegalDeliveryTimeError (ILLEGAL_DELIVERY_TIME)
 */
export function validateDeliveryTimestamp(
  ts: number,
  now: number,
  maxDelayMs: number = MAX_DELAY_MS,
): number {
  if (typeof ts !== 'number' || !Number.isFinite(ts)) {
    throw new IllegalDeliveryTimeError(Number(ts), 'not a finite number of milliseconds');
  }
  if (ts - now > maxDelayMs) {
    throw new IllegalDeliveryTimeError(ts, `${ts - now} ms ahead, the maximum delay is ${maxDelayMs} ms`);
  }
  return ts > now ? ts : now;
}

export interface InvisibleDurationBounds {
  /** Default 10 s (`minInvisibleTimeMillsForRecv`, ReceiveMessage); ChangeInvisibleDuration passes 0. */
  readonly minMs?: number;
  /** Default 12 h (`maxInvisibleTimeMills`). */
  readonly maxMs?: number;
}

/**
 * `GrpcValidator.validateInvisibleTime`: a finite duration in [minMs, maxMs]. Returns it.
 * @throws IllegalInvisibleTimeError (ILLEGAL_INVISIBLE_TIME)
 */
export function validateInvisibleDuration(ms: number, bounds: InvisibleDurationBounds = {}): number {
  const { minMs = INVISIBLE_DURATION_MIN_MS, maxMs = INVISIBLE_DURATION_MAX_MS } = bounds;
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new IllegalInvisibleTimeError(Number(ms), 'not a finite, non-negative number of milliseconds');
  }
  if (ms < minMs) throw new IllegalInvisibleTimeError(ms, `too small, the minimum is ${minMs} ms`);
  if (ms > maxMs) throw new IllegalInvisibleTimeError(ms, `too large, the maximum is ${maxMs} ms`);
  return ms;
}

/**
 * `SendMessageActivity.validateTransactionRecoverySecond`: the orphaned-transaction recovery
 * duration, compared in whole seconds as RocketMQ does, at most 1 h. Returns it.
 * @throws BadRequestError (BAD_REQUEST)
 */
export function validateTransactionRecoveryMs(ms: number): number {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new BadRequestError(`transaction recovery duration ${String(ms)} ms is not a valid duration`);
  }
  if (Math.trunc(ms / 1000) > TRANSACTION_RECOVERY_MAX_MS / 1000) {
    throw new BadRequestError(
      `transaction recovery duration ${ms} ms is too large, the maximum is ${TRANSACTION_RECOVERY_MAX_MS} ms`,
    );
  }
  return ms;
}

/**
 * `SendMessageActivity.validateMessageBodySize`: empty is MESSAGE_BODY_EMPTY, more than `maxBytes` is
 * MESSAGE_BODY_TOO_LARGE. The default is the advertised limit (4 MiB − 64 KiB, see limits.ts).
 * @throws MessageBodyEmptyError (MESSAGE_BODY_EMPTY)
 * @throws MessageBodyTooLargeError (MESSAGE_BODY_TOO_LARGE)
 */
export function validateBody(body: Uint8Array, maxBytes: number = DEFAULT_MAX_BODY_SIZE): void {
  if (!body || body.length === 0) throw new MessageBodyEmptyError();
  if (body.length > maxBytes) throw new MessageBodyTooLargeError(body.length, maxBytes);
}

/**
 * A ReceiveMessage `batch_size`, as the facade accepts it: missing takes the broker's most (the
 * `receive_batch_size` its Settings push, 32 unless configured); anything but an integer ≥ 1 is
 * BAD_REQUEST (RELIABILITY.md §(d)11; no client sends it: the official Simple consumer refuses
 * `maxMessageNum <= 0` itself and Push asks for at least 1); more than `max` is clamped, because
 * Apache RocketMQ's proxy clamps it (`ConsumerProcessor`, with a warning) and code written against
 * the built-in broker must behave the same against Apache.
 * @param max the broker's `maxReceiveBatchSize` (default 32, as Apache's)
 * @throws BadRequestError
 */
export function validateReceiveBatchSize(
  requested: number | undefined,
  max: number = RECEIVE_BATCH_MAX,
): number {
  if (requested === undefined) return max;
  if (!Number.isInteger(requested) || requested < 1) {
    throw new BadRequestError(`batch_size must be a positive integer, got ${String(requested)}`);
  }
  return Math.min(requested, max);
}

/** The engine's own guard: ≤ 0 or not a number takes the default (32), more than `max` is clamped. */
export function clampReceiveBatchSize(requested: number, max: number = RECEIVE_BATCH_MAX): number {
  if (typeof requested !== 'number' || !Number.isFinite(requested) || requested < 1) {
    return Math.min(DEFAULT_RECEIVE_BATCH_SIZE, max);
  }
  return Math.min(Math.floor(requested), max);
}

/**
 * A broker's `maxReceiveBatchSize`: an integer in 1..RECEIVE_BATCH_LIMIT.
 * @throws RangeError otherwise (a configuration error, at startup)
 */
export function checkMaxReceiveBatchSize(value: number): number {
  if (!Number.isInteger(value) || value < 1 || value > RECEIVE_BATCH_LIMIT) {
    throw new RangeError(
      `maxReceiveBatchSize must be an integer in 1..${RECEIVE_BATCH_LIMIT}, got ${String(value)}`,
    );
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Message type
// ---------------------------------------------------------------------------------------------

/** The parts of a message that decide its type. */
export interface MessageTypeTraits {
  /** The client sent `message_type = TRANSACTION`. */
  readonly transaction: boolean;
  /** Present (any number) when the client set `delivery_timestamp`. */
  readonly deliveryTimestamp?: number | null | undefined;
  /** A non-empty message group makes the message FIFO. */
  readonly messageGroup?: string | null | undefined;
}

function hasDeliveryTimestamp(traits: MessageTypeTraits): boolean {
  return traits.deliveryTimestamp !== undefined && traits.deliveryTimestamp !== null;
}

function hasMessageGroup(traits: MessageTypeTraits): boolean {
  return typeof traits.messageGroup === 'string' && traits.messageGroup !== '';
}

/**
 * TRANSACTION › DELAY › FIFO › NORMAL (PROTOCOL.md §2; `TopicMessageType.parseFromMessageProperty`
 * looks at TRAN_MSG, then the delay/timer properties, then `__SHARDINGKEY`).
 */
export function effectiveMessageType(traits: MessageTypeTraits): MessageType {
  if (traits.transaction) return 'TRANSACTION';
  if (hasDeliveryTimestamp(traits)) return 'DELAY';
  if (hasMessageGroup(traits)) return 'FIFO';
  return 'NORMAL';
}

/**
 * The message type against the types a topic accepts (`DefaultTopicMessageTypeValidator`; a MIXED
 * topic accepts ALL_MESSAGE_TYPES). Given the traits rather than a type, it first rejects mixes that
 * every official client refuses to build (`PublishingMessage`, `MessageBuilderImpl`, C++
 * `ProducerImpl`): a transactional message with a delivery timestamp or a message group, and a
 * delivery timestamp together with a message group. The Java proxy would silently pick one type.
 * Returns the effective type.
 * @throws MessageTypeConflictError (MESSAGE_PROPERTY_CONFLICT_WITH_TYPE)
 */
export function validateMessageType(
  message: MessageType | MessageTypeTraits,
  accepted: ReadonlySet<MessageType>,
): MessageType {
  let effective: MessageType;
  if (typeof message === 'string') {
    effective = message;
  } else {
    effective = effectiveMessageType(message);
    const delay = hasDeliveryTimestamp(message);
    const group = hasMessageGroup(message);
    if (message.transaction && delay) {
      throw new MessageTypeConflictError(
        effective,
        'a transactional message cannot have a delivery timestamp',
      );
    }
    if (message.transaction && group) {
      throw new MessageTypeConflictError(effective, 'a transactional message cannot have a message group');
    }
    if (delay && group) {
      throw new MessageTypeConflictError(
        effective,
        'a message cannot have both a delivery timestamp and a group',
      );
    }
  }
  if (!accepted.has(effective)) {
    const types = accepted.size === 0 ? 'no message type' : [...accepted].join(', ');
    throw new MessageTypeConflictError(effective, `the topic accepts ${types}`);
  }
  return effective;
}

/** A printable stand-in for a value that was not a string. */
function textOf(value: unknown): string {
  return typeof value === 'string' ? preview(value) : String(value);
}

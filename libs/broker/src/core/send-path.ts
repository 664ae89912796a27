/**
 * The send path of the broker core (RocketMQ 5 `SendMessage`): validate a request, then route each
 * message by its type: NORMAL and FIFO to the store (one batch), DELAY to the timer service,
 * TRANSACTION to the transaction service as a half message.
 *
 * Decision, all-or-nothing validation: like the Java proxy (`SendMessageActivity` builds every
 * message before sending any), one invalid message rejects the whole request with its status code
 * and nothing is stored; `checkSendRequests` throws. Only then is anything stored, and each message
 * gets its own result: a failure while storing (disk full, too many pending transactions) is reported
 * on exactly the messages it hit, never hidden. NORMAL/FIFO messages of one request share one store
 * batch, so they are stored or failed together.
 */
import { type AppendResult, type MessageStore, type MessageToStore } from '../store/index.js';
import { RocketError, StatusCode, type StatusCodeValue } from '../status-code.js';
import {
  BadRequestError,
  IllegalMessageGroupError,
  IllegalMessageKeyError,
  IllegalMessageTagError,
  IllegalPropertyKeyError,
  MessageBodyEmptyError,
  MessageCorruptedError,
  preview,
} from './errors.js';
import { DELAY_LEVELS_MS, GROUP_MAX_LENGTH, TOPIC_OR_GROUP_NAME_PATTERN } from './limits.js';
import { MESSAGE_GROUP_PROPERTY } from './consume/names.js';
import { type QueueSelector } from './queue-selector.js';
import { IllegalDelayLevelError } from './timer/timer-errors.js';
import { type TimerService } from './timer/timer-service.js';
import { type TopicConfig } from './topic-registry.js';
import { type TransactionService } from './transaction/transaction-service.js';
import {
  ALL_MESSAGE_TYPES,
  validateBody,
  validateDeliveryTimestamp,
  validateKeys,
  validateMessageGroup,
  validateMessageId,
  validateMessageType,
  validateTag,
  validateTopicName,
  validateTransactionRecoveryMs,
  validateUserProperties,
  type MessageType,
  type MessageTypeTraits,
} from './validation.js';

/** One message of a send request, as a producer gives it. */
export interface SendRequest {
  readonly topic: string;
  readonly body: Uint8Array;
  /** The producer's id (UNIQ_KEY); echoed in the result and kept by every copy. */
  readonly messageId: string;
  readonly tag?: string;
  readonly keys?: readonly string[];
  readonly userProperties?: Readonly<Record<string, string>>;
  /** Makes the message FIFO: one message group always maps to one queue. */
  readonly messageGroup?: string;
  /** Makes the message DELAY: delivered at this time (ms since the epoch; a past time = now). */
  readonly deliveryTimestamp?: number;
  /**
   * Makes the message DELAY by RocketMQ delay level 1–18 (1s 5s 10s 30s 1m … 2h; the remoting
   * protocol's `DELAY` property). Not together with `deliveryTimestamp`.
   */
  readonly delayLevel?: number;
  /** Makes the message TRANSACTION: stored as an invisible half message until committed. */
  readonly transaction?: {
    /** Whom to ask in a check-back (PGROUP); the gRPC proxy passes the topic. */
    readonly producerGroup?: string;
    /** The producer's orphaned-transaction recovery duration (first check-back), ≤ 1 h. */
    readonly recoveryMs?: number;
  };
  /** Default: the broker's clock at receipt. */
  readonly bornTimestamp?: number;
  /** `ip:port` of the producer. */
  readonly bornHost?: string;
}

export interface SendOk {
  readonly ok: true;
  readonly messageId: string;
  readonly messageType: MessageType;
  /** The queue of the topic the message is (or, DELAY / TRANSACTION, will be) in. */
  readonly queueId: number;
  /**
   * Its offset in that queue. DELAY: the offset of the timer record (its real offset comes when the
   * timer fires; RocketMQ answers with the timer topic's offset too). TRANSACTION: the offset
   * of the half message in `RMQ_SYS_TRANS_HALF_TOPIC`, as RocketMQ's broker answers.
   */
  readonly queueOffset: number;
  /** TRANSACTION only: the id to commit or roll back with. */
  readonly transactionId?: string;
  /** DELAY only: when it becomes visible. */
  readonly deliverAt?: number;
}

export interface SendFailed {
  readonly ok: false;
  readonly messageId: string;
  readonly code: StatusCodeValue;
  readonly message: string;
}

export type SendResult = SendOk | SendFailed;

export interface SendLimits {
  /** Latest accepted delivery timestamp, from now. */
  readonly maxDelayMs: number;
  /** Largest accepted body. */
  readonly maxBodySize: number;
}

/** A message that passed validation, with its fields normalised. */
export interface CheckedSend {
  readonly request: SendRequest;
  readonly body: Buffer;
  readonly tag: string | undefined;
  readonly keys: readonly string[] | undefined;
  readonly userProperties: Readonly<Record<string, string>> | undefined;
  readonly messageGroup: string | undefined;
  readonly delayLevel: number | undefined;
  readonly producerGroup: string | undefined;
  readonly recoveryMs: number | undefined;
  readonly bornTimestamp: number;
  readonly bornHost: string | undefined;
  /** TRANSACTION › DELAY › FIFO › NORMAL, already free of contradictory mixes. */
  readonly type: MessageType;
}

export interface CheckedSendBatch {
  readonly topic: string;
  readonly messages: readonly CheckedSend[];
}

/**
 * Validates a whole send request (RELIABILITY.md §(d) 1, 3–10): an array of at least one message,
 * all for one topic (else MESSAGE_CORRUPTED), a legal topic name, and every field of every message.
 * Checks against the topic's accepted types come later (`checkTopicAccepts`), once the topic is
 * resolved. Garbage of any shape gets a typed error, never a crash.
 * @throws RocketError with the status code of the first fault found
 */
export function checkSendRequests(requests: unknown, now: number, limits: SendLimits): CheckedSendBatch {
  if (!Array.isArray(requests) || requests.length === 0) {
    throw new MessageCorruptedError('a send request needs at least one message');
  }
  let topic: unknown;
  for (const [i, r] of requests.entries()) {
    if (!isObject(r)) throw new MessageCorruptedError(`message ${i} is not an object`);
    if (i === 0) topic = r.topic;
    else if (r.topic !== topic) {
      throw new MessageCorruptedError('all messages of one send request must have the same topic');
    }
  }
  validateTopicName(topic as string); // not a string: ILLEGAL_TOPIC
  const messages = (requests as SendRequest[]).map((r) => checkMessage(r, now, limits));
  return { topic: topic as string, messages };
}

/**
 * Each message's type against what the topic accepts.
 * @throws MessageTypeConflictError (MESSAGE_PROPERTY_CONFLICT_WITH_TYPE)
 */
export function checkTopicAccepts(topic: TopicConfig, messages: readonly CheckedSend[]): void {
  for (const m of messages) validateMessageType(m.type, topic.messageTypes);
}

function checkMessage(r: SendRequest, now: number, limits: SendLimits): CheckedSend {
  validateMessageId(r.messageId);
  const body = checkBody(r.body, limits.maxBodySize);

  if (r.tag !== undefined && r.tag !== null && typeof r.tag !== 'string') {
    throw new IllegalMessageTagError(String(r.tag), 'not a string');
  }
  const tag = validateTag(r.tag);

  let keys: string[] | undefined;
  if (r.keys !== undefined && r.keys !== null) {
    if (!Array.isArray(r.keys)) throw new IllegalMessageKeyError(typeName(r.keys), 'keys must be a list');
    validateKeys(r.keys);
    keys = r.keys.length === 0 ? undefined : [...(r.keys as string[])];
  }

  if (r.messageGroup !== undefined && r.messageGroup !== null && typeof r.messageGroup !== 'string') {
    throw new IllegalMessageGroupError(String(r.messageGroup), 'not a string');
  }
  const messageGroup = validateMessageGroup(r.messageGroup);

  const userProperties = checkUserProperties(r.userProperties);
  validateUserProperties(userProperties, { tag, keys });

  const hasTimestamp = r.deliveryTimestamp !== undefined && r.deliveryTimestamp !== null;
  const hasLevel = r.delayLevel !== undefined && r.delayLevel !== null;
  if (hasTimestamp && hasLevel) {
    throw new BadRequestError('a message has either a delivery timestamp or a delay level, not both');
  }
  if (hasTimestamp) validateDeliveryTimestamp(r.deliveryTimestamp!, now, limits.maxDelayMs);
  if (hasLevel && !isDelayLevel(r.delayLevel)) {
    throw new IllegalDelayLevelError(r.delayLevel, DELAY_LEVELS_MS.length);
  }

  let producerGroup: string | undefined;
  let recoveryMs: number | undefined;
  const tx: unknown = r.transaction;
  if (tx !== undefined && tx !== null) {
    if (!isObject(tx)) throw new BadRequestError('transaction must be an object');
    producerGroup = checkProducerGroup(tx.producerGroup);
    if (tx.recoveryMs !== undefined && tx.recoveryMs !== null) {
      recoveryMs = validateTransactionRecoveryMs(tx.recoveryMs as number);
    }
  }

  const traits: MessageTypeTraits = {
    transaction: tx !== undefined && tx !== null,
    // A delay level makes a message DELAY just as a timestamp does.
    deliveryTimestamp: hasTimestamp ? r.deliveryTimestamp : hasLevel ? now : undefined,
    messageGroup,
  };
  // Contradictory mixes (transaction + delay, transaction + group, delay + group) fail here.
  const type = validateMessageType(traits, ALL_MESSAGE_TYPES);

  return {
    request: r,
    body,
    tag,
    keys,
    userProperties,
    messageGroup,
    delayLevel: hasLevel ? r.delayLevel : undefined,
    producerGroup,
    recoveryMs,
    bornTimestamp: checkBornTimestamp(r.bornTimestamp, now),
    bornHost: checkBornHost(r.bornHost),
    type,
  };
}

function checkBody(body: unknown, maxBytes: number): Buffer {
  if (body === undefined || body === null) throw new MessageBodyEmptyError();
  if (!(body instanceof Uint8Array)) throw new MessageCorruptedError('the body must be bytes');
  validateBody(body, maxBytes);
  return Buffer.isBuffer(body) ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength);
}

function checkUserProperties(props: unknown): Readonly<Record<string, string>> | undefined {
  if (props === undefined || props === null) return undefined;
  if (props instanceof Map) return Object.fromEntries(props as Map<string, string>);
  if (typeof props !== 'object' || Array.isArray(props)) {
    throw new IllegalPropertyKeyError(typeName(props), 'user properties must be an object of strings');
  }
  return Object.keys(props).length === 0 ? undefined : (props as Record<string, string>);
}

function isDelayLevel(level: unknown): level is number {
  return (
    typeof level === 'number' && Number.isInteger(level) && level >= 1 && level <= DELAY_LEVELS_MS.length
  );
}

/** A producer group follows the group name rules (`Validators.checkGroup`); blank means none. */
function checkProducerGroup(group: unknown): string | undefined {
  if (group === undefined || group === null || group === '') return undefined;
  if (
    typeof group !== 'string' ||
    group.length > GROUP_MAX_LENGTH ||
    !TOPIC_OR_GROUP_NAME_PATTERN.test(group)
  ) {
    throw new BadRequestError(
      `producer group ${typeof group === 'string' ? JSON.stringify(preview(group)) : typeName(group)} ` +
        `is not a valid group name`,
    );
  }
  return group;
}

function checkBornTimestamp(ts: unknown, now: number): number {
  if (ts === undefined || ts === null) return now;
  if (typeof ts !== 'number' || !Number.isSafeInteger(ts) || ts < 0) {
    throw new BadRequestError(`born timestamp ${typeName(ts)} is not a time in milliseconds`);
  }
  return ts;
}

function checkBornHost(host: unknown): string | undefined {
  if (host === undefined || host === null || host === '') return undefined;
  if (typeof host !== 'string' || host.length > 64) {
    throw new BadRequestError(`born host ${typeName(host)} is not an address`);
  }
  return host;
}

// ---------------------------------------------------------------------------------------------
// Routing
// ---------------------------------------------------------------------------------------------

export interface SendRoutes {
  readonly store: Pick<MessageStore, 'appendBatch'>;
  readonly timers: Pick<TimerService, 'schedule' | 'scheduleLevel'>;
  readonly transactions: Pick<TransactionService, 'prepare'>;
  readonly selector: QueueSelector;
  /** Told of failures that are not RocketErrors (bugs): the client only sees INTERNAL_ERROR. */
  readonly logError: (message: string) => void;
}

/** The message as the store takes it, on `queueId` of `topic`. */
export function toStoreMessage(m: CheckedSend, topic: string, queueId: number): MessageToStore {
  return {
    topic,
    queueId,
    body: m.body,
    messageId: m.request.messageId,
    tag: m.tag,
    keys: m.keys,
    userProperties: m.userProperties,
    // The consume engine reads the message group under RocketMQ's name (consume/names.ts).
    systemProperties: m.messageGroup === undefined ? undefined : { [MESSAGE_GROUP_PROPERTY]: m.messageGroup },
    bornTimestamp: m.bornTimestamp,
    bornHost: m.bornHost,
  };
}

/**
 * Stores validated messages of `topic`, each by its type. Never rejects: every message gets a
 * result, in request order.
 */
export async function routeSends(
  routes: SendRoutes,
  topic: TopicConfig,
  messages: readonly CheckedSend[],
): Promise<SendResult[]> {
  const results = new Array<SendResult>(messages.length);
  const batch: { index: number; message: MessageToStore; type: MessageType }[] = [];
  const work: Promise<void>[] = [];
  const fail = (index: number, err: unknown): void => {
    results[index] = failure(messages[index]!.request.messageId, err, routes.logError);
  };

  messages.forEach((m, index) => {
    const queueId = routes.selector.selectQueue(topic, m.messageGroup);
    const message = toStoreMessage(m, topic.name, queueId);
    const messageId = message.messageId;
    switch (m.type) {
      case 'NORMAL':
      case 'FIFO':
        batch.push({ index, message, type: m.type });
        return;
      case 'DELAY': {
        const scheduled =
          m.delayLevel !== undefined
            ? routes.timers.scheduleLevel(message, m.delayLevel)
            : routes.timers.schedule(message, m.request.deliveryTimestamp!);
        work.push(
          scheduled.then(
            (r) => {
              results[index] = {
                ok: true,
                messageId,
                messageType: 'DELAY',
                queueId,
                queueOffset: r.queueOffset,
                deliverAt: r.deliverAt,
              };
            },
            (err: unknown) => fail(index, err),
          ),
        );
        return;
      }
      case 'TRANSACTION':
        work.push(
          call(() =>
            routes.transactions.prepare(message, {
              ...(m.producerGroup === undefined ? {} : { producerGroup: m.producerGroup }),
              ...(m.recoveryMs === undefined ? {} : { recoveryMs: m.recoveryMs }),
            }),
          ).then(
            ({ transactionId, result }) => {
              results[index] = {
                ok: true,
                messageId,
                messageType: 'TRANSACTION',
                queueId,
                queueOffset: result.queueOffset,
                transactionId,
              };
            },
            (err: unknown) => fail(index, err),
          ),
        );
        return;
    }
  });

  if (batch.length > 0) {
    work.push(
      call(() => routes.store.appendBatch(batch.map((b) => b.message))).then(
        (appended: AppendResult[]) =>
          appended.forEach((r, k) => {
            const { index, type } = batch[k]!;
            results[index] = {
              ok: true,
              messageId: r.messageId,
              messageType: type,
              queueId: r.queueId,
              queueOffset: r.queueOffset,
            };
          }),
        (err: unknown) => batch.forEach((b) => fail(b.index, err)),
      ),
    );
  }
  await Promise.all(work);
  return results;
}

function failure(messageId: string, err: unknown, logError: (message: string) => void): SendFailed {
  if (err instanceof RocketError) return { ok: false, messageId, code: err.code, message: err.message };
  logError(`send of ${JSON.stringify(preview(String(messageId)))} failed: ${describe(err)}`);
  return { ok: false, messageId, code: StatusCode.INTERNAL_ERROR, message: 'internal error' };
}

/** Runs `fn`, turning a synchronous throw into a rejection. */
function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A short, unquoted stand-in for a client value of the wrong kind (error classes quote it). */
function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'string' ? preview(value) : typeof value;
}

function describe(err: unknown): string {
  return err instanceof Error ? (err.stack ?? err.message) : String(err);
}

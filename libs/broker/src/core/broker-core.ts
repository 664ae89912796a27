/**
 * The broker core as one object: RocketMQ 5 semantics (topics, groups, send, pop-style receive and
 * ack, FIFO, retry and DLQ, timers, transactions, backlog tools) over one store, with no gRPC in
 * sight. The gRPC layer translates requests into these calls and typed errors into status codes.
 *
 * Layout of `dataDir`: `store/` (the message store), `config/` (topics.json, groups.json,
 * consumerOffsets.json, broker-epoch.json), `timer/` (timer progress), `transaction/` (transaction
 * progress).
 *
 * Wiring:
 * - topic deleted → its consume queues, every group's offsets in it, its round-robin counter, what
 *   the consume engine read or leased in it, and the groups' retry topics for it
 *   (`%RETRY%<group>_<topic>`, as RocketMQ's `clearRetryTopicWhenDeleteTopic`) go; a re-created
 *   topic is read from offset 0.
 * - group deleted → its offsets and what the consume engine read or leased for it go; a re-created
 *   group starts per its `consumeFrom`.
 * - consume engine: offsets = ConsumerOffsets; retries = TimerService (durable backoff); policy =
 *   GroupRegistry; queue counts = TopicRegistry; an operator's offset reset drops what the engine
 *   read ahead (`ConsumerOffsets.onReset` → `resetOffset`).
 *
 * Errors: every method throws (or rejects with) typed RocketErrors carrying RocketMQ status codes;
 * after `close()` began, BrokerCoreClosedError.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { MessageStore, type StoredMessage } from '../store/index.js';
import { BrokerCoreClosedError } from './broker-core-errors.js';
import {
  type BrokerCoreLogger,
  type BrokerCoreOptions,
  type ListTopicsOptions,
  type ReceiveOptions,
  type TransactionCheckBack,
} from './broker-core-types.js';
import { enginePolicyOf, registryQueueCount, timerRetryScheduler } from './broker-core-wiring.js';
import { nextBrokerEpoch } from './broker-epoch.js';
import { systemClock, type Clock } from './clock.js';
import { ConsumeEngine } from './consume/consume-engine.js';
import { FINISHED_ABOVE_FILE } from './consume/finished-above.js';
import { type WakeReason } from './consume/long-poll.js';
import {
  type AckEntry,
  type AckEntryResult,
  type ChangeInvisibleResult,
  type ReceivedMessage,
} from './consume/types.js';
import { ConsumerOffsets } from './consumer-offsets.js';
import { BadRequestError, ConsumerGroupNotFoundError, TopicNotFoundError } from './errors.js';
import { compileFilter, SUBSCRIBE_ALL, type FilterExpression } from './filter/index.js';
import { GroupRegistry, type GroupConfig, type GroupOptions } from './group-registry.js';
import { type StateFileLogger } from './json-file.js';
import { computeLag, resetOffsetsToTimestamp, type TopicLag } from './lag.js';
import { DEFAULT_MAX_BODY_SIZE, MAX_BODY_SIZE, MAX_DELAY_MS, RECEIVE_BATCH_MAX } from './limits.js';
import { QueueSelector } from './queue-selector.js';
import { RECEIPT_HANDLE_MIN_SECRET_BYTES, ReceiptHandleCodec } from './receipt-handle.js';
import {
  checkSendRequests,
  checkTopicAccepts,
  routeSends,
  type SendLimits,
  type SendRequest,
  type SendResult,
} from './send-path.js';
import { TimerService } from './timer/timer-service.js';
import {
  dlqTopicOf,
  retryTopicOf,
  TopicRegistry,
  type TopicConfig,
  type TopicOptions,
} from './topic-registry.js';
import {
  TransactionService,
  type TransactionResolution,
  type TransactionSource,
} from './transaction/transaction-service.js';
import {
  isSystemTopic,
  validateConsumerGroup,
  validateInvisibleDuration,
  validateKeys,
  validateMessageId,
  validateReceiveBatchSize,
  checkMaxReceiveBatchSize,
  validateTopicName,
} from './validation.js';

/** Most records a query by id or key returns. */
const QUERY_MAX_RESULTS = 64;
/** Most messages one `browseQueue` page returns (bodies up to 4 MiB each are held at once). */
export const BROWSE_MAX_COUNT = 100;

/** A page of a queue, read without consuming anything. */
export interface QueuePage {
  readonly messages: readonly StoredMessage[];
  /** Where the next page starts. */
  readonly nextOffset: number;
  /** First and next-to-be-written offsets of the queue. */
  readonly minOffset: number;
  readonly maxOffset: number;
}

interface Parts {
  readonly dataDir: string;
  readonly epoch: number;
  readonly clock: Clock;
  readonly store: MessageStore;
  readonly topics: TopicRegistry;
  readonly groups: GroupRegistry;
  readonly offsets: ConsumerOffsets;
  readonly selector: QueueSelector;
  readonly timers: TimerService;
  readonly transactions: TransactionService;
  readonly engine: ConsumeEngine;
  readonly limits: SendLimits;
  readonly maxReceiveBatchSize: number;
  readonly logger: BrokerCoreLogger;
  readonly checkBack: TransactionCheckBack | undefined;
}

/** Calls registered before the parts they reach exist (registries are built first). */
interface Hooks {
  topicDeleted?: (topic: string) => void;
  groupDeleted?: (group: string) => void;
  checkBack?: TransactionCheckBack;
}

const consoleLogger: BrokerCoreLogger = {
  log: (m) => console.log(`[broker] ${m}`),
  warn: (m) => console.warn(`[broker] ${m}`),
  error: (m) => console.error(`[broker] ${m}`),
};

export class BrokerCore {
  readonly dataDir: string;
  /** This run's number (receipt handles of other runs are rejected). */
  readonly epoch: number;
  readonly #clock: Clock;
  readonly #store: MessageStore;
  readonly #topics: TopicRegistry;
  readonly #groups: GroupRegistry;
  readonly #offsets: ConsumerOffsets;
  readonly #selector: QueueSelector;
  readonly #timers: TimerService;
  readonly #transactions: TransactionService;
  readonly #engine: ConsumeEngine;
  readonly #limits: SendLimits;
  readonly #maxReceiveBatchSize: number;
  readonly #logger: BrokerCoreLogger;
  readonly #unsubscribeReset: () => void;
  /** Async calls under way (sends, queries, DLQ moves): `close()` lets them finish. */
  readonly #inFlight = new Set<Promise<unknown>>();
  #checkBack: TransactionCheckBack | undefined;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;

  private constructor(parts: Parts, hooks: Hooks) {
    this.dataDir = parts.dataDir;
    this.epoch = parts.epoch;
    this.#clock = parts.clock;
    this.#store = parts.store;
    this.#topics = parts.topics;
    this.#groups = parts.groups;
    this.#offsets = parts.offsets;
    this.#selector = parts.selector;
    this.#timers = parts.timers;
    this.#transactions = parts.transactions;
    this.#engine = parts.engine;
    this.#limits = parts.limits;
    this.#maxReceiveBatchSize = parts.maxReceiveBatchSize;
    this.#logger = parts.logger;
    this.#checkBack = parts.checkBack;
    hooks.topicDeleted = (topic) => this.#topicDeleted(topic);
    hooks.groupDeleted = (group) => this.#groupDeleted(group);
    hooks.checkBack = (check) => this.#checkBack?.(check) === true;
    this.#unsubscribeReset = this.#offsets.onReset((group, topic, queueId, offset) =>
      this.#engine.resetOffset(group, topic, queueId, offset),
    );
  }

  /**
   * Opens (or creates) a broker in `options.dataDir`: loads topics, groups and offsets, recovers the
   * store, then the timers (overdue ones fire) and the transactions (pending halves resume their
   * check-backs).
   * @throws CorruptJsonFileError for an unreadable config file; the store's errors (StoreLockedError
   *   when another broker has the directory); RangeError for bad options
   */
  static async open(options: BrokerCoreOptions): Promise<BrokerCore> {
    if (typeof options?.dataDir !== 'string' || options.dataDir === '') {
      throw new RangeError('BrokerCore needs a dataDir');
    }
    const secret = options.receiptHandleSecret;
    if (
      secret !== undefined &&
      (!Buffer.isBuffer(secret) || secret.length < RECEIPT_HANDLE_MIN_SECRET_BYTES)
    ) {
      throw new RangeError(
        `receiptHandleSecret must be a Buffer of at least ${RECEIPT_HANDLE_MIN_SECRET_BYTES} bytes`,
      );
    }
    const maxBodySize = options.maxBodySize ?? DEFAULT_MAX_BODY_SIZE;
    if (!Number.isInteger(maxBodySize) || maxBodySize < 1 || maxBodySize > MAX_BODY_SIZE) {
      throw new RangeError(`maxBodySize must be an integer in 1..${MAX_BODY_SIZE}`);
    }
    const maxReceiveBatchSize = checkMaxReceiveBatchSize(options.maxReceiveBatchSize ?? RECEIVE_BATCH_MAX);
    const clock = options.clock ?? systemClock;
    const logger = options.logger;
    const stateLogger: StateFileLogger | undefined = logger;
    const dirs = {
      store: join(options.dataDir, 'store'),
      config: join(options.dataDir, 'config'),
      timer: join(options.dataDir, 'timer'),
      transaction: join(options.dataDir, 'transaction'),
    };
    for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true });

    const hooks: Hooks = {};
    // Config first: an unreadable file fails the open before the store is recovered.
    const topics = new TopicRegistry({
      configDir: dirs.config,
      clock,
      autoCreateTopics: options.autoCreateTopics ?? true,
      ...(options.defaultQueueCount === undefined ? {} : { defaultQueueCount: options.defaultQueueCount }),
      onDelete: (topic) => hooks.topicDeleted?.(topic),
      ...(stateLogger ? { logger: stateLogger } : {}),
    });
    const groups = new GroupRegistry({
      configDir: dirs.config,
      clock,
      autoCreateGroups: options.autoCreateGroups ?? true,
      ...(options.groupDefaults === undefined ? {} : { defaults: options.groupDefaults }),
      onDelete: (group) => hooks.groupDeleted?.(group),
      ...(stateLogger ? { logger: stateLogger } : {}),
    });
    const offsets = new ConsumerOffsets({
      configDir: dirs.config,
      clock,
      ...(stateLogger ? { logger: stateLogger } : {}),
    });

    const store = await MessageStore.open({
      ...options.store,
      dataDir: dirs.store,
      ...(options.flushMode === undefined ? {} : { flushMode: options.flushMode }),
      ...(options.segmentSize === undefined ? {} : { segmentSize: options.segmentSize }),
      ...(options.preallocate === undefined ? {} : { preallocate: options.preallocate }),
      ...(logger ? { logger } : {}),
    });
    let timers: TimerService | undefined;
    let transactions: TransactionService | undefined;
    try {
      // After the store: it holds the directory lock, so two brokers never race on the epoch.
      const epoch = nextBrokerEpoch(dirs.config, stateLogger);
      const codec = new ReceiptHandleCodec(secret ?? ReceiptHandleCodec.generateSecret(), epoch);
      const maxDelayMs = options.maxDelayMs ?? MAX_DELAY_MS;
      timers = await TimerService.open({
        store,
        clock,
        stateDir: dirs.timer,
        maxDelayMs,
        ...(logger ? { logger } : {}),
      });
      transactions = await TransactionService.open({
        ...options.transaction,
        store,
        clock,
        stateDir: dirs.transaction,
        checkBack: (check) => hooks.checkBack?.(check) === true,
        ...(logger ? { logger } : {}),
      });
      const engine = new ConsumeEngine({
        store,
        codec,
        offsets,
        retryScheduler: timerRetryScheduler(timers, clock),
        policyOf: enginePolicyOf(groups),
        queueCount: registryQueueCount(topics, store),
        clock,
        limits: { ...options.consumeLimits, maxReceiveBatchSize },
        ...(logger ? { logger } : {}),
        progressPath: join(dirs.config, FINISHED_ABOVE_FILE),
      });
      return new BrokerCore(
        {
          dataDir: options.dataDir,
          epoch,
          clock,
          store,
          topics,
          groups,
          offsets,
          selector: new QueueSelector(),
          timers,
          transactions,
          engine,
          limits: Object.freeze({ maxDelayMs, maxBodySize }),
          maxReceiveBatchSize,
          logger: logger ?? consoleLogger,
          checkBack: options.transactionCheckBack,
        },
        hooks,
      );
    } catch (err) {
      await transactions?.close().catch(() => undefined);
      await timers?.close().catch(() => undefined);
      await store.close().catch(() => undefined);
      throw err;
    }
  }

  /** What producers must respect (advertised in Settings: `max_body_size`). */
  get limits(): SendLimits {
    return this.#limits;
  }

  /** Most messages one receive returns (advertised in Settings: `receive_batch_size`). */
  get maxReceiveBatchSize(): number {
    return this.#maxReceiveBatchSize;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#state !== 'open';
  }

  // ------------------------------------------------------------------------------------- send

  /**
   * SendMessage: stores one request's messages, all for one topic. Validation is all-or-nothing
   * (RocketMQ's proxy): any invalid message rejects the call with its status code and nothing is
   * stored. Then each message is routed by type and gets its own result, in order: `ok: false` with a
   * status code for a message that could not be stored (the NORMAL/FIFO ones of a request share one
   * store batch).
   * @throws MessageCorruptedError (no messages, several topics), IllegalTopicError, TopicNotFoundError,
   *   MessageTypeConflictError and every field error of validation.ts
   */
  send(messages: readonly SendRequest[]): Promise<SendResult[]> {
    return this.#run(async () => {
      const now = this.#clock.now();
      const { topic: name, messages: checked } = checkSendRequests(messages, now, this.#limits);
      const topic = this.#topics.getOrCreate(name);
      checkTopicAccepts(topic, checked);
      return routeSends(
        {
          store: this.#store,
          timers: this.#timers,
          transactions: this.#transactions,
          selector: this.#selector,
          logError: (m) => this.#logger.error(m),
        },
        topic,
        checked,
      );
    });
  }

  // ------------------------------------------------------------------------------------- transactions

  /**
   * EndTransaction: commits or rolls back a half message. Idempotent for the same resolution.
   * @throws InvalidTransactionIdError (blank, unknown, finished the other way, another message's id)
   */
  endTransaction(
    transactionId: string,
    messageId: string,
    resolution: TransactionResolution,
    source: TransactionSource,
  ): Promise<void> {
    return this.#run(() => this.#transactions.end(transactionId, messageId, resolution, source));
  }

  /** Installs (or removes) the way check-backs reach producers, e.g. once the gRPC layer is up. */
  setTransactionCheckBack(checkBack: TransactionCheckBack | undefined): void {
    this.#checkBack = checkBack;
  }

  // ------------------------------------------------------------------------------------- consume

  /**
   * ReceiveMessage without waiting: up to `batchSize` visible messages of `topic` (and of the
   * group's retry topic), each leased for `invisibleMs`. Creates the group and topic on first use
   * when auto-creation is on.
   * @throws IllegalConsumerGroupError, IllegalTopicError, IllegalFilterExpressionError,
   *   IllegalInvisibleTimeError, BadRequestError (batch size), ConsumerGroupNotFoundError,
   *   TopicNotFoundError
   */
  receive(request: ReceiveOptions): ReceivedMessage[] {
    this.#assertOpen();
    if (typeof request !== 'object' || request === null) throw new BadRequestError('no receive request');
    const { group, topic } = request;
    validateConsumerGroup(group);
    validateTopicName(topic, { allowRetryDlq: true });
    const filter = compileFilter(request.filter ?? ALL);
    validateInvisibleDuration(request.invisibleMs);
    const batchSize = validateReceiveBatchSize(request.batchSize, this.#maxReceiveBatchSize);
    // Refused requests create nothing: the group is checked before the topic may be auto-created.
    if (!this.#groups.autoCreateGroups && !this.#groups.has(group))
      throw new ConsumerGroupNotFoundError(group);
    this.#topics.getOrCreate(topic);
    this.#groups.getOrCreate(group);
    this.#ensureRetryAndDlq(group, topic);
    return this.#engine.receive({
      group,
      topic,
      filter,
      batchSize,
      invisibleMs: request.invisibleMs,
      ...(request.clientId === undefined ? {} : { clientId: request.clientId }),
      ...(request.attemptId === undefined ? {} : { attemptId: request.attemptId }),
      ...(request.retryAfter === undefined ? {} : { retryAfter: request.retryAfter }),
    });
  }

  /**
   * ReceiveMessage with long polling: receives, and while nothing is visible waits (up to `pollMs`
   * on the clock, or until `signal` aborts) for something to arrive, then receives again.
   */
  async receiveOrWait(
    request: ReceiveOptions,
    pollMs: number,
    signal?: AbortSignal,
  ): Promise<ReceivedMessage[]> {
    const deadline = this.#clock.now() + (Number.isFinite(pollMs) && pollMs > 0 ? pollMs : 0);
    for (;;) {
      const got = this.receive(request);
      const left = deadline - this.#clock.now();
      if (got.length > 0 || left <= 0 || signal?.aborted) return got;
      const reason = await this.#engine.waitForMessages(request.group, request.topic, left, signal);
      if (reason === 'closed' || reason === 'aborted' || this.closed) return [];
    }
  }

  /**
   * Resolves when something may have become visible for `group` on `topic`, after `timeoutMs`, or
   * on abort or close. Call right after an empty `receive`, then receive again.
   */
  waitForMessages(
    group: string,
    topic: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WakeReason> {
    if (this.#state !== 'open') return Promise.resolve('closed');
    try {
      validateConsumerGroup(group);
      validateTopicName(topic, { allowRetryDlq: true });
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return this.#engine.waitForMessages(group, topic, timeoutMs, signal);
  }

  /**
   * AckMessage of one handle.
   * @throws IllegalConsumerGroupError; InvalidReceiptHandleError (forged, foreign, stale, acked)
   */
  ack(group: string, receiptHandle: string): void {
    this.#assertOpen();
    validateConsumerGroup(group);
    this.#engine.ack(group, receiptHandle);
  }

  /** AckMessage with several entries: one result (status code) per entry, in order. */
  ackMany(group: string, entries: readonly AckEntry[]): AckEntryResult[] {
    this.#assertOpen();
    validateConsumerGroup(group);
    if (!Array.isArray(entries)) throw new BadRequestError('ack entries must be a list');
    return this.#engine.ackMany(group, entries);
  }

  /**
   * ChangeInvisibleDuration: a new lease and handle; 0 is a nack (retry after the group's backoff).
   * @throws IllegalInvisibleTimeError (outside 0..12 h), InvalidReceiptHandleError
   */
  changeInvisibleDuration(group: string, receiptHandle: string, invisibleMs: number): ChangeInvisibleResult {
    this.#assertOpen();
    validateConsumerGroup(group);
    return this.#engine.changeInvisibleDuration(group, receiptHandle, invisibleMs);
  }

  /** Extends a lease keeping its handle (auto-renewal of a Push consumer). Returns the new end. */
  renewLease(group: string, receiptHandle: string, invisibleMs: number): number {
    this.#assertOpen();
    validateConsumerGroup(group);
    return this.#engine.renewLease(group, receiptHandle, invisibleMs);
  }

  /** Hands a lease back without counting an attempt (a receive the client never got). */
  release(group: string, receiptHandle: string): boolean {
    this.#assertOpen();
    validateConsumerGroup(group);
    return this.#engine.release(group, receiptHandle);
  }

  /** Releases every lease of a client that went away (NotifyClientTermination). */
  releaseClient(clientId: string): number {
    this.#assertOpen();
    return this.#engine.releaseClient(clientId);
  }

  /** ForwardMessageToDeadLetterQueue: copies the message to `%DLQ%<group>` and finishes it. */
  forwardToDeadLetter(group: string, receiptHandle: string, reason?: string): Promise<void> {
    return this.#run(() => {
      validateConsumerGroup(group);
      this.#ensureDlq(group);
      return this.#engine.forwardToDeadLetter(group, receiptHandle, reason);
    });
  }

  // ------------------------------------------------------------------------------------- topics

  /**
   * A topic for the send/receive/route path: created on first use when auto-creation is on.
   * @throws IllegalTopicError, TopicNotFoundError
   */
  resolveTopic(name: string): TopicConfig {
    this.#assertOpen();
    return this.#topics.getOrCreate(name);
  }

  /** @throws IllegalTopicError, BadRequestError (bad options, exists) */
  createTopic(name: string, options?: TopicOptions): TopicConfig {
    this.#assertOpen();
    return this.#topics.create(name, options);
  }

  /** Grows the queue count and/or changes the accepted types. @throws IllegalTopicError, TopicNotFoundError, BadRequestError */
  updateTopic(name: string, options: TopicOptions): TopicConfig {
    this.#assertOpen();
    return this.#topics.update(name, options);
  }

  /**
   * Deletes a user, retry or DLQ topic with its queues and every group's offsets in it, and the
   * groups' `%RETRY%<group>_<topic>` topics for it; leases in them go stale. False if it did not
   * exist. Its records age out of the commit log with retention.
   */
  deleteTopic(name: string): boolean {
    this.#assertOpen();
    return this.#topics.delete(name);
  }

  getTopic(name: string): TopicConfig | undefined {
    return this.#topics.get(name);
  }

  /** Topics by name: user topics and (by default) retry and DLQ topics; never broker-internal ones. */
  listTopics(options: ListTopicsOptions = {}): TopicConfig[] {
    const withRetry = options.includeRetryAndDlq ?? true;
    return this.#topics.list().filter((t) => {
      if (t.kind === 'system') return options.includeSystem === true;
      if (t.kind === 'retry' || t.kind === 'dlq') return withRetry;
      return true;
    });
  }

  // ------------------------------------------------------------------------------------- groups

  /**
   * A group for the receive path: created on first use when auto-creation is on.
   * @throws IllegalConsumerGroupError, ConsumerGroupNotFoundError
   */
  resolveGroup(name: string): GroupConfig {
    this.#assertOpen();
    return this.#groups.getOrCreate(name);
  }

  /** @throws IllegalConsumerGroupError, BadRequestError (bad options, exists) */
  createGroup(name: string, options?: GroupOptions): GroupConfig {
    this.#assertOpen();
    return this.#groups.create(name, options);
  }

  /** Changes the given policy fields; receives see them at once. */
  updateGroup(name: string, options: GroupOptions): GroupConfig {
    this.#assertOpen();
    return this.#groups.update(name, options);
  }

  /**
   * Deletes a group, its committed offsets, and its retry and DLQ topics (as `mqadmin deleteSubGroup`
   * does), so that a re-created group starts clean. False if it did not exist.
   */
  deleteGroup(name: string): boolean {
    this.#assertOpen();
    return this.#groups.delete(name);
  }

  getGroup(name: string): GroupConfig | undefined {
    return this.#groups.get(name);
  }

  listGroups(): GroupConfig[] {
    return this.#groups.list();
  }

  // ------------------------------------------------------------------------------------- backlog

  /**
   * Lag of `group` per queue of `topic` (in-flight messages count as lag, as in RocketMQ's stats).
   * @throws IllegalConsumerGroupError, IllegalTopicError, ConsumerGroupNotFoundError, TopicNotFoundError
   */
  lag(group: string, topic: string): TopicLag {
    const config = this.#existing(group, topic);
    return computeLag(this.#store, this.#offsets, group, topic, { queueCount: config.queueCount });
  }

  /**
   * Moves `group`'s offsets in every queue of `topic` to the first message stored at or after
   * `timestamp` (store time, ms since the epoch), durably; messages leased in those queues are
   * dropped (their handles go stale). Returns the new offsets.
   * @throws as `lag`, and BadRequestError for a timestamp that is not a number
   */
  resetOffsets(group: string, topic: string, timestamp: number): { queueId: number; offset: number }[] {
    this.#assertOpen();
    const config = this.#existing(group, topic);
    return resetOffsetsToTimestamp(this.#store, this.#offsets, group, topic, timestamp, {
      queueCount: config.queueCount,
    });
  }

  /**
   * Stored messages with this id, oldest first: the message itself and its retry and DLQ copies,
   * only in `topic` if given. Parked timer records and half messages are not messages a consumer
   * can see and are left out (a delayed message shows once it fired, a transactional one once
   * committed).
   * @throws IllegalMessageIdError, IllegalTopicError
   */
  queryMessageById(topic: string | undefined, messageId: string): Promise<StoredMessage[]> {
    return this.#run(async () => {
      validateMessageId(messageId);
      if (topic !== undefined) validateTopicName(topic, { allowRetryDlq: true });
      const found = await this.#store.queryByMessageId(messageId, QUERY_MAX_RESULTS);
      return found
        .filter((m) => !isSystemTopic(m.topic) && (topic === undefined || m.topic === topic))
        .sort((a, b) => a.physicalOffset - b.physicalOffset);
    });
  }

  /**
   * Messages of `topic` carrying business key `key`, newest first.
   * @throws IllegalTopicError, IllegalMessageKeyError
   */
  queryMessagesByKey(topic: string, key: string, maxResults = QUERY_MAX_RESULTS): Promise<StoredMessage[]> {
    return this.#run(async () => {
      validateTopicName(topic, { allowRetryDlq: true });
      validateKeys([key]);
      const limit =
        Number.isInteger(maxResults) && maxResults > 0
          ? Math.min(maxResults, QUERY_MAX_RESULTS)
          : QUERY_MAX_RESULTS;
      return this.#store.queryByKey(topic, key, limit);
    });
  }

  /**
   * Reads a page of a queue without consuming anything (admin: list dead letters, inspect a topic):
   * up to `maxCount` (1..BROWSE_MAX_COUNT) messages from `fromOffset`; an offset below the retained
   * minimum starts at it; an unknown queue is an empty page. Broker-internal topics are refused.
   * @throws IllegalTopicError (bad or system name), BadRequestError (queue id, offset or count)
   */
  browseQueue(topic: string, queueId: number, fromOffset: number, maxCount: number): QueuePage {
    this.#assertOpen();
    validateTopicName(topic, { allowRetryDlq: true });
    if (!Number.isSafeInteger(queueId) || queueId < 0) throw new BadRequestError(`queue id ${queueId}`);
    if (!Number.isSafeInteger(fromOffset) || fromOffset < 0) {
      throw new BadRequestError(`offset ${fromOffset} is not a non-negative integer`);
    }
    if (!Number.isInteger(maxCount) || maxCount < 1 || maxCount > BROWSE_MAX_COUNT) {
      throw new BadRequestError(`count must be an integer in 1..${BROWSE_MAX_COUNT}`);
    }
    const result = this.#store.getMessages(topic, queueId, fromOffset, maxCount);
    return {
      messages: result.messages,
      nextOffset: result.nextOffset,
      minOffset: result.minOffset,
      maxOffset: result.maxOffset,
    };
  }

  /**
   * Sends dead letters of `group` (all, or the given ids) back to their original topic as fresh
   * messages with their ids; they stay in the DLQ too. Returns how many were resent.
   */
  resendFromDeadLetter(group: string, messageIds?: readonly string[]): Promise<number> {
    return this.#run(() => {
      validateConsumerGroup(group);
      if (messageIds !== undefined && !Array.isArray(messageIds)) {
        throw new BadRequestError('message ids must be a list');
      }
      return this.#engine.resendFromDeadLetter(group, messageIds);
    });
  }

  /** Timers not yet delivered (delayed messages and retries in backoff), an upper bound. */
  get pendingTimers(): number {
    return this.#timers.pending;
  }

  /** Half messages neither committed nor rolled back. */
  get pendingTransactions(): number {
    return this.#transactions.pendingCount;
  }

  /** Messages of `group` leased, in FIFO backoff or being moved now. */
  inFlightCount(group: string, topic?: string): number {
    return this.#engine.inFlightCount(group, topic);
  }

  // ------------------------------------------------------------------------------------- lifecycle

  /**
   * Stops accepting calls, lets those under way finish, then closes the parts so that each one's
   * last writes still reach an open store: the consume engine (its retry and DLQ moves go through
   * the timer and the store), the transactions, the timers, the offsets (flushed), the store.
   * Leases are forgotten: un-acked messages are delivered again after the next open.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = 'closing';
    while (this.#inFlight.size > 0) await Promise.allSettled([...this.#inFlight]);
    const errors: unknown[] = [];
    const step = async (what: string, fn: () => unknown): Promise<void> => {
      try {
        await fn();
      } catch (err) {
        this.#logger.error(`closing the ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
        errors.push(err);
      }
    };
    await step('consume engine', () => this.#engine.close());
    await step('transaction service', () => this.#transactions.close());
    await step('timer service', () => this.#timers.close());
    this.#unsubscribeReset();
    await step('consumer offsets', () => this.#offsets.close());
    await step('store', () => this.#store.close());
    this.#state = 'closed';
    if (errors.length > 0) throw errors[0];
  }

  // ------------------------------------------------------------------------------------- internals

  #assertOpen(): void {
    if (this.#state !== 'open') throw new BrokerCoreClosedError();
  }

  /** Runs an async call, counted for `close()`; a synchronous throw becomes a rejection. */
  #run<T>(fn: () => Promise<T>): Promise<T> {
    let promise: Promise<T>;
    try {
      this.#assertOpen();
      promise = fn();
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.#inFlight.add(settled);
    void settled.then(() => this.#inFlight.delete(settled));
    return promise;
  }

  /**
   * The group's retry topic for `topic` (`%RETRY%<group>_<topic>`) and its `%DLQ%<group>`, registered
   * the first time the group consumes the topic (RocketMQ creates them on demand too), so that they
   * are listed and can be consumed, inspected and deleted.
   */
  #ensureRetryAndDlq(group: string, topic: string): void {
    if (!this.#topics.has(retryTopicOf(group, topic))) this.#topics.ensureRetryTopic(group, topic);
    this.#ensureDlq(group);
  }

  #ensureDlq(group: string): void {
    if (!this.#topics.has(dlqTopicOf(group))) this.#topics.ensureDlqTopic(group);
  }

  /** A group and topic that must both exist (admin calls never create them). */
  #existing(group: string, topic: string): TopicConfig {
    validateConsumerGroup(group);
    validateTopicName(topic, { allowRetryDlq: true });
    const config = this.#topics.get(topic);
    if (!config) throw new TopicNotFoundError(topic);
    if (!this.#groups.has(group)) throw new ConsumerGroupNotFoundError(group);
    return config;
  }

  #groupDeleted(group: string): void {
    // Engine first: its late callbacks then find nothing to commit.
    this.#engine.forgetGroup(group);
    this.#offsets.deleteGroup(group);
    const own = this.#topics
      .list()
      .filter((t) => t.kind === 'user')
      .map((t) => retryTopicOf(group, t.name))
      .concat(dlqTopicOf(group))
      .filter((name) => this.#topics.has(name));
    for (const name of own) {
      try {
        this.#topics.delete(name);
      } catch (err) {
        this.#logger.error(
          `deleting ${name} with group ${group} failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }

  /**
   * A deleted topic's queues are gone and restart at offset 0 if it is created again. The engine
   * forgets what it read there (its read position past the old end would skip every message of the
   * new topic until the next restart; its leases go stale), and the retry topics of the groups that
   * consumed it go too (RocketMQ's `clearRetryTopicWhenDeleteTopic`), so that old retries are not
   * delivered as messages of the new topic.
   */
  #topicDeleted(topic: string): void {
    const retries = this.#offsets
      .groupsOf(topic)
      .map((group) => retryTopicOf(group, topic))
      .filter((retry) => retry !== topic);
    this.#engine.forgetTopic(topic);
    this.#store.deleteTopic(topic);
    this.#offsets.deleteTopic(topic);
    this.#selector.forget(topic);
    for (const retry of retries) {
      try {
        // Re-enters this hook for the retry topic; the registry already holds the outer deletion.
        this.#topics.delete(retry);
      } catch (err) {
        this.#logger.error(
          `deleting ${retry} with ${topic} failed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
    }
  }
}

const ALL: FilterExpression = { type: 'TAG', expression: SUBSCRIBE_ALL };

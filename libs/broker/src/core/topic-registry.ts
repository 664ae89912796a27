/**
 * The topics the broker knows, with their queue count and accepted message types, persisted in
 * `<configDir>/topics.json` (RocketMQ's `TopicConfigManager` / `topics.json`). Every change is written
 * before it becomes visible, so a topic that was created (or grown) survives a crash.
 *
 * Decisions:
 * - Queue count: 1..1024 (MAX_QUEUE_COUNT, Rocketnest's bound; each queue is a consume-queue
 *   directory). It may grow at any time. It may NOT shrink (BAD_REQUEST): RocketMQ lets the write
 *   queue count drop while consumers keep reading the removed queues, but a registry with one count
 *   would strand the messages left in them. Delete and re-create the topic instead.
 * - `create` of an existing topic is BAD_REQUEST (use `update`); `update` of a missing one is
 *   TOPIC_NOT_FOUND; `delete` of a missing one returns false (deleting is idempotent).
 * - User operations follow RocketMQ's name rules (`validateTopicName`): system topics (TBW102,
 *   RMQ_SYS_*, rmq_sys_*, …) and `%RETRY%`/`%DLQ%` topics cannot be created or updated by users. The
 *   broker makes those through `ensureSystemTopic` / `ensureRetryTopic` / `ensureDlqTopic`, which only
 *   check the character set and length.
 * - `getOrCreate` is the send/receive path: an unknown user topic is created with the defaults (8
 *   queues, all message types = RocketMQ's MIXED) when `autoCreateTopics` is on (the default), else it
 *   is TOPIC_NOT_FOUND. An unknown `%RETRY%<group>_<topic>` or `%DLQ%<group>` topic is always created, with one
 *   queue, as RocketMQ creates them on demand (`createTopicInSendMessageBackMethod`): a consumer may
 *   subscribe to a DLQ before anything dead-lettered. Asking for a system topic is ILLEGAL_TOPIC.
 */
import { join } from 'node:path';
import { systemClock, type Clock } from './clock.js';
import { BadRequestError, TopicNotFoundError, quote } from './errors.js';
import { type StateFileLogger } from './json-file.js';
import { DEFAULT_QUEUE_COUNT, DLQ_TOPIC_PREFIX, RETRY_TOPIC_PREFIX } from './limits.js';
import { PersistentRegistry } from './persistent-registry.js';
import {
  ALL_MESSAGE_TYPES,
  isSystemTopic,
  validateTopicName,
  type MessageType,
  type TopicNameOptions,
} from './validation.js';

export const TOPICS_FILE = 'topics.json';
const FILE_VERSION = 1;

/** Rocketnest's bound on a topic's queue count. */
export const MAX_QUEUE_COUNT = 1024;

/** Queues of a `%RETRY%<group>_<topic>` or `%DLQ%<group>` topic (RocketMQ: `retryQueueNums` = 1, DLQ 1). */
export const RETRY_DLQ_QUEUE_COUNT = 1;

/** What a topic is for: the name alone decides (`user` topics are everything not reserved). */
export type TopicKind = 'user' | 'retry' | 'dlq' | 'system';

export interface TopicConfig {
  readonly name: string;
  readonly kind: TopicKind;
  /** Queues 0..queueCount−1. */
  readonly queueCount: number;
  /** What a producer may send to it; all four = RocketMQ's MIXED. */
  readonly messageTypes: ReadonlySet<MessageType>;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

export interface TopicOptions {
  /** Default 8 (`BrokerConfig.defaultTopicQueueNums`). */
  readonly queueCount?: number;
  /** Default all (MIXED). Must not be empty. */
  readonly messageTypes?: Iterable<MessageType>;
}

export interface TopicRegistryOptions {
  /** Where `topics.json` lives. */
  readonly configDir: string;
  /** Timestamps of new topics. Default: the system clock. */
  readonly clock?: Clock;
  /** Create unknown user topics on first use (`getOrCreate`). Default true. */
  readonly autoCreateTopics?: boolean;
  /** Queue count of auto-created and option-less topics. Default 8. */
  readonly defaultQueueCount?: number;
  /** Called after a topic was deleted and the deletion persisted (the broker drops its queues). */
  readonly onDelete?: (topic: string) => void;
  /** More names to treat as system topics (e.g. the broker's cluster name). */
  readonly extraSystemTopics?: ReadonlySet<string>;
  /** Told when `topics.json` was unusable and its backup was loaded. Default: console. */
  readonly logger?: StateFileLogger;
}

export function topicKind(name: string, extraSystemTopics?: ReadonlySet<string>): TopicKind {
  if (name.startsWith(RETRY_TOPIC_PREFIX)) return 'retry';
  if (name.startsWith(DLQ_TOPIC_PREFIX)) return 'dlq';
  return isSystemTopic(name, extraSystemTopics) ? 'system' : 'user';
}

/** `KeyBuilder.POP_RETRY_SEPARATOR_V1`. */
const POP_RETRY_SEPARATOR = '_';

/**
 * The retry topic of `group` for `topic`: `%RETRY%<group>_<topic>`, RocketMQ 5's pop retry topic
 * (`KeyBuilder.buildPopRetryTopicV1`; V2's `+` separator is not a legal name character here). One per
 * (group, topic), so that retries of a topic the group no longer receives never sit in front of
 * another topic's. A group ≤ 120 characters and a topic ≤ 127 give at most 255, the retry/DLQ limit.
 * A retry topic consumed directly retries into itself, as RocketMQ's revive does.
 */
export function retryTopicOf(group: string, topic: string): string {
  if (topic.startsWith(RETRY_TOPIC_PREFIX)) return topic;
  return `${RETRY_TOPIC_PREFIX}${group}${POP_RETRY_SEPARATOR}${topic}`;
}

/** `%DLQ%<group>`. */
export function dlqTopicOf(group: string): string {
  return DLQ_TOPIC_PREFIX + group;
}

/** @throws BadRequestError unless `n` is an integer in 1..MAX_QUEUE_COUNT. */
function checkQueueCount(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_QUEUE_COUNT) {
    throw new BadRequestError(`queue count ${String(n)} is not an integer in 1..${MAX_QUEUE_COUNT}`);
  }
  return n;
}

/** @throws BadRequestError unless every entry is a known message type and there is at least one. */
function checkMessageTypes(types: unknown): ReadonlySet<MessageType> {
  if (typeof types !== 'object' || types === null || !(Symbol.iterator in types)) {
    throw new BadRequestError('message types must be a list');
  }
  const set = new Set<MessageType>();
  for (const type of types as Iterable<unknown>) {
    if (typeof type !== 'string' || !ALL_MESSAGE_TYPES.has(type as MessageType)) {
      throw new BadRequestError(
        `unknown message type ${typeof type === 'string' ? quote(type) : String(type)}, ` +
          `expected ${[...ALL_MESSAGE_TYPES].join(', ')}`,
      );
    }
    set.add(type as MessageType);
  }
  if (set.size === 0) throw new BadRequestError('a topic must accept at least one message type');
  return set;
}

function checkOptions(options: unknown): TopicOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new BadRequestError('topic options must be an object');
  }
  return options as TopicOptions;
}

function freeze(config: TopicConfig): TopicConfig {
  return Object.freeze({ ...config, messageTypes: new Set(config.messageTypes) });
}

export class TopicRegistry {
  readonly path: string;
  readonly #clock: Clock;
  readonly #autoCreate: boolean;
  readonly #defaultQueueCount: number;
  readonly #nameOptions: TopicNameOptions;
  readonly #topics: PersistentRegistry<TopicConfig>;

  /**
   * Loads `topics.json` (a missing file is an empty registry).
   * @throws CorruptJsonFileError when the file and its backup are unusable.
   */
  constructor(options: TopicRegistryOptions) {
    this.path = join(options.configDir, TOPICS_FILE);
    this.#clock = options.clock ?? systemClock;
    this.#autoCreate = options.autoCreateTopics ?? true;
    this.#defaultQueueCount = checkQueueCount(options.defaultQueueCount ?? DEFAULT_QUEUE_COUNT);
    this.#nameOptions = { extraSystemTopics: options.extraSystemTopics };
    const { extraSystemTopics } = this.#nameOptions;
    this.#topics = new PersistentRegistry<TopicConfig>({
      path: this.path,
      version: FILE_VERSION,
      listKey: 'topics',
      noun: 'topic',
      checkName: (name) => validateTopicName(name, { allowSystem: true, allowRetryDlq: true }),
      fromJson: (t, name, createdAt) =>
        freeze({
          name,
          kind: topicKind(name, extraSystemTopics),
          queueCount: checkQueueCount(t.queueCount),
          messageTypes: checkMessageTypes(t.messageTypes),
          createdAt,
        }),
      toJson: (t) => ({
        name: t.name,
        queueCount: t.queueCount,
        messageTypes: [...t.messageTypes],
        createdAt: t.createdAt,
      }),
      onDelete: options.onDelete,
      logger: options.logger,
    });
  }

  get autoCreateTopics(): boolean {
    return this.#autoCreate;
  }

  get(name: string): TopicConfig | undefined {
    return this.#topics.get(name);
  }

  has(name: string): boolean {
    return this.#topics.has(name);
  }

  /** Every topic, by name. */
  list(): TopicConfig[] {
    return this.#topics.list();
  }

  /**
   * Creates a user topic.
   * @throws IllegalTopicError (ILLEGAL_TOPIC) for a bad or reserved name
   * @throws BadRequestError (BAD_REQUEST) for bad options or an existing topic
   */
  create(name: string, options?: TopicOptions): TopicConfig {
    validateTopicName(name, this.#nameOptions);
    const opts = checkOptions(options);
    if (this.#topics.has(name)) throw new BadRequestError(`topic ${quote(name)} already exists`);
    return this.#put({
      name,
      kind: 'user',
      queueCount: checkQueueCount(opts.queueCount ?? this.#defaultQueueCount),
      messageTypes:
        opts.messageTypes === undefined ? ALL_MESSAGE_TYPES : checkMessageTypes(opts.messageTypes),
      createdAt: this.#clock.now(),
    });
  }

  /**
   * Changes a user topic's queue count (grow only) and/or message types.
   * @throws IllegalTopicError (ILLEGAL_TOPIC) for a bad or reserved name
   * @throws TopicNotFoundError (TOPIC_NOT_FOUND)
   * @throws BadRequestError (BAD_REQUEST) for bad options or a smaller queue count
   */
  update(name: string, options: TopicOptions): TopicConfig {
    validateTopicName(name, this.#nameOptions);
    const opts = checkOptions(options);
    const current = this.#topics.get(name);
    if (!current) throw new TopicNotFoundError(name);
    const queueCount = opts.queueCount === undefined ? current.queueCount : checkQueueCount(opts.queueCount);
    if (queueCount < current.queueCount) {
      throw new BadRequestError(
        `topic ${quote(name)} has ${current.queueCount} queues; a queue count cannot shrink (to ${queueCount})`,
      );
    }
    const messageTypes =
      opts.messageTypes === undefined ? current.messageTypes : checkMessageTypes(opts.messageTypes);
    return this.#put({ ...current, queueCount, messageTypes });
  }

  /**
   * Deletes a user, retry or DLQ topic, then calls `onDelete`. Returns false if it did not exist.
   * @throws IllegalTopicError (ILLEGAL_TOPIC) for a bad name or a system topic
   */
  delete(name: string): boolean {
    validateTopicName(name, { ...this.#nameOptions, allowRetryDlq: true });
    return this.#topics.delete(name);
  }

  /**
   * The send/receive path: the topic, created on first use as described at the top of this file.
   * @throws IllegalTopicError (ILLEGAL_TOPIC) for a bad name or a system topic
   * @throws TopicNotFoundError (TOPIC_NOT_FOUND) for an unknown user topic with auto-creation off
   */
  getOrCreate(name: string): TopicConfig {
    const existing = this.#topics.get(name);
    // Names in the registry were validated when created; only system topics need the refusal.
    if (existing && existing.kind !== 'system') return existing;
    validateTopicName(name, { ...this.#nameOptions, allowRetryDlq: true });
    const kind = topicKind(name, this.#nameOptions.extraSystemTopics);
    if (kind === 'retry' || kind === 'dlq') return this.ensureSystemTopic(name, RETRY_DLQ_QUEUE_COUNT);
    if (!this.#autoCreate) throw new TopicNotFoundError(name);
    return this.create(name);
  }

  /**
   * The broker's own path for system, retry and DLQ topics: checks only the name's characters and
   * length. Creates the topic with `queueCount` queues, or grows an existing one to at least that.
   * @throws IllegalTopicError (ILLEGAL_TOPIC) for a malformed name
   * @throws BadRequestError (BAD_REQUEST) for a bad queue count or message types
   */
  ensureSystemTopic(
    name: string,
    queueCount: number = RETRY_DLQ_QUEUE_COUNT,
    messageTypes?: Iterable<MessageType>,
  ): TopicConfig {
    validateTopicName(name, { ...this.#nameOptions, allowSystem: true, allowRetryDlq: true });
    checkQueueCount(queueCount);
    const existing = this.#topics.get(name);
    if (existing && existing.queueCount >= queueCount) return existing;
    if (existing) return this.#put({ ...existing, queueCount });
    return this.#put({
      name,
      kind: topicKind(name, this.#nameOptions.extraSystemTopics),
      queueCount,
      messageTypes: messageTypes === undefined ? ALL_MESSAGE_TYPES : checkMessageTypes(messageTypes),
      createdAt: this.#clock.now(),
    });
  }

  /** `%RETRY%<group>_<topic>` with one queue. */
  ensureRetryTopic(group: string, topic: string): TopicConfig {
    return this.ensureSystemTopic(retryTopicOf(group, topic), RETRY_DLQ_QUEUE_COUNT);
  }

  /** `%DLQ%<group>` with one queue. */
  ensureDlqTopic(group: string): TopicConfig {
    return this.ensureSystemTopic(dlqTopicOf(group), RETRY_DLQ_QUEUE_COUNT);
  }

  /** Persists the registry with `config` in it, then makes it visible. */
  #put(config: TopicConfig): TopicConfig {
    return this.#topics.put(freeze(config));
  }
}

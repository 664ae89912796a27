/**
 * Consumer groups and their delivery policy, persisted in `<configDir>/groups.json` (RocketMQ's
 * `SubscriptionGroupManager` / `subscriptionGroup.json`). Every change is written before it becomes
 * visible.
 *
 * Decisions:
 * - `maxDeliveryAttempts`: integer 1..1000, default 17 (first delivery + RocketMQ's 16 retries).
 * - `retryBackoffMs`: 1..64 integer steps, each 1 ms..12 h, default RocketMQ's 10s 30s 1m … 1h 2h. The
 *   12 h bound is RocketMQ 5's own: a pop consumer's retry is a change of invisibility
 *   (`maxInvisibleTimeMills`). The last step repeats for later attempts.
 * - `consumeFrom`, where a group starts in a queue it has never committed an offset for: default
 *   `first`. RocketMQ 5 pop consumers (the proxy passes `ConsumeInitMode.MAX`) start a new group at
 *   offset 0 when the queue still holds its first message in memory
 *   (`PopMessageProcessor.getInitOffset`, `initPopOffsetByCheckMsgInMem` = true), and otherwise at the
 *   newest message (`maxOffset − 1`). On an embedded broker nearly every queue is "young" in that
 *   sense, and PROTOCOL.md §4 fixes "a new group starts at offset 0", so `first` is the default:
 *   nothing already sent is skipped. `last` starts at the queue's max offset when the group first
 *   reads it (only messages sent after that); `timestamp` at the first message stored at or after it.
 *   Retry and DLQ topics always start at `first` (see `startOffset` in lag.ts).
 * - Invalid options are BAD_REQUEST; a bad or system group name is ILLEGAL_CONSUMER_GROUP; an unknown
 *   group with auto-creation off is CONSUMER_GROUP_NOT_FOUND.
 */
import { join } from 'node:path';
import { systemClock, type Clock } from './clock.js';
import { BadRequestError, ConsumerGroupNotFoundError, quote } from './errors.js';
import { type StateFileLogger } from './json-file.js';
import {
  DEFAULT_MAX_DELIVERY_ATTEMPTS,
  GROUP_MAX_LENGTH,
  INVISIBLE_DURATION_MAX_MS,
  RETRY_BACKOFF_MS,
  TOPIC_OR_GROUP_NAME_PATTERN,
} from './limits.js';
import { PersistentRegistry } from './persistent-registry.js';
import { validateConsumerGroup } from './validation.js';

export const GROUPS_FILE = 'groups.json';
const FILE_VERSION = 1;

/** Rocketnest's bound on `maxDeliveryAttempts`. */
export const MAX_DELIVERY_ATTEMPTS_LIMIT = 1000;
/** Most steps in a retry backoff schedule. */
export const MAX_BACKOFF_STEPS = 64;
/** Longest single backoff step: RocketMQ's longest invisibility, 12 h. */
export const MAX_BACKOFF_MS = INVISIBLE_DURATION_MAX_MS;

/** Where a group starts reading a queue it has no committed offset for. */
export type ConsumeFrom =
  | { readonly kind: 'first' }
  | { readonly kind: 'last' }
  | { readonly kind: 'timestamp'; readonly timestamp: number };

export const DEFAULT_CONSUME_FROM: ConsumeFrom = Object.freeze({ kind: 'first' });

export interface GroupConfig {
  readonly name: string;
  /** Deliver each message group of a queue in order, one in flight at a time. */
  readonly fifo: boolean;
  /** Deliveries before a message goes to `%DLQ%<group>` (first try included). */
  readonly maxDeliveryAttempts: number;
  /** Wait before redelivery after failed attempt n (index n−1; the last step repeats). */
  readonly retryBackoffMs: readonly number[];
  readonly consumeFrom: ConsumeFrom;
  /** Milliseconds since the epoch. */
  readonly createdAt: number;
}

/** The settable part of a group's config. */
export type GroupPolicy = Omit<GroupConfig, 'name' | 'createdAt'>;

export interface GroupOptions {
  readonly fifo?: boolean;
  readonly maxDeliveryAttempts?: number;
  readonly retryBackoffMs?: readonly number[];
  readonly consumeFrom?: ConsumeFrom;
}

export interface GroupRegistryOptions {
  /** Where `groups.json` lives. */
  readonly configDir: string;
  /** Timestamps of new groups. Default: the system clock. */
  readonly clock?: Clock;
  /** Create unknown groups on first use (`getOrCreate`). Default true. */
  readonly autoCreateGroups?: boolean;
  /** Policy of auto-created and option-less groups. Default: the RocketMQ defaults above. */
  readonly defaults?: GroupOptions;
  /** Called after a group was deleted and the deletion persisted (the broker drops its offsets). */
  readonly onDelete?: (group: string) => void;
  /** Told when `groups.json` was unusable and its backup was loaded. Default: console. */
  readonly logger?: StateFileLogger;
}

/**
 * The backoff before redelivery after delivery `attempt` (≥ 1) failed: step `attempt − 1`, the last
 * step repeating. `retryBackoffMs(attempt)` of limits.ts for a group's own schedule.
 */
export function backoffFor(group: Pick<GroupConfig, 'retryBackoffMs'>, attempt: number): number {
  const steps = group.retryBackoffMs;
  const index = Number.isFinite(attempt) ? Math.max(0, Math.floor(attempt) - 1) : steps.length - 1;
  return steps[Math.min(index, steps.length - 1)]!;
}

// ---------------------------------------------------------------------------------------------
// Checks (BAD_REQUEST)
// ---------------------------------------------------------------------------------------------

function checkFifo(fifo: unknown): boolean {
  if (typeof fifo !== 'boolean') throw new BadRequestError(`fifo must be true or false, got ${String(fifo)}`);
  return fifo;
}

function checkMaxDeliveryAttempts(n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > MAX_DELIVERY_ATTEMPTS_LIMIT) {
    throw new BadRequestError(
      `max delivery attempts ${String(n)} is not an integer in 1..${MAX_DELIVERY_ATTEMPTS_LIMIT}`,
    );
  }
  return n;
}

function checkBackoff(steps: unknown): readonly number[] {
  if (!Array.isArray(steps)) throw new BadRequestError('retry backoff must be a list of milliseconds');
  if (steps.length === 0 || steps.length > MAX_BACKOFF_STEPS) {
    throw new BadRequestError(`retry backoff must have 1..${MAX_BACKOFF_STEPS} steps, got ${steps.length}`);
  }
  for (const ms of steps as unknown[]) {
    if (typeof ms !== 'number' || !Number.isInteger(ms) || ms < 1 || ms > MAX_BACKOFF_MS) {
      throw new BadRequestError(
        `retry backoff step ${String(ms)} is not an integer in 1..${MAX_BACKOFF_MS} ms`,
      );
    }
  }
  return Object.freeze([...(steps as number[])]);
}

function checkConsumeFrom(from: unknown): ConsumeFrom {
  if (typeof from !== 'object' || from === null) {
    throw new BadRequestError('consumeFrom must be {kind: first | last | timestamp}');
  }
  const { kind, timestamp } = from as { kind?: unknown; timestamp?: unknown };
  if (kind === 'first' || kind === 'last') return Object.freeze({ kind });
  if (kind === 'timestamp') {
    if (typeof timestamp !== 'number' || !Number.isFinite(timestamp) || timestamp < 0) {
      throw new BadRequestError(`consumeFrom timestamp ${String(timestamp)} is not a time in milliseconds`);
    }
    return Object.freeze({ kind, timestamp });
  }
  throw new BadRequestError(`consumeFrom kind ${String(kind)} is not first, last or timestamp`);
}

function checkOptions(options: unknown): GroupOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null) {
    throw new BadRequestError('group options must be an object');
  }
  return options as GroupOptions;
}

/** The policy fields of `options` checked, the missing ones taken from `base`. */
function policy(options: GroupOptions, base: GroupPolicy): GroupPolicy {
  return {
    fifo: options.fifo === undefined ? base.fifo : checkFifo(options.fifo),
    maxDeliveryAttempts:
      options.maxDeliveryAttempts === undefined
        ? base.maxDeliveryAttempts
        : checkMaxDeliveryAttempts(options.maxDeliveryAttempts),
    retryBackoffMs:
      options.retryBackoffMs === undefined ? base.retryBackoffMs : checkBackoff(options.retryBackoffMs),
    consumeFrom: options.consumeFrom === undefined ? base.consumeFrom : checkConsumeFrom(options.consumeFrom),
  };
}

const ROCKETMQ_DEFAULTS: GroupPolicy = Object.freeze({
  fifo: false,
  maxDeliveryAttempts: DEFAULT_MAX_DELIVERY_ATTEMPTS,
  retryBackoffMs: RETRY_BACKOFF_MS,
  consumeFrom: DEFAULT_CONSUME_FROM,
});

// ---------------------------------------------------------------------------------------------
// Registry
// ---------------------------------------------------------------------------------------------

export class GroupRegistry {
  readonly path: string;
  readonly #clock: Clock;
  readonly #autoCreate: boolean;
  readonly #defaults: GroupPolicy;
  readonly #groups: PersistentRegistry<GroupConfig>;

  /**
   * Loads `groups.json` (a missing file is an empty registry).
   * @throws BadRequestError for bad `defaults`
   * @throws CorruptJsonFileError when the file and its backup are unusable.
   */
  constructor(options: GroupRegistryOptions) {
    this.path = join(options.configDir, GROUPS_FILE);
    this.#clock = options.clock ?? systemClock;
    this.#autoCreate = options.autoCreateGroups ?? true;
    this.#defaults = Object.freeze(policy(checkOptions(options.defaults), ROCKETMQ_DEFAULTS));
    this.#groups = new PersistentRegistry<GroupConfig>({
      path: this.path,
      version: FILE_VERSION,
      listKey: 'groups',
      noun: 'group',
      checkName: checkStoredName,
      fromJson: parseGroup,
      onDelete: options.onDelete,
      logger: options.logger,
    });
  }

  get autoCreateGroups(): boolean {
    return this.#autoCreate;
  }

  get(name: string): GroupConfig | undefined {
    return this.#groups.get(name);
  }

  has(name: string): boolean {
    return this.#groups.has(name);
  }

  /** Every group, by name. */
  list(): GroupConfig[] {
    return this.#groups.list();
  }

  /**
   * @throws IllegalConsumerGroupError (ILLEGAL_CONSUMER_GROUP) for a bad or system name
   * @throws BadRequestError (BAD_REQUEST) for bad options or an existing group
   */
  create(name: string, options?: GroupOptions): GroupConfig {
    validateConsumerGroup(name);
    const config = policy(checkOptions(options), this.#defaults);
    if (this.#groups.has(name)) throw new BadRequestError(`consumer group ${quote(name)} already exists`);
    return this.#groups.put(Object.freeze({ name, ...config, createdAt: this.#clock.now() }));
  }

  /**
   * Changes the given fields of a group's policy.
   * @throws IllegalConsumerGroupError (ILLEGAL_CONSUMER_GROUP)
   * @throws ConsumerGroupNotFoundError (CONSUMER_GROUP_NOT_FOUND)
   * @throws BadRequestError (BAD_REQUEST) for bad options
   */
  update(name: string, options: GroupOptions): GroupConfig {
    validateConsumerGroup(name);
    const opts = checkOptions(options);
    const current = this.#groups.get(name);
    if (!current) throw new ConsumerGroupNotFoundError(name);
    return this.#groups.put(Object.freeze({ ...current, ...policy(opts, current) }));
  }

  /**
   * Deletes a group, then calls `onDelete`. Returns false if it did not exist.
   * @throws IllegalConsumerGroupError (ILLEGAL_CONSUMER_GROUP)
   */
  delete(name: string): boolean {
    validateConsumerGroup(name);
    return this.#groups.delete(name);
  }

  /**
   * The receive path: the group, created with the defaults on first use when `autoCreateGroups`.
   * @throws IllegalConsumerGroupError (ILLEGAL_CONSUMER_GROUP)
   * @throws ConsumerGroupNotFoundError (CONSUMER_GROUP_NOT_FOUND) with auto-creation off
   */
  getOrCreate(name: string): GroupConfig {
    const existing = this.#groups.get(name);
    if (existing) return existing; // validated when created
    validateConsumerGroup(name);
    if (!this.#autoCreate) throw new ConsumerGroupNotFoundError(name);
    return this.#groups.put(Object.freeze({ name, ...this.#defaults, createdAt: this.#clock.now() }));
  }

  /** The group's backoff after failed delivery `attempt`; the default schedule for an unknown group. */
  backoffFor(group: string, attempt: number): number {
    return backoffFor(this.#groups.get(group) ?? this.#defaults, attempt);
  }

  /** The policy a new group gets. */
  get defaults(): GroupPolicy {
    return this.#defaults;
  }
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

/** Only the characters and length: a name that later became reserved still loads. */
function checkStoredName(name: string, index: number): void {
  if (!TOPIC_OR_GROUP_NAME_PATTERN.test(name) || name.length > GROUP_MAX_LENGTH) {
    throw new TypeError(`groups[${index}].name ${quote(name)} is not a valid group name`);
  }
}

function parseGroup(g: Record<string, unknown>, name: string, createdAt: number): GroupConfig {
  const config = policy(
    {
      fifo: g.fifo as boolean,
      maxDeliveryAttempts: g.maxDeliveryAttempts as number,
      retryBackoffMs: g.retryBackoffMs as number[],
      consumeFrom: g.consumeFrom as ConsumeFrom,
    },
    ROCKETMQ_DEFAULTS,
  );
  return Object.freeze({ name, ...config, createdAt });
}

/**
 * Topics, consumer groups and users as an operator writes them, in the config file and in admin
 * request bodies alike, read strictly into what the core takes (TopicOptions, GroupOptions) and what
 * the gRPC layer's authentication takes (users).
 *
 * Group retry backoff: either the steps themselves (`["10s", "30s", "1m"]`, the last one repeating,
 * RocketMQ's CustomizedRetryPolicy) or an exponential policy (`{"initial": "1s", "max": "5m",
 * "multiplier": 2}`, RocketMQ's ExponentialRetryPolicy), expanded here into steps because the core
 * keeps one list per group.
 */
import {
  type ConsumeFrom,
  type GroupOptions,
  MAX_BACKOFF_MS,
  MAX_BACKOFF_STEPS,
} from '../core/group-registry.js';
import { MAX_DELIVERY_ATTEMPTS_LIMIT } from '../core/group-registry.js';
import { TOPIC_OR_GROUP_NAME_PATTERN } from '../core/limits.js';
import { MAX_QUEUE_COUNT } from '../core/topic-registry.js';
import {
  containsControlChar,
  type MessageType,
  validateConsumerGroup,
  validateTopicName,
} from '../core/validation.js';
import {
  checkWith,
  childPath,
  describe,
  readBoolean,
  readDurationMs,
  readInteger,
  readList,
  readNumber,
  readObject,
  readString,
  readTimestamp,
  SpecError,
} from './spec-reader.js';

const MESSAGE_TYPES: readonly MessageType[] = ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'];

/** Largest multiplier of an exponential backoff (RocketMQ's clients use 2). */
export const MAX_BACKOFF_MULTIPLIER = 10;

/** Longest access key; RocketMQ sets none, a bound keeps log lines and lookups sane. */
export const MAX_ACCESS_KEY_LENGTH = 256;

export interface TopicSpec {
  readonly name: string;
  readonly queueCount?: number;
  readonly messageTypes?: readonly MessageType[];
}

export interface GroupSpec {
  readonly name: string;
  readonly options: GroupOptions;
}

/** An access-key/secret pair with allow lists; the shape of the gRPC layer's `AuthUser`. */
export interface UserSpec {
  readonly accessKey: string;
  readonly secretKey: string;
  /** Topics the user may publish to; undefined = all, `*` = all. */
  readonly topics?: readonly string[];
  /** Groups the user may consume as; undefined = all, `*` = all. */
  readonly groups?: readonly string[];
}

/** Where a name comes from when the document may omit it (an admin URL: `PUT /topics/<name>`). */
export interface NameSource {
  readonly name?: string;
}

function readName(
  record: Readonly<Record<string, unknown>>,
  path: string,
  source: NameSource,
  validate: (name: string) => void,
): string {
  const at = childPath(path, 'name');
  const given = record.name;
  const name = given === undefined && source.name !== undefined ? source.name : readString(given, at);
  if (source.name !== undefined && name !== source.name) {
    throw new SpecError(at, `${describe(name)} differs from ${describe(source.name)} in the URL`);
  }
  checkWith(at, () => validate(name));
  return name;
}

// ------------------------------------------------------------------------------------- topics

const TOPIC_KEYS = ['name', 'queueCount', 'messageTypes'] as const;

export function readMessageTypes(value: unknown, path: string): readonly MessageType[] {
  const list = readList(value, path);
  if (list.length === 0) throw new SpecError(path, `must name at least one of ${MESSAGE_TYPES.join(', ')}`);
  const seen = new Set<MessageType>();
  list.forEach((item, i) => {
    if (typeof item !== 'string' || !MESSAGE_TYPES.includes(item as MessageType)) {
      throw new SpecError(
        `${path}[${i}]`,
        `must be one of ${MESSAGE_TYPES.join(', ')}, got ${describe(item)}`,
      );
    }
    if (seen.has(item as MessageType)) throw new SpecError(`${path}[${i}]`, `repeats ${describe(item)}`);
    seen.add(item as MessageType);
  });
  return [...seen];
}

/** A user topic: `{name, queueCount?, messageTypes?}`. */
export function readTopicSpec(value: unknown, path: string, source: NameSource = {}): TopicSpec {
  const record = readObject(value, path, TOPIC_KEYS);
  const name = readName(record, path, source, (n) => validateTopicName(n));
  return {
    name,
    ...(record.queueCount === undefined
      ? {}
      : { queueCount: readInteger(record.queueCount, childPath(path, 'queueCount'), 1, MAX_QUEUE_COUNT) }),
    ...(record.messageTypes === undefined
      ? {}
      : { messageTypes: readMessageTypes(record.messageTypes, childPath(path, 'messageTypes')) }),
  };
}

// ------------------------------------------------------------------------------------- groups

const GROUP_KEYS = ['name', 'fifo', 'maxDeliveryAttempts', 'retryBackoff', 'consumeFrom'] as const;
const EXPONENTIAL_KEYS = ['initial', 'max', 'multiplier'] as const;

/** `initial`, `initial·m`, `initial·m²`, … capped at `max`, ending with the first step that reaches it. */
export function exponentialSteps(initialMs: number, maxMs: number, multiplier: number): number[] {
  const steps = [initialMs];
  while (steps.length < MAX_BACKOFF_STEPS && steps[steps.length - 1]! < maxMs && multiplier > 1) {
    steps.push(Math.min(maxMs, Math.round(steps[steps.length - 1]! * multiplier)));
  }
  return steps;
}

export function readRetryBackoff(value: unknown, path: string): readonly number[] {
  if (Array.isArray(value)) {
    if (value.length === 0 || value.length > MAX_BACKOFF_STEPS) {
      throw new SpecError(path, `must have 1..${MAX_BACKOFF_STEPS} steps, got ${value.length}`);
    }
    return value.map((step, i) => readDurationMs(step, `${path}[${i}]`, 1, MAX_BACKOFF_MS));
  }
  if (typeof value !== 'object' || value === null) {
    throw new SpecError(
      path,
      `must be a list of durations or {initial, max, multiplier}, got ${describe(value)}`,
    );
  }
  const policy = readObject(value, path, EXPONENTIAL_KEYS);
  const initial = readDurationMs(policy.initial, childPath(path, 'initial'), 1, MAX_BACKOFF_MS);
  const max = readDurationMs(policy.max, childPath(path, 'max'), 1, MAX_BACKOFF_MS);
  if (max < initial) {
    throw new SpecError(
      childPath(path, 'max'),
      `must not be shorter than initial (${initial} ms), got ${max} ms`,
    );
  }
  const multiplier =
    policy.multiplier === undefined
      ? 2
      : readNumber(policy.multiplier, childPath(path, 'multiplier'), 1, MAX_BACKOFF_MULTIPLIER);
  return exponentialSteps(initial, max, multiplier);
}

/** `"first"`, `"last"` or `{"timestamp": <ms or ISO-8601>}`. */
export function readConsumeFrom(value: unknown, path: string): ConsumeFrom {
  if (value === 'first' || value === 'last') return { kind: value };
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = readObject(value, path, ['timestamp']);
    return { kind: 'timestamp', timestamp: readTimestamp(record.timestamp, childPath(path, 'timestamp')) };
  }
  throw new SpecError(path, `must be "first", "last" or {"timestamp": …}, got ${describe(value)}`);
}

/** A consumer group: `{name, fifo?, maxDeliveryAttempts?, retryBackoff?, consumeFrom?}`. */
export function readGroupSpec(value: unknown, path: string, source: NameSource = {}): GroupSpec {
  const record = readObject(value, path, GROUP_KEYS);
  const name = readName(record, path, source, validateConsumerGroup);
  const at = (key: string): string => childPath(path, key);
  const options: GroupOptions = {
    ...(record.fifo === undefined ? {} : { fifo: readBoolean(record.fifo, at('fifo')) }),
    ...(record.maxDeliveryAttempts === undefined
      ? {}
      : {
          maxDeliveryAttempts: readInteger(
            record.maxDeliveryAttempts,
            at('maxDeliveryAttempts'),
            1,
            MAX_DELIVERY_ATTEMPTS_LIMIT,
          ),
        }),
    ...(record.retryBackoff === undefined
      ? {}
      : { retryBackoffMs: readRetryBackoff(record.retryBackoff, at('retryBackoff')) }),
    ...(record.consumeFrom === undefined
      ? {}
      : { consumeFrom: readConsumeFrom(record.consumeFrom, at('consumeFrom')) }),
  };
  return { name, options };
}

// ------------------------------------------------------------------------------------- users

const USER_KEYS = ['accessKey', 'secretKey', 'topics', 'groups'] as const;

/** Characters an access key cannot hold: the `authorization` header splits on `,` `=` `/` and spaces. */
const ACCESS_KEY_SEPARATORS = /[\s,=/]/;

function readAccessKey(value: unknown, path: string): string {
  const key = readString(value, path);
  if (key.length > MAX_ACCESS_KEY_LENGTH || ACCESS_KEY_SEPARATORS.test(key) || containsControlChar(key)) {
    throw new SpecError(
      path,
      `must be at most ${MAX_ACCESS_KEY_LENGTH} characters without spaces, ',', '=', '/' or control characters`,
    );
  }
  return key;
}

/** A literal secret, or `{"env": "NAME"}` to read it from the environment (so it is not committed). */
function readSecret(value: unknown, path: string, env: NodeJS.ProcessEnv): string {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const record = readObject(value, path, ['env']);
    const name = readString(record.env, childPath(path, 'env'));
    const secret = env[name];
    if (secret === undefined || secret === '') {
      throw new SpecError(childPath(path, 'env'), `names environment variable ${name}, which is not set`);
    }
    return secret;
  }
  if (typeof value !== 'string' || value === '') {
    throw new SpecError(path, `must be a non-empty string or {"env": "NAME"}, got ${describe(value)}`);
  }
  return value;
}

/**
 * Names, `*` (everything) or `prefix*` (the names starting with prefix), as the gRPC layer's
 * `isAllowed` reads them.
 */
function readAllowList(value: unknown, path: string, validate: (name: string) => void): readonly string[] {
  return readList(value, path).map((item, i) => {
    const at = `${path}[${i}]`;
    const entry = readString(item, at);
    if (entry === '*') return entry;
    if (entry.endsWith('*')) {
      if (!TOPIC_OR_GROUP_NAME_PATTERN.test(entry.slice(0, -1))) {
        throw new SpecError(
          at,
          `must be a name, "*" or "<prefix>*" with a prefix of ^[%|a-zA-Z0-9_-]+$, got ${describe(entry)}`,
        );
      }
      return entry;
    }
    checkWith(at, () => validate(entry));
    return entry;
  });
}

/** A user: `{accessKey, secretKey: "…" | {"env": "NAME"}, topics?: [...], groups?: [...]}`. */
export function readUserSpec(value: unknown, path: string, env: NodeJS.ProcessEnv): UserSpec {
  const record = readObject(value, path, USER_KEYS);
  return {
    accessKey: readAccessKey(record.accessKey, childPath(path, 'accessKey')),
    secretKey: readSecret(record.secretKey, childPath(path, 'secretKey'), env),
    ...(record.topics === undefined
      ? {}
      : {
          topics: readAllowList(record.topics, childPath(path, 'topics'), (n) =>
            validateTopicName(n, { allowRetryDlq: true }),
          ),
        }),
    ...(record.groups === undefined
      ? {}
      : { groups: readAllowList(record.groups, childPath(path, 'groups'), validateConsumerGroup) }),
  };
}

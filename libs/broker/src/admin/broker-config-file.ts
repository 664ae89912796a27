/**
 * The built-in broker's declarative config (`BROKER_CONFIG`): topics, consumer groups and users,
 * applied at every start (see apply-broker-config.ts). JSON only: YAML would need a parser
 * dependency for a file of a few dozen lines, and JSON's strictness is what an operator wants here.
 *
 * ```json
 * {
 *   "topics": [{ "name": "orders", "queueCount": 8, "messageTypes": ["NORMAL", "FIFO"] }],
 *   "groups": [{ "name": "billing", "fifo": true, "maxDeliveryAttempts": 5,
 *                "retryBackoff": ["1s", "10s", "1m"], "consumeFrom": "first" }],
 *   "users":  [{ "accessKey": "svc-billing", "secretKey": { "env": "BILLING_SECRET" },
 *                "topics": ["orders"], "groups": ["billing"] }]
 * }
 * ```
 *
 * Validation is strict: unknown keys, wrong types, out-of-range values, reserved names and
 * duplicates are refused with the path of the value (`topics[2].queueCount must be an integer
 * 1..1024, got 0`), before anything is applied.
 */
import { readFileSync } from 'node:fs';
import { RocketError, StatusCode } from '../status-code.js';
import {
  readGroupSpec,
  readTopicSpec,
  readUserSpec,
  type GroupSpec,
  type TopicSpec,
  type UserSpec,
} from './resource-specs.js';
import { readList, readObject, SpecError } from './spec-reader.js';

/** Largest config file read; a config of thousands of topics is still far below it. */
export const MAX_CONFIG_FILE_BYTES = 4 * 1024 * 1024;

/** The validated config. */
export interface BrokerConfigDocument {
  readonly topics: readonly TopicSpec[];
  readonly groups: readonly GroupSpec[];
  readonly users: readonly UserSpec[];
}

/**
 * The config as written, for callers that pass it as an object (`Broker.start({config})`): the same
 * shape as the file, checked the same way.
 */
export interface BrokerConfigInput {
  readonly topics?: readonly unknown[];
  readonly groups?: readonly unknown[];
  readonly users?: readonly unknown[];
}

/** The config file cannot be read or is invalid; `message` says where and why. */
export class BrokerConfigFileError extends RocketError {
  constructor(
    readonly source: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(StatusCode.BAD_REQUEST, `${source}: ${message}`, options);
  }
}

const TOP_KEYS = ['topics', 'groups', 'users'] as const;

function noDuplicates<T>(items: readonly T[], keyOf: (item: T) => string, path: string, field: string): void {
  const first = new Map<string, number>();
  items.forEach((item, i) => {
    const key = keyOf(item);
    const earlier = first.get(key);
    if (earlier !== undefined) {
      throw new SpecError(
        `${path}[${i}].${field}`,
        `${JSON.stringify(key)} is already defined at ${path}[${earlier}]`,
      );
    }
    first.set(key, i);
  });
}

/**
 * Validates a parsed config document.
 * @param env where `{"env": "NAME"}` secrets are read from
 * @throws SpecError naming the path of the first problem
 */
export function parseBrokerConfig(raw: unknown, env: NodeJS.ProcessEnv = process.env): BrokerConfigDocument {
  const doc = readObject(raw, '', TOP_KEYS);
  const listAt = (key: string): readonly unknown[] => (doc[key] === undefined ? [] : readList(doc[key], key));
  const topics = listAt('topics').map((t, i) => readTopicSpec(t, `topics[${i}]`));
  const groups = listAt('groups').map((g, i) => readGroupSpec(g, `groups[${i}]`));
  const users = listAt('users').map((u, i) => readUserSpec(u, `users[${i}]`, env));
  noDuplicates(topics, (t) => t.name, 'topics', 'name');
  noDuplicates(groups, (g) => g.name, 'groups', 'name');
  noDuplicates(users, (u) => u.accessKey, 'users', 'accessKey');
  return { topics, groups, users };
}

/**
 * Reads and validates the config file at `path`.
 * @throws BrokerConfigFileError (unreadable, too large, not JSON, invalid) naming the file
 */
export function loadBrokerConfigFile(
  path: string,
  env: NodeJS.ProcessEnv = process.env,
): BrokerConfigDocument {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_CONFIG_FILE_BYTES) {
      throw new BrokerConfigFileError(path, `is ${bytes.length} bytes, more than ${MAX_CONFIG_FILE_BYTES}`);
    }
    text = bytes.toString('utf8');
  } catch (err) {
    if (err instanceof BrokerConfigFileError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new BrokerConfigFileError(path, `cannot read the broker config: ${why}`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new BrokerConfigFileError(path, `is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseConfigOrThrow(raw, path, env);
}

/** `parseBrokerConfig` with its SpecError turned into a BrokerConfigFileError naming `source`. */
export function parseConfigOrThrow(
  raw: unknown,
  source: string,
  env: NodeJS.ProcessEnv,
): BrokerConfigDocument {
  try {
    return parseBrokerConfig(raw, env);
  } catch (err) {
    if (err instanceof SpecError) throw new BrokerConfigFileError(source, err.message, { cause: err });
    throw err;
  }
}

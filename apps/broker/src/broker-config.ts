import { resolve } from 'node:path';
import { type FlushMode, STANDALONE_SEGMENT_SIZE } from '@rocketnest/broker';
import { RECEIVE_BATCH_LIMIT, RECEIVE_BATCH_MAX } from '@rocketnest/broker/core/limits.js';
import { type BrokerOptions } from '@rocketnest/broker/broker.js';

/** The standalone broker's settings, from the environment (names in the README). */
export interface BrokerConfig {
  readonly host: string;
  readonly port: number;
  /** `host:port` given to clients; default the bound address. */
  readonly advertisedEndpoint: string | undefined;
  readonly dataDir: string;
  readonly flushMode: FlushMode;
  readonly segmentSize: number;
  readonly preallocate: boolean;
  /** Most messages one receive returns (BROKER_RECEIVE_BATCH_MAX; default 32, as Apache RocketMQ). */
  readonly maxReceiveBatchSize: number;
  /** Path of the declarative JSON config (topics, groups, users). */
  readonly configFile: string | undefined;
  /** The single user of BROKER_ACCESS_KEY / BROKER_SECRET_KEY (more users: the config file). */
  readonly user: { readonly accessKey: string; readonly secretKey: string } | undefined;
  readonly admin:
    { readonly host: string; readonly port: number; readonly token: string | undefined } | undefined;
}

export class BrokerConfigError extends Error {}

const DEFAULT_ADMIN_PORT = 8082;

/** `env[name]` as an integer in `min..max` (digits only), `fallback` when unset; `what` names the range. */
function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
  what: string,
): number {
  const text = env[name];
  const value = text === undefined || text === '' ? fallback : /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new BrokerConfigError(`${name} must be ${what}, got ${JSON.stringify(text)}`);
  }
  return value;
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  return integer(env, name, fallback, 0, 65535, 'a port number (0..65535, 0 = any free port)');
}

function flag(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  if (text === 'true' || text === 'false') return text === 'true';
  throw new BrokerConfigError(`${name} must be "true" or "false", got ${JSON.stringify(text)}`);
}

function text(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === '' ? undefined : value;
}

export function readBrokerConfig(env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const flush = env.BROKER_FLUSH ?? 'async';
  if (flush !== 'sync' && flush !== 'async') {
    throw new BrokerConfigError(`BROKER_FLUSH must be "sync" or "async", got ${JSON.stringify(flush)}`);
  }
  const segmentMiB = Number(env.BROKER_SEGMENT_MB ?? STANDALONE_SEGMENT_SIZE / (1024 * 1024));
  if (!Number.isInteger(segmentMiB) || segmentMiB < 1) {
    throw new BrokerConfigError(
      `BROKER_SEGMENT_MB must be a positive integer, got ${JSON.stringify(env.BROKER_SEGMENT_MB)}`,
    );
  }
  const accessKey = text(env, 'BROKER_ACCESS_KEY');
  const secretKey = text(env, 'BROKER_SECRET_KEY');
  if ((accessKey === undefined) !== (secretKey === undefined)) {
    throw new BrokerConfigError('BROKER_ACCESS_KEY and BROKER_SECRET_KEY must be set together');
  }
  const configFile = text(env, 'BROKER_CONFIG');
  return {
    host: env.BROKER_HOST || '127.0.0.1',
    port: port(env, 'BROKER_PORT', 8081),
    advertisedEndpoint: text(env, 'BROKER_ADVERTISED_ENDPOINT'),
    dataDir: resolve(env.BROKER_DATA_DIR || './data/broker'),
    flushMode: flush,
    segmentSize: segmentMiB * 1024 * 1024,
    // Opt-in: an idle developer broker must not fill the disk (1 GiB per prepared segment).
    preallocate: flag(env, 'BROKER_PREALLOCATE', false),
    maxReceiveBatchSize: integer(
      env,
      'BROKER_RECEIVE_BATCH_MAX',
      RECEIVE_BATCH_MAX,
      1,
      RECEIVE_BATCH_LIMIT,
      `an integer in 1..${RECEIVE_BATCH_LIMIT}`,
    ),
    configFile: configFile === undefined ? undefined : resolve(configFile),
    user: accessKey !== undefined && secretKey !== undefined ? { accessKey, secretKey } : undefined,
    admin: flag(env, 'BROKER_ADMIN_ENABLED', true)
      ? {
          host: env.BROKER_ADMIN_HOST || '127.0.0.1',
          port: port(env, 'BROKER_ADMIN_PORT', DEFAULT_ADMIN_PORT),
          token: text(env, 'BROKER_ADMIN_TOKEN'),
        }
      : undefined,
  };
}

/** What `Broker.start` takes for these settings. */
export function brokerOptionsOf(config: BrokerConfig): BrokerOptions {
  return {
    dataDir: config.dataDir,
    host: config.host,
    port: config.port,
    flushMode: config.flushMode,
    segmentSize: config.segmentSize,
    preallocate: config.preallocate,
    core: { maxReceiveBatchSize: config.maxReceiveBatchSize },
    ...(config.advertisedEndpoint === undefined ? {} : { advertisedEndpoint: config.advertisedEndpoint }),
    ...(config.configFile === undefined ? {} : { config: config.configFile }),
    ...(config.user === undefined ? {} : { auth: { users: [config.user] } }),
    ...(config.admin === undefined
      ? {}
      : {
          admin: {
            host: config.admin.host,
            port: config.admin.port,
            ...(config.admin.token === undefined ? {} : { token: config.admin.token }),
          },
        }),
  };
}

/**
 * Options of `RocketMQModule.forRoot` / `forRootAsync`, their environment fallbacks and defaults.
 *
 * Where the module connects:
 * - `endpoints` given (or `ROCKETMQ_ENDPOINTS` set): any RocketMQ 5 gRPC endpoint, the built-in
 *   broker (`npm run broker`) or an Apache RocketMQ 5 proxy.
 * - neither: an **embedded** built-in broker is started in the process (the zero-install default),
 *   configured by `embedded` (data directory, port, flush mode), and closed after everything else at
 *   shutdown.
 *
 * Environment fallbacks (read only when the option itself is absent): `ROCKETMQ_ENDPOINTS`,
 * `ROCKETMQ_NAMESPACE`, `ROCKETMQ_ACCESS_KEY` + `ROCKETMQ_SECRET_KEY` (both or neither).
 */
import { type ChannelCredentials } from '@grpc/grpc-js';
import { type InjectionToken, type ModuleMetadata, type OptionalFactoryDependency } from '@nestjs/common';
import { type BrokerOptions } from '@rocketnest/broker/broker.js';
import { type FlushMode } from '@rocketnest/broker/store/index.js';
import {
  type BackoffOptions,
  type BatchingOptions,
  type RetryBackoffOptions,
  type SessionCredentials,
} from '../../client/index.js';
import { JsonPayloadCodec, type PayloadCodec } from '../serialization/payload-codec.js';

/** Data directory of the embedded broker when `embedded.dataDir` is not given. */
export const DEFAULT_EMBEDDED_DATA_DIR = './data/rocketnest-broker';
/** Port of the embedded broker when `embedded.port` is not given: any free port. */
export const DEFAULT_EMBEDDED_PORT = 0;
/** How long `close()` of a listener waits for running handlers at shutdown (the client's default). */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** The embedded built-in broker (used when no endpoints are configured). */
export interface EmbeddedBrokerOptions {
  /** Root of the broker's state. Default `./data/rocketnest-broker`. */
  readonly dataDir?: string;
  /** gRPC port; 0 = any free port (read it from `RocketMQConnection.endpoints`). Default 0. */
  readonly port?: number;
  /** gRPC host. Default 127.0.0.1. */
  readonly host?: string;
  /** `async` (default): acked once written; `sync`: acked after fdatasync. */
  readonly flushMode?: FlushMode;
  /** Further options of `Broker.start` (core timing, declarative config, admin API, …). */
  readonly broker?: Omit<BrokerOptions, 'dataDir' | 'port' | 'host' | 'flushMode' | 'logger'>;
}

/** Defaults of every `@RocketListener` (each listener may override what it names). */
export interface ConsumerDefaults {
  /** Most messages held at once per listener. Client default 1024. */
  readonly maxInFlight?: number;
  /** Most handlers running at once per listener. Client default 64. */
  readonly concurrency?: number;
  /** Lease of a received message (renewed while held), 10 s..12 h. Client default 30 s. */
  readonly invisibleDurationMs?: number;
  /**
   * Retry delays by attempt: exponential `{ initialMs, maxMs, multiplier }` or one delay per attempt.
   * Default: the group's, as the server says.
   */
  readonly backoff?: BackoffOptions;
  /**
   * Retries after the first delivery before the message goes to `%DLQ%<group>` (RocketMQ's
   * `maxReconsumeTimes`, default 16). Applied to the group on the embedded broker; on a remote
   * server the group's own setting rules (`mqadmin updateSubGroup -g <group> -r <n>`).
   */
  readonly maxReconsumeTimes?: number;
  /** How long shutdown (and `pause`) wait for running handlers. Default 10 s. */
  readonly drainTimeoutMs?: number;
}

/** Defaults of the module's producer (`RocketTemplate`). */
export interface ProducerDefaults {
  /** Attempts per message for retryable failures. Client default 3. */
  readonly maxAttempts?: number;
  readonly retryBackoff?: RetryBackoffOptions;
  /** Automatic batching of concurrent sends. */
  readonly batching?: BatchingOptions;
  /** Topics routed at start (others on first send). */
  readonly topics?: readonly string[];
}

export interface RocketMQModuleOptions {
  /**
   * RocketMQ 5 gRPC endpoints, `host:port[,host:port]`. Absent (and no `ROCKETMQ_ENDPOINTS`): an
   * embedded built-in broker is started.
   */
  readonly endpoints?: string;
  /** The embedded broker (ignored when `endpoints` is given). */
  readonly embedded?: EmbeddedBrokerOptions;
  /** RocketMQ namespace. Fallback `ROCKETMQ_NAMESPACE`. */
  readonly namespace?: string;
  /** Access key and secret. Fallback `ROCKETMQ_ACCESS_KEY` / `ROCKETMQ_SECRET_KEY`. */
  readonly credentials?: SessionCredentials;
  /** `true`: TLS with the system's roots; or grpc-js credentials. Default plaintext. */
  readonly tls?: boolean | ChannelCredentials;
  /** Deadline of each unary call. Client default 3 s. */
  readonly requestTimeoutMs?: number;
  /** Bound on connecting. Client default 10 s. */
  readonly startupTimeoutMs?: number;
  readonly producer?: ProducerDefaults;
  readonly consumer?: ConsumerDefaults;
  /** How payloads become bodies and back. Default `JsonPayloadCodec` (Buffer/string passthrough). */
  readonly codec?: PayloadCodec;
  /**
   * Names this process in per-instance groups (broadcasting listeners: `<group>-BROADCAST-<name>`).
   * Default a random id per module instance: give a stable one (a pod name) for a broadcasting
   * listener to resume where it stopped after a restart.
   */
  readonly instanceName?: string;
  /** Topic `RocketTemplate.request` listens on for answers. Default `rocketnest-reply`. */
  readonly replyTopic?: string;
  /** Start the discovered listeners at bootstrap. Default true (false: start them with the registry). */
  readonly autoStartListeners?: boolean;
}

/** Factory form of the options (`forRootAsync`). */
export interface RocketMQModuleAsyncOptions {
  readonly imports?: ModuleMetadata['imports'];
  readonly inject?: (InjectionToken | OptionalFactoryDependency)[];
  readonly useFactory: (...args: never[]) => RocketMQModuleOptions | Promise<RocketMQModuleOptions>;
}

/** Where the module connects, decided once. */
export type ConnectionTarget =
  | { readonly kind: 'remote'; readonly endpoints: string }
  | { readonly kind: 'embedded'; readonly options: EmbeddedBrokerOptions };

/** The options with environment fallbacks and defaults applied. */
export interface ResolvedRocketMQOptions {
  readonly target: ConnectionTarget;
  readonly namespace: string | undefined;
  readonly credentials: SessionCredentials | undefined;
  readonly tls: boolean | ChannelCredentials | undefined;
  readonly requestTimeoutMs: number | undefined;
  readonly startupTimeoutMs: number | undefined;
  readonly producer: ProducerDefaults;
  readonly consumer: ConsumerDefaults;
  readonly codec: PayloadCodec;
  readonly instanceName: string;
  readonly replyTopic: string | undefined;
  readonly autoStartListeners: boolean;
}

function envText(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function credentialsOf(
  options: RocketMQModuleOptions,
  env: NodeJS.ProcessEnv,
): SessionCredentials | undefined {
  if (options.credentials !== undefined) return options.credentials;
  const accessKey = envText(env, 'ROCKETMQ_ACCESS_KEY');
  const secretKey = envText(env, 'ROCKETMQ_SECRET_KEY');
  if ((accessKey === undefined) !== (secretKey === undefined)) {
    throw new RangeError('ROCKETMQ_ACCESS_KEY and ROCKETMQ_SECRET_KEY must be set together');
  }
  return accessKey !== undefined && secretKey !== undefined ? { accessKey, secretKey } : undefined;
}

function randomInstanceName(): string {
  return `${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * Applies environment fallbacks and defaults.
 * @throws RangeError / TypeError naming the bad option
 */
export function resolveRocketMQOptions(
  options: RocketMQModuleOptions = {},
  env: NodeJS.ProcessEnv = process.env,
): ResolvedRocketMQOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('RocketMQModule needs an options object');
  }
  const endpoints = options.endpoints ?? envText(env, 'ROCKETMQ_ENDPOINTS');
  if (endpoints !== undefined && (typeof endpoints !== 'string' || endpoints.trim() === '')) {
    throw new RangeError('endpoints must be "host:port", several separated by ","');
  }
  const consumer = options.consumer ?? {};
  if (consumer.maxReconsumeTimes !== undefined) checkReconsumeTimes(consumer.maxReconsumeTimes);
  const instanceName = options.instanceName ?? randomInstanceName();
  if (!/^[a-zA-Z0-9_-]{1,40}$/.test(instanceName)) {
    throw new RangeError(`instanceName must match [a-zA-Z0-9_-]{1,40}, got ${JSON.stringify(instanceName)}`);
  }
  return {
    target:
      endpoints !== undefined
        ? { kind: 'remote', endpoints }
        : { kind: 'embedded', options: options.embedded ?? {} },
    namespace: options.namespace ?? envText(env, 'ROCKETMQ_NAMESPACE'),
    credentials: credentialsOf(options, env),
    tls: options.tls,
    requestTimeoutMs: options.requestTimeoutMs,
    startupTimeoutMs: options.startupTimeoutMs,
    producer: options.producer ?? {},
    consumer,
    codec: options.codec ?? new JsonPayloadCodec(),
    instanceName,
    replyTopic: options.replyTopic,
    autoStartListeners: options.autoStartListeners ?? true,
  };
}

/** Most retries a group allows on the built-in broker (its 1000 delivery attempts, minus the first). */
export const MAX_RECONSUME_TIMES = 999;

/** @throws RangeError unless an integer 0..999 */
export function checkReconsumeTimes(value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > MAX_RECONSUME_TIMES) {
    throw new RangeError(
      `maxReconsumeTimes must be an integer 0..${MAX_RECONSUME_TIMES}, got ${String(value)}`,
    );
  }
  return value;
}

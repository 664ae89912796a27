/**
 * Broker: the built-in broker as one object, usable with or without Nest. It opens the core (store,
 * registries, timers, transactions), applies the declarative config, serves the RocketMQ 5 gRPC
 * endpoint and, when asked, the HTTP admin API.
 *
 * `Broker.start()` either returns a broker that serves, or fails having released everything it
 * took (ports, the data directory lock), so a failed start can be retried at once. `close()` stops
 * the endpoints first (streams end cleanly, admin requests finish), then closes the core, which
 * flushes and checkpoints.
 */
import { checkAdminExposure } from './admin/admin-auth.js';
import { AdminHttpServer, DEFAULT_ADMIN_HOST, DEFAULT_ADMIN_PORT } from './admin/admin-http-server.js';
import { applyBrokerConfig } from './admin/apply-broker-config.js';
import {
  type BrokerConfigDocument,
  type BrokerConfigInput,
  loadBrokerConfigFile,
  parseConfigOrThrow,
} from './admin/broker-config-file.js';
import { type BrokerCoreLogger, type BrokerCoreOptions } from './core/broker-core-types.js';
import { BrokerCore } from './core/broker-core.js';
import { type AuthOptions, type AuthUser } from './grpc/auth.js';
import { DEFAULT_GRPC_HOST, DEFAULT_GRPC_PORT, GrpcMessagingServer } from './grpc/messaging-server.js';
import { type FlushMode } from './store/index.js';

export interface BrokerAdminOptions {
  /** Default true (giving `admin` at all asks for it). */
  readonly enabled?: boolean;
  /** Default 127.0.0.1; another address needs `token`. */
  readonly host?: string;
  /** Default 8082; 0 = ephemeral. */
  readonly port?: number;
  /** Bearer token (≥ 16 characters) required on every route but /health. */
  readonly token?: string;
}

export interface BrokerAuthOptions {
  /** Access keys of the gRPC endpoint, with the config's `users`. No user at all = authentication off. */
  readonly users?: readonly AuthUser[];
  /** How far a client's `x-mq-date-time` may be from the broker's clock. Default 15 min. */
  readonly maxClockSkewMs?: number;
}

export interface BrokerOptions {
  /** Root of all broker state (store, config, timers, transactions). */
  readonly dataDir: string;
  /** gRPC host. Default 127.0.0.1. */
  readonly host?: string;
  /** gRPC port. Default 8081 (RocketMQ proxy's); 0 = ephemeral (read `address` after start). */
  readonly port?: number;
  /** `host:port` given to clients in routes; default the bound address (0.0.0.0 → 127.0.0.1). */
  readonly advertisedEndpoint?: string;
  /** `async` (default): acked once written; `sync`: acked after fdatasync. */
  readonly flushMode?: FlushMode;
  /** Commit-log segment size in bytes; default the store's. */
  readonly segmentSize?: number;
  /** Prepare the next segment ahead of time (zero-filled). Default false. */
  readonly preallocate?: boolean;
  readonly auth?: BrokerAuthOptions;
  /** The declarative config: a JSON file's path, or the same document as an object. */
  readonly config?: string | BrokerConfigInput;
  /** The HTTP admin API; off unless given. */
  readonly admin?: BrokerAdminOptions;
  /** Default: the console, prefixed `[broker]`. */
  readonly logger?: BrokerCoreLogger;
  /** Where `{"env": "NAME"}` secrets of the config are read. Default process.env. */
  readonly env?: NodeJS.ProcessEnv;
  /** Further core options (clock, auto-creation, limits, transaction timing, …). */
  readonly core?: Omit<BrokerCoreOptions, 'dataDir' | 'flushMode' | 'segmentSize' | 'preallocate' | 'logger'>;
}

/** Where a started broker listens. */
export interface BrokerAddress {
  /** The bound gRPC host and port. */
  readonly host: string;
  readonly port: number;
  /** `host:port` for clients (`ROCKETMQ_ENDPOINTS`). */
  readonly endpoint: string;
  /** The admin API's bound address, when it runs. */
  readonly admin?: { readonly host: string; readonly port: number; readonly url: string };
}

const consoleLogger: BrokerCoreLogger = {
  log: (m) => console.log(`[broker] ${m}`),
  warn: (m) => console.warn(`[broker] ${m}`),
  error: (m) => console.error(`[broker] ${m}`),
};

function readConfig(options: BrokerOptions): BrokerConfigDocument | undefined {
  const env = options.env ?? process.env;
  if (options.config === undefined) return undefined;
  if (typeof options.config === 'string') return loadBrokerConfigFile(options.config, env);
  return parseConfigOrThrow(options.config, 'broker config', env);
}

/** The options' users and the config's, each access key once; undefined when there are none. */
export function authOf(
  options: BrokerOptions,
  config: BrokerConfigDocument | undefined,
): AuthOptions | undefined {
  const users: AuthUser[] = [...(options.auth?.users ?? []), ...(config?.users ?? [])];
  const seen = new Set<string>();
  for (const user of users) {
    if (seen.has(user.accessKey)) {
      throw new RangeError(
        `access key ${JSON.stringify(user.accessKey)} is defined twice (options and config?)`,
      );
    }
    seen.add(user.accessKey);
  }
  if (users.length === 0) return undefined;
  return {
    users,
    ...(options.auth?.maxClockSkewMs === undefined ? {} : { maxClockSkewMs: options.auth.maxClockSkewMs }),
  };
}

function adminOf(
  options: BrokerOptions,
): (Required<Omit<BrokerAdminOptions, 'token'>> & { token?: string }) | undefined {
  const admin = options.admin;
  if (admin === undefined || admin.enabled === false) return undefined;
  const token = admin.token === '' ? undefined : admin.token;
  return {
    enabled: true,
    host: admin.host ?? DEFAULT_ADMIN_HOST,
    port: admin.port ?? DEFAULT_ADMIN_PORT,
    ...(token === undefined ? {} : { token }),
  };
}

function hostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class Broker {
  readonly core: BrokerCore;
  readonly #grpc: GrpcMessagingServer;
  readonly #admin: AdminHttpServer | undefined;
  readonly #address: BrokerAddress;
  readonly #logger: BrokerCoreLogger;
  #closing: Promise<void> | undefined;

  private constructor(
    core: BrokerCore,
    grpc: GrpcMessagingServer,
    admin: AdminHttpServer | undefined,
    logger: BrokerCoreLogger,
  ) {
    this.core = core;
    this.#grpc = grpc;
    this.#admin = admin;
    this.#logger = logger;
    const bound = grpc.address!;
    const advertised = grpc.advertisedEndpoint;
    const adminBound = admin?.address;
    this.#address = Object.freeze({
      host: bound.host,
      port: bound.port,
      endpoint: hostPort(advertised.host, advertised.port),
      ...(adminBound
        ? {
            admin: Object.freeze({
              ...adminBound,
              url: `http://${hostPort(adminBound.host, adminBound.port)}`,
            }),
          }
        : {}),
    });
  }

  /**
   * Reads the config, opens the core, applies the config, then listens (gRPC, then admin).
   * @throws BrokerConfigFileError (bad config, before anything is opened); RangeError (bad options,
   *   an admin API exposed without a token); the core's errors (StoreLockedError: another broker
   *   has the directory); Error naming the address when a port is taken. Nothing stays open.
   */
  static async start(options: BrokerOptions): Promise<Broker> {
    if (typeof options?.dataDir !== 'string' || options.dataDir === '') {
      throw new RangeError('Broker.start needs a dataDir');
    }
    const logger = options.logger ?? consoleLogger;
    // Everything that can be checked without side effects is checked first.
    const config = readConfig(options);
    const auth = authOf(options, config);
    const admin = adminOf(options);
    if (admin) checkAdminExposure(admin.host, admin.token);
    const host = options.host ?? DEFAULT_GRPC_HOST;
    const port = options.port ?? DEFAULT_GRPC_PORT;

    const core = await BrokerCore.open({
      ...options.core,
      dataDir: options.dataDir,
      logger,
      ...(options.flushMode === undefined ? {} : { flushMode: options.flushMode }),
      ...(options.segmentSize === undefined ? {} : { segmentSize: options.segmentSize }),
      ...(options.preallocate === undefined ? {} : { preallocate: options.preallocate }),
    });
    let grpc: GrpcMessagingServer | undefined;
    let adminServer: AdminHttpServer | undefined;
    try {
      if (config) {
        const report = applyBrokerConfig(core, config);
        logger.log(
          `config applied: ${report.created.length} created, ${report.updated.length} updated, ` +
            `${report.unchanged.length} unchanged` +
            (report.created.length + report.updated.length > 0
              ? ` (${[...report.created, ...report.updated].join(', ')})`
              : ''),
        );
      }
      grpc = new GrpcMessagingServer({
        core,
        host,
        port,
        logger,
        ...(options.advertisedEndpoint === undefined
          ? {}
          : { advertisedEndpoint: options.advertisedEndpoint }),
        ...(auth === undefined ? {} : { auth }),
        ...(options.core?.clock === undefined ? {} : { clock: options.core.clock }),
      });
      await grpc.listen();
      if (admin) {
        adminServer = new AdminHttpServer({
          core,
          host: admin.host,
          port: admin.port,
          logger,
          ...(admin.token === undefined ? {} : { token: admin.token }),
        });
        await adminServer.listen();
      }
    } catch (err) {
      await Promise.allSettled([grpc?.close(0), adminServer?.close(0)]);
      await core.close().catch((closeErr: unknown) => {
        logger.error(`closing the core after a failed start failed: ${String(closeErr)}`);
      });
      throw err;
    }
    const broker = new Broker(core, grpc, adminServer, logger);
    const a = broker.address;
    logger.log(
      `ready: RocketMQ gRPC on ${hostPort(a.host, a.port)} (clients use ${a.endpoint}, ` +
        `authentication ${auth ? `on, ${auth.users.length} user(s)` : 'off'})` +
        (a.admin
          ? `, admin API on ${a.admin.url}${admin?.token ? ' (token required)' : ' (loopback only)'}`
          : ''),
    );
    return broker;
  }

  /** Where the broker listens. */
  get address(): BrokerAddress {
    return this.#address;
  }

  /** The admin API's bound address, when it runs. */
  get adminAddress(): { host: string; port: number } | undefined {
    return this.#admin?.address;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /**
   * Stops the gRPC endpoint (streams end cleanly, calls under way get `graceMs`) and the admin API,
   * then closes the core (flush, checkpoint). Idempotent.
   */
  close(graceMs?: number): Promise<void> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  async #close(graceMs: number | undefined): Promise<void> {
    const servers = await Promise.allSettled([this.#grpc.close(graceMs), this.#admin?.close(graceMs)]);
    for (const result of servers) {
      if (result.status === 'rejected')
        this.#logger.error(`closing an endpoint failed: ${String(result.reason)}`);
    }
    await this.core.close();
    this.#logger.log('closed: store flushed and checkpointed');
  }
}

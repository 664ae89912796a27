/**
 * GrpcMessagingServer: `apache.rocketmq.v2.MessagingService` in front of a BrokerCore, so that the
 * official RocketMQ 5 SDKs (and our own client) work against the built-in broker unmodified.
 *
 * - Every RPC of the service is registered; unary ones go through `unary()`, so a handler's throw is
 *   a status response, never a crash. RPCs no client needs answer UNSUPPORTED (unsupported.ts).
 * - Inbound messages up to 16 MiB (grpc-js's 4 MiB default rejects a 4 MiB body, PROTOCOL.md §0);
 *   larger frames are refused by grpc-js itself with RESOURCE_EXHAUSTED. Outbound messages are
 *   capped at the clients' 4 MiB inbound limit: the advertised max body (4 MiB − 64 KiB) keeps
 *   deliveries under it, and anything larger fails here, visibly, rather than in the client.
 * - Plaintext (the clients use TLS only with `sslEnabled`); put TLS in front when exposed.
 * - The endpoint advertised in routes and assignments never changes for the life of the server
 *   (a change makes the official client open a second telemetry session, PROTOCOL.md §2).
 */
import {
  Server,
  ServerCredentials,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { type BrokerCoreLogger } from '../core/broker-core-types.js';
import { type BrokerCore } from '../core/broker-core.js';
import { systemClock, type Clock } from '../core/clock.js';
import { Authenticator, type AuthOptions } from './auth.js';
import { CallContext, type CallLike } from './call-context.js';
import { ClientRegistry } from './client-registry.js';
import { type HandlerDeps } from './handler-deps.js';
import { messagingServiceDefinition } from './proto.js';
import { eagerStreamWrites } from './eager-stream-writes.js';
import { encodeReceiveFrame } from './proto-codec.js';
import { receiveMessageHandler } from './receive-message.js';
import { SendFlowControl } from './send-flow-control.js';
import { listenTcp, type TcpListener } from './tcp-listener.js';
import { telemetryHandler } from './telemetry.js';
import { unaryHandlers } from './unary-handlers.js';
import { pullMessageHandler } from './unsupported.js';

/** Largest request accepted: 16 MiB, well above a 4 MiB body (PROTOCOL.md §0). */
export const MAX_RECEIVE_MESSAGE_BYTES = 16 * 1024 * 1024;
/** Largest response sent: the official Node client's inbound limit, 4 MiB (PROTOCOL.md §3). */
export const MAX_SEND_MESSAGE_BYTES = 4 * 1024 * 1024;
/** RocketMQ proxy's gRPC port. */
export const DEFAULT_GRPC_PORT = 8081;
export const DEFAULT_GRPC_HOST = '127.0.0.1';
/** How long `close()` lets calls under way finish before cutting them. */
export const DEFAULT_CLOSE_GRACE_MS = 5_000;

export interface GrpcMessagingServerOptions {
  core: BrokerCore;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8081; 0 = ephemeral. */
  port?: number;
  /** host:port advertised in routes/assignments; default `${host}:${boundPort}` (0.0.0.0 → 127.0.0.1) */
  advertisedEndpoint?: string;
  /** undefined = authentication off. */
  auth?: AuthOptions;
  logger?: BrokerCoreLogger;
  clock?: Clock;
  /** Bytes of SendMessage requests stored at once before 42900 (flow control). Default 256 MiB. */
  maxInFlightSendBytes?: number;
}

const consoleLogger: BrokerCoreLogger = {
  log: (m) => console.log(`[grpc] ${m}`),
  warn: (m) => console.warn(`[grpc] ${m}`),
  error: (m) => console.error(`[grpc] ${m}`),
};

/** Hosts that mean "every interface": a client cannot dial them, so 127.0.0.1 is advertised. */
const WILDCARD_HOSTS = new Set(['', '0.0.0.0', '::', '[::]']);

export class GrpcMessagingServer {
  readonly #core: BrokerCore;
  readonly #host: string;
  readonly #port: number;
  readonly #advertised: { host: string; port: number } | undefined;
  readonly #auth: Authenticator | undefined;
  readonly #logger: BrokerCoreLogger;
  readonly #clock: Clock;
  readonly #clients: ClientRegistry;
  readonly #sendFlow: SendFlowControl;
  readonly #shutdown = new AbortController();
  readonly #server: Server;
  #listener: TcpListener | undefined;
  #address: { host: string; port: number } | undefined;
  #state: 'new' | 'binding' | 'listening' | 'closing' | 'closed' = 'new';
  #closing: Promise<void> | undefined;

  /** @throws RangeError for a bad port, advertised endpoint or auth configuration */
  constructor(options: GrpcMessagingServerOptions) {
    if (!options?.core) throw new RangeError('GrpcMessagingServer needs a core');
    this.#core = options.core;
    this.#host = options.host ?? DEFAULT_GRPC_HOST;
    this.#port = options.port ?? DEFAULT_GRPC_PORT;
    if (!Number.isInteger(this.#port) || this.#port < 0 || this.#port > 65_535) {
      throw new RangeError(`port must be an integer in 0..65535, got ${String(options.port)}`);
    }
    this.#advertised =
      options.advertisedEndpoint === undefined ? undefined : parseEndpoint(options.advertisedEndpoint);
    this.#logger = options.logger ?? consoleLogger;
    this.#clock = options.clock ?? systemClock;
    this.#auth = options.auth === undefined ? undefined : new Authenticator(options.auth, this.#clock);
    this.#clients = new ClientRegistry({ core: this.#core, clock: this.#clock, logger: this.#logger });
    this.#sendFlow = new SendFlowControl(options.maxInFlightSendBytes);
    const definition = servedDefinition();
    this.#server = new Server({
      'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES,
      'grpc.max_send_message_length': MAX_SEND_MESSAGE_BYTES,
      // ReceiveMessage answers (bounded in count and bytes) reach HTTP/2 in one go.
      interceptors: [eagerStreamWrites([definition.ReceiveMessage!.path])],
    });
    this.#server.addService(definition, this.#implementation(this.#deps()));
  }

  /**
   * Binds and starts serving. Resolves with the bound address (the real port when `port` was 0).
   * @throws Error naming the address when it cannot be bound (port busy, bad host); Error when called
   *   twice or after `close()`
   */
  async listen(): Promise<{ host: string; port: number }> {
    if (this.#state !== 'new') throw new Error(`the gRPC server cannot listen: it is ${this.#state}`);
    this.#state = 'binding';
    const target = this.#host.includes(':') ? `[${this.#host}]:${this.#port}` : `${this.#host}:${this.#port}`;
    try {
      // Our own listener, for TCP_NODELAY (tcp-listener.ts); grpc-js serves what it accepts.
      const injector = this.#server.createConnectionInjector(ServerCredentials.createInsecure());
      const listener = await listenTcp(this.#host, this.#port, (socket) => injector.injectConnection(socket));
      if (this.#state !== 'binding') {
        // close() came while binding: it has shut the server down already (and cuts what came since).
        listener.destroyAll();
        await listener.close();
        throw new Error('the gRPC server was closed while binding');
      }
      this.#listener = listener;
      const port = listener.port;
      this.#address = { host: this.#host, port };
      this.#state = 'listening';
      this.#logger.log(`RocketMQ gRPC endpoint listening on ${target.replace(/:\d+$/, `:${port}`)}`);
      return { ...this.#address };
    } catch (err) {
      if (this.#state === 'binding') this.#state = 'new';
      const reason = err instanceof Error ? err.message : String(err);
      throw new Error(`cannot listen on ${target}: ${reason}`, { cause: err });
    }
  }

  /** The bound address once listening; undefined before and after. */
  get address(): { host: string; port: number } | undefined {
    return this.#address ? { ...this.#address } : undefined;
  }

  /** The host:port advertised to clients (routes, assignments, `store_host`). */
  get advertisedEndpoint(): { host: string; port: number } {
    if (this.#advertised) return { ...this.#advertised };
    const host = WILDCARD_HOSTS.has(this.#host) ? '127.0.0.1' : this.#host;
    return { host, port: this.#address?.port ?? this.#port };
  }

  /** The registry of connected clients (tests, admin). */
  get clients(): ClientRegistry {
    return this.#clients;
  }

  /**
   * Stops taking calls: streams are told to end (telemetry with OK, long polls at once), calls under
   * way get `graceMs` to finish, then whatever is left is cut. Idempotent. Does not close the core.
   */
  close(graceMs = DEFAULT_CLOSE_GRACE_MS): Promise<void> {
    this.#closing ??= this.#close(graceMs);
    return this.#closing;
  }

  async #close(graceMs: number): Promise<void> {
    this.#state = 'closing';
    this.#shutdown.abort();
    const listener = this.#listener;
    // Stops accepting now; resolves once grpc-js has closed (or the grace cut) every connection.
    const listenerClosed = listener?.close();
    await new Promise<void>((resolve) => {
      const force = setTimeout(
        () => {
          this.#server.forceShutdown();
          resolve();
        },
        Number.isFinite(graceMs) && graceMs > 0 ? graceMs : 0,
      );
      force.unref();
      this.#server.tryShutdown(() => {
        clearTimeout(force);
        resolve();
      });
    });
    // Sessions are closed (or forced) by now; a socket whose peer never answered the close is cut.
    listener?.destroyAll();
    await listenerClosed;
    this.#listener = undefined;
    this.#clients.close();
    this.#address = undefined;
    this.#state = 'closed';
  }

  #deps(): HandlerDeps {
    return {
      core: this.#core,
      clients: this.#clients,
      endpoint: () => this.advertisedEndpoint,
      authenticate: (call: CallLike) => CallContext.fromCall(call, this.#auth?.authenticate(call.metadata)),
      logger: this.#logger,
      clock: this.#clock,
      shutdown: this.#shutdown.signal,
    };
  }

  #implementation(deps: HandlerDeps): UntypedServiceImplementation {
    return {
      ...unaryHandlers(deps, this.#sendFlow),
      ReceiveMessage: receiveMessageHandler(deps),
      Telemetry: telemetryHandler(deps),
      PullMessage: pullMessageHandler(deps),
    } as UntypedServiceImplementation;
  }
}

/**
 * `host:port` with a host clients can dial and a port 1..65535. IPv6 literals are refused: the
 * official client builds its target from them without brackets (PROTOCOL.md §2).
 */
export function parseEndpoint(text: string): { host: string; port: number } {
  const m = typeof text === 'string' ? /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(text) : null;
  const port = m ? Number(m[2]) : NaN;
  if (!m || port < 1 || port > 65_535 || WILDCARD_HOSTS.has(m[1]!)) {
    throw new RangeError(
      `advertised endpoint ${JSON.stringify(text)} must be host:port with an IPv4 address or host name`,
    );
  }
  return { host: m[1]!, port };
}

/** The service as this server runs it: ReceiveMessage frames encoded directly (proto-codec.ts). */
function servedDefinition(): ServiceDefinition {
  const definition = messagingServiceDefinition();
  const receive = definition.ReceiveMessage;
  if (!receive) throw new Error('ReceiveMessage is not in the MessagingService protos');
  return { ...definition, ReceiveMessage: { ...receive, responseSerialize: encodeReceiveFrame } };
}

/**
 * Where the module connected: the endpoints (of the remote server, or of the embedded broker it
 * started), the connection options every client of the module uses, and a connected `RpcClient`.
 *
 * ```ts
 * // a RocketMQServer (transport) on the same broker as the module:
 * app.connectMicroservice({ strategy: new RocketMQServer({ endpoints: app.get(RocketMQConnection).endpoints }) });
 * ```
 *
 * Why each consumer gets its own client id: RocketMQ keys a client's Settings (group, FIFO mode,
 * retry policy) and its leases by `x-mq-client-id`, and NotifyClientTermination hands back every
 * lease of that id. Listeners sharing one id would overwrite each other's Settings, and one
 * listener pausing would release the messages the others are still handling. So `client` (the
 * module's shared connection: health probes, routes, request-reply) is one client, and each
 * listener connects its own from `clientOptions` (as each Java PushConsumer instance does).
 */
import { type Broker } from '@rocketnest/broker/broker.js';
import { type GroupOptions } from '@rocketnest/broker/core/group-registry.js';
import { RpcClient, type ClientOptions } from '../../client/index.js';
import { nestBrokerLogger, nestClientLogger } from '../logging/nest-loggers.js';
import {
  DEFAULT_EMBEDDED_DATA_DIR,
  DEFAULT_EMBEDDED_PORT,
  type ResolvedRocketMQOptions,
} from './rocketmq-options.js';

export class RocketMQConnection {
  /** `host:port[,host:port]`: give it to a `RocketMQServer` or another client to reach the same broker. */
  readonly endpoints: string;
  /** True when the module started the broker itself. */
  readonly embedded: boolean;
  /** The options each client of the module connects with (endpoints, namespace, credentials, TLS, timeouts). */
  readonly clientOptions: ClientOptions;
  /** The module's shared connection (health probes, routes, request-reply). */
  readonly client: RpcClient;
  /** The embedded broker, when the module started one (its core is reachable for tests and admin). */
  readonly broker: Broker | undefined;
  #closing: Promise<void> | undefined;

  private constructor(client: RpcClient, clientOptions: ClientOptions, broker: Broker | undefined) {
    this.client = client;
    this.clientOptions = clientOptions;
    this.endpoints = clientOptions.endpoints;
    this.broker = broker;
    this.embedded = broker !== undefined;
  }

  /**
   * Starts the embedded broker when no endpoints are configured, then connects.
   * @throws the broker's start errors (data directory held, port taken), the client's
   *   (StartupTimeoutError, UNAUTHORIZED, …). Nothing stays open after a failure.
   */
  static async open(options: ResolvedRocketMQOptions): Promise<RocketMQConnection> {
    let broker: Broker | undefined;
    let endpoints: string;
    if (options.target.kind === 'remote') {
      endpoints = options.target.endpoints;
    } else {
      // Loaded only when embedded: an app talking to a remote server never loads the broker.
      const { Broker: BrokerClass } = await import('@rocketnest/broker/broker.js');
      const embedded = options.target.options;
      broker = await BrokerClass.start({
        ...embedded.broker,
        dataDir: embedded.dataDir ?? DEFAULT_EMBEDDED_DATA_DIR,
        port: embedded.port ?? DEFAULT_EMBEDDED_PORT,
        ...(embedded.host === undefined ? {} : { host: embedded.host }),
        ...(embedded.flushMode === undefined ? {} : { flushMode: embedded.flushMode }),
        logger: nestBrokerLogger(),
      });
      endpoints = broker.address.endpoint;
    }
    const clientOptions: ClientOptions = {
      endpoints,
      ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
      ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
      ...(options.tls === undefined ? {} : { tls: options.tls }),
      ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }),
      ...(options.startupTimeoutMs === undefined ? {} : { startupTimeoutMs: options.startupTimeoutMs }),
      logger: nestClientLogger('RocketMQ'),
    };
    try {
      const client = await RpcClient.connect(clientOptions);
      return new RocketMQConnection(client, clientOptions, broker);
    } catch (err) {
      await broker?.close();
      throw err;
    }
  }

  /**
   * Applies a consumer group's policy where the module can: on the embedded broker through its core
   * (created, or updated when it exists); on a remote server the group's settings are the server's
   * (false is returned, the caller says what to configure there).
   */
  configureGroup(group: string, policy: GroupOptions): boolean {
    const broker = this.broker;
    if (broker === undefined || broker.core.closed) return false;
    const name = this.clientOptions.namespace ? `${this.clientOptions.namespace}%${group}` : group;
    if (broker.core.getGroup(name) === undefined) broker.core.createGroup(name, policy);
    else if (Object.keys(policy).length > 0) broker.core.updateGroup(name, policy);
    return true;
  }

  /** Closes the shared client, then the embedded broker (flush, checkpoint). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.client.close();
      await this.broker?.close();
    })();
    return this.#closing;
  }
}

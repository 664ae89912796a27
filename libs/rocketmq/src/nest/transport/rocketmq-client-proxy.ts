/**
 * RocketMQClientProxy: Nest's `ClientProxy` on our client, the sending side of RocketMQServer.
 *
 * ```ts
 * @Module({
 *   imports: [
 *     ClientsModule.register([
 *       { name: 'ORDERS', customClass: RocketMQClientProxy, options: { endpoints: '127.0.0.1:8081' } },
 *     ]),
 *   ],
 * })
 * class AppModule {}
 *
 * constructor(@Inject('ORDERS') private readonly orders: ClientProxy) {}
 * this.orders.emit('orders:created', order);                     // a message to topic orders, tag created
 * const quote = await firstValueFrom(this.orders.send('pricing:quote', cart)); // request-reply
 * ```
 *
 * (or `new RocketMQClientProxy(options)` directly.)
 *
 * - `emit(pattern, data)` sends one message (pattern `topic` or `topic:tag`, payload through the
 *   codec); the Observable emits its SendReceipt once the server stored it (hot: it is sent whether
 *   or not anyone subscribes).
 * - `send(pattern, data)` is a request (reply-requester.ts): the Observable emits the reply of the
 *   `@MessagePattern` handler and completes, or errors with RemoteHandlerError (the handler failed)
 *   or ReplyTimeoutError (no reply within `replyTimeoutMs`). Cold: nothing is sent until subscribed.
 *   Unsubscribing early stops waiting (the request may still be handled).
 * - `new RocketMQRecord(data, { keys, properties })` as data adds message keys and user properties;
 *   the metadata a dispatch hook sets (`setOnDispatchHook`) travels as user properties too.
 * - Connections are lazy: the producer starts on the first emit/send (or `connect()`), the reply
 *   consumer on the first `send`. A failed start is retried on the next use. `close()` fails requests
 *   still waiting, lets sends under way finish and closes everything; the proxy can connect again.
 *
 * The reply topic must exist (see ReplyRequester: created on first use by the built-in broker, by
 * `mqadmin updateTopic` on Apache RocketMQ).
 */
import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { ClientProxy, type ReadPacket, type WritePacket } from '@nestjs/microservices';
import { type Observable } from 'rxjs';
import {
  ClientClosedError,
  Producer,
  RpcClient,
  type ClientOptions,
  type ProducerOptions,
  type SendReceipt,
} from '../../client/index.js';
import {
  type PayloadCodec,
  type PayloadDeserializer,
  type PayloadSerializer,
} from '../serialization/payload-codec.js';
import { clientLoggerOf } from '../request-reply/client-logger-of.js';
import { ReplyRequester } from '../request-reply/reply-requester.js';
import { parsePattern, type ParsedPattern } from './pattern-routes.js';
import { RocketMQRecord } from './rocketmq-record.js';
import { codecOf, connectionOf } from './rocketmq-server-options.js';
import { RocketMQTransportStatus } from './transport-status.js';

/** How long `send()` waits for a reply unless the options say. */
export const DEFAULT_REPLY_TIMEOUT_MS = 30_000;

export interface RocketMQClientProxyOptions extends Omit<ClientOptions, 'logger'> {
  /** `host:port` of a RocketMQ 5 gRPC endpoint (with the module's embedded broker: `RocketMQConnection.endpoints`). */
  readonly endpoints: string;
  /** Payload encoding both ways. Default JSON, with Buffer and string passthrough. */
  readonly codec?: PayloadCodec;
  /** Encodes outgoing payloads instead of the codec. */
  readonly serializer?: PayloadSerializer;
  /** Decodes replies instead of the codec. */
  readonly deserializer?: PayloadDeserializer;
  /** Where replies come back. Default `rocketnest-reply`. */
  readonly replyTopic?: string;
  /** How long `send()` waits for the reply. Default 30 s. */
  readonly replyTimeoutMs?: number;
  /** Producer settings (see `ProducerOptions`). */
  readonly producer?: Pick<ProducerOptions, 'topics' | 'maxAttempts' | 'retryBackoff' | 'batching'>;
}

/** Events of `client.on(event, callback)`. */
export type RocketMQClientProxyEvents = {
  /** Connecting failed (the emit/send that needed it fails with the same error). */
  error: (error: unknown) => void;
};

/** What `client.unwrap()` gives once connected. */
export interface RocketMQClientProxyInternals {
  readonly producer: Producer;
  /** Undefined until the first `send()`. */
  readonly requester: ReplyRequester | undefined;
}

interface Requesting {
  readonly client: RpcClient;
  readonly requester: ReplyRequester;
}

/*
 * The Status type parameter stays `string`: ClientsModule's `customClass` takes a
 * `Type<ClientProxy>`, and a narrower status would make the (invariant) subject incompatible.
 * `status` is re-typed below.
 */
export class RocketMQClientProxy extends ClientProxy<RocketMQClientProxyEvents, string> {
  readonly #options: RocketMQClientProxyOptions;
  readonly #codec: PayloadCodec;
  readonly #replyTimeoutMs: number;
  readonly #logger = new Logger(RocketMQClientProxy.name);
  readonly #events = new EventEmitter();
  #producer: Promise<Producer> | undefined;
  #requesting: Promise<Requesting> | undefined;
  /** What is started, for `unwrap()`. */
  #started: { producer?: Producer; requester?: ReplyRequester } = {};
  #closing: Promise<void> | undefined;

  constructor(options: RocketMQClientProxyOptions) {
    super();
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('RocketMQClientProxy needs options');
    }
    if (typeof options.endpoints !== 'string' || options.endpoints.trim() === '') {
      throw new TypeError('RocketMQClientProxy needs endpoints (host:port of a RocketMQ 5 gRPC endpoint)');
    }
    const timeout = options.replyTimeoutMs ?? DEFAULT_REPLY_TIMEOUT_MS;
    if (typeof timeout !== 'number' || !Number.isFinite(timeout) || timeout <= 0) {
      throw new RangeError(`replyTimeoutMs must be a number > 0, got ${String(timeout)}`);
    }
    this.#options = options;
    this.#codec = codecOf(options);
    this.#replyTimeoutMs = timeout;
    this.#events.on('error', () => undefined); // 'error' without a listener must not throw
  }

  /** Status changes: connecting, connected, draining, closed, error. */
  override get status(): Observable<RocketMQTransportStatus> {
    return super.status as Observable<RocketMQTransportStatus>;
  }

  /** Starts the producer (once; again after a failure or a close). */
  connect(): Promise<Producer> {
    this.#producer ??= this.#startProducer().catch((err: unknown) => {
      this.#producer = undefined;
      this._status$.next(RocketMQTransportStatus.ERROR);
      this.#emitError(err);
      throw err;
    });
    return this.#producer;
  }

  async #startProducer(): Promise<Producer> {
    await this.#closing; // a close under way finishes first
    this._status$.next(RocketMQTransportStatus.CONNECTING);
    const producer = await Producer.start({
      ...connectionOf(this.#options),
      ...this.#options.producer,
      logger: clientLoggerOf(this.#logger),
    });
    this.#started.producer = producer;
    this._status$.next(RocketMQTransportStatus.CONNECTED);
    return producer;
  }

  #requester(): Promise<Requesting> {
    this.#requesting ??= this.#startRequester().catch((err: unknown) => {
      this.#requesting = undefined;
      this.#emitError(err);
      throw err;
    });
    return this.#requesting;
  }

  /**
   * The producer of the current connection. Nest's emit/send connect first; a call still under way
   * when `close()` ran finds none and fails, instead of opening connections nobody will close.
   */
  #connected(): Promise<Producer> {
    return (
      this.#producer ?? Promise.reject(new ClientClosedError('the client proxy was closed during the call'))
    );
  }

  async #startRequester(): Promise<Requesting> {
    const producer = await this.#connected();
    // Its own connection: an Apache proxy keeps one set of settings per client id.
    const client = await RpcClient.connect({
      ...connectionOf(this.#options),
      logger: clientLoggerOf(this.#logger),
    });
    try {
      const requester = await ReplyRequester.start({
        client,
        producer,
        codec: this.#codec,
        logger: this.#logger,
        ...(this.#options.replyTopic === undefined ? {} : { replyTopic: this.#options.replyTopic }),
      });
      this.#started.requester = requester;
      return { client, requester };
    } catch (err) {
      await client.close();
      throw err;
    }
  }

  /** Fails requests still waiting, lets sends under way finish, closes the connections. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const requesting = this.#requesting;
      const producer = this.#producer;
      this.#requesting = undefined;
      this.#producer = undefined;
      if (!requesting && !producer) return;
      this._status$.next(RocketMQTransportStatus.DRAINING);
      const started = await requesting?.catch(() => undefined);
      if (started) {
        await started.requester.close();
        await started.client.close();
      }
      await (await producer?.catch(() => undefined))?.close();
      // Only now: starts that were under way have recorded what they started.
      this.#started = {};
      this._status$.next(RocketMQTransportStatus.CLOSED);
    })().finally(() => {
      this.#closing = undefined;
    });
    return this.#closing;
  }

  override on<
    EventKey extends keyof RocketMQClientProxyEvents,
    EventCallback extends RocketMQClientProxyEvents[EventKey],
  >(event: EventKey, callback: EventCallback): void {
    this.#events.on(event, callback);
  }

  /**
   * The producer and (after the first `send`) the reply requester.
   * @throws Error before a connect completed (call `connect()` first)
   */
  unwrap<T = RocketMQClientProxyInternals>(): T {
    const { producer, requester } = this.#started;
    if (!producer) throw new Error('Not initialized. Please call the "connect" method first.');
    const internals: RocketMQClientProxyInternals = { producer, requester };
    return internals as T;
  }

  protected publish(packet: ReadPacket, callback: (packet: WritePacket) => void): () => void {
    let disposed = false;
    void (async () => {
      try {
        const { topic, tag } = this.#destinationOf(packet);
        const { requester } = await this.#requester();
        const { payload, keys, properties } = this.#contentOf(packet);
        const response = await requester.request(
          {
            topic,
            ...(tag === undefined ? {} : { tag }),
            payload,
            ...(keys === undefined ? {} : { keys: [...keys] }),
            properties,
          },
          { timeoutMs: this.#replyTimeoutMs },
        );
        if (!disposed) callback({ response, isDisposed: true });
      } catch (err) {
        if (!disposed) callback({ err, isDisposed: true });
      }
    })();
    return () => {
      disposed = true;
    };
  }

  protected async dispatchEvent<T = SendReceipt>(packet: ReadPacket): Promise<T> {
    const { topic, tag } = this.#destinationOf(packet);
    const producer = await this.#connected();
    const { payload, keys, properties } = this.#contentOf(packet);
    const encoded = this.#codec.serialize(payload);
    const receipt = await producer.send({
      topic,
      body: encoded.body,
      ...(tag === undefined ? {} : { tag }),
      ...(keys === undefined ? {} : { keys }),
      properties: { ...properties, ...encoded.properties },
    });
    return receipt as T;
  }

  #destinationOf(packet: ReadPacket): ParsedPattern {
    return parsePattern(this.normalizePattern(packet.pattern));
  }

  #contentOf(packet: ReadPacket): {
    payload: unknown;
    keys: readonly string[] | undefined;
    properties: Record<string, string>;
  } {
    const record = packet.data instanceof RocketMQRecord ? (packet.data as RocketMQRecord) : undefined;
    return {
      payload: record ? record.data : packet.data,
      keys: record?.options.keys,
      properties: { ...packet.metadata, ...record?.options.properties },
    };
  }

  #emitError(error: unknown): void {
    try {
      this.#events.emit('error', error);
    } catch (err) {
      this.#logger.error(`an 'error' listener threw: ${String(err)}`);
    }
  }
}

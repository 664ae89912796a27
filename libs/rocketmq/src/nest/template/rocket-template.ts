/**
 * RocketTemplate: the module's producer, injectable anywhere, with every send mode RocketMQ has.
 * Destinations are `topic` or `topic:tag` (rocketmq-spring's); payloads go through the module's
 * codec (JSON by default; a Buffer or a string as it is).
 *
 * ```ts
 * constructor(private readonly rocket: RocketTemplate) {}
 *
 * await this.rocket.send('orders:created', order, { keys: [order.id] });
 * this.rocket.sendOneWay('audit', { seen: order.id });
 * await this.rocket.sendOrderly('orders:paid', payment, order.id);      // FIFO per order id
 * await this.rocket.sendDelayed('reminders', reminder, 60_000);          // in one minute
 * await this.rocket.sendDelayed('reminders', reminder, { level: 3 });    // RocketMQ delay level 3 (10 s)
 * await this.rocket.sendInTransaction('payments', payment, async () => ((await this.pay(payment)) ? 'COMMIT' : 'ROLLBACK'));
 * const quote = await this.rocket.request<Quote>('pricing:quote', cart, { timeout: 5_000 });
 * ```
 *
 * Concurrent sends are batched by the client (many messages per SendMessage call) and pipelined:
 * prefer many `send` promises at once over awaiting each in a loop.
 */
import { Injectable } from '@nestjs/common';
import {
  type LocalTransaction,
  type Producer,
  type ProducerMessage,
  type SendCallback,
  type SendReceipt,
  type TransactionResult,
} from '../../client/index.js';
import { type RocketMQConnection } from '../module/rocketmq-connection.js';
import { ReplyRequester } from '../request-reply/reply-requester.js';
import { type PayloadCodec } from '../serialization/payload-codec.js';
import { parseDestination } from './destination.js';

/** What can go with a message. */
export interface SendOptions {
  /** The tag; overrides the destination's `:tag`. */
  readonly tag?: string;
  /** Business keys (the broker indexes them: query by key). */
  readonly keys?: string | readonly string[];
  /** User properties (SQL92 filters see them). The codec's `content-type` cannot be overridden. */
  readonly properties?: Readonly<Record<string, string>>;
  /** The message id; default a fresh one. */
  readonly messageId?: string;
}

/**
 * A delay: milliseconds from now (a `number`), a `Date` to deliver at, or one of RocketMQ's 18
 * levels `{ level: 1..18 }` (1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h).
 */
export type Delay = number | Date | { readonly level: number };

export interface RequestOptions extends SendOptions {
  /** How long to wait for the reply, ms. */
  readonly timeout: number;
}

@Injectable()
export class RocketTemplate {
  readonly #producer: Producer;
  readonly #codec: PayloadCodec;
  readonly #connection: RocketMQConnection;
  readonly #replyTopic: string | undefined;
  #requester: Promise<ReplyRequester> | undefined;
  #closed = false;

  /** @internal built by RocketMQModule */
  constructor(producer: Producer, codec: PayloadCodec, connection: RocketMQConnection, replyTopic?: string) {
    this.#producer = producer;
    this.#codec = codec;
    this.#connection = connection;
    this.#replyTopic = replyTopic;
  }

  /** The underlying client producer (statistics, or sends with options the template does not cover). */
  get producer(): Producer {
    return this.#producer;
  }

  /**
   * Sends and resolves once the broker stored the message.
   * @throws RocketMQClientError with the server's status code (bad topic, body too large, …)
   */
  send(destination: string, payload: unknown, options: SendOptions = {}): Promise<SendReceipt> {
    return this.#producer.send(this.#message(destination, payload, options));
  }

  /** Sends without waiting; `callback` gets the receipt or the error (it is logged without one). */
  sendAsync(destination: string, payload: unknown, callback?: SendCallback, options: SendOptions = {}): void {
    const message = this.#message(destination, payload, options);
    if (callback === undefined) this.#producer.sendOneWay(message);
    else this.#producer.sendAsync(message, callback);
  }

  /** Fire and forget: a failure is only logged (and counted in `producer.stats.oneWayFailed`). */
  sendOneWay(destination: string, payload: unknown, options: SendOptions = {}): void {
    this.#producer.sendOneWay(this.#message(destination, payload, options));
  }

  /**
   * A FIFO message: messages with the same `hashKey` (an order id, a user id) form one message
   * group, stored in one queue and consumed in order by an `@Orderly()` listener.
   */
  sendOrderly(
    destination: string,
    payload: unknown,
    hashKey: string | number,
    options: SendOptions = {},
  ): Promise<SendReceipt> {
    return this.#producer.send({ ...this.#message(destination, payload, options), hashKey });
  }

  /**
   * A message delivered later: `delay` ms from now, at a `Date`, or at a RocketMQ delay level
   * (`{ level: 3 }` = 10 s). At most 24 h ahead on Apache's defaults.
   * @throws ILLEGAL_DELIVERY_TIME / ILLEGAL_DELAY_LEVEL errors for a bad delay
   */
  sendDelayed(
    destination: string,
    payload: unknown,
    delay: Delay,
    options: SendOptions = {},
  ): Promise<SendReceipt> {
    return this.#producer.send({ ...this.#message(destination, payload, options), ...delayFields(delay) });
  }

  /**
   * Sends each payload as its own message, batched into as few calls as the client's limits allow;
   * resolves with one receipt per payload, in order.
   * @throws the first failure (the other messages may have been stored)
   */
  sendBatch(
    destination: string,
    payloads: readonly unknown[],
    options: SendOptions = {},
  ): Promise<SendReceipt[]> {
    if (!Array.isArray(payloads)) throw new TypeError('sendBatch needs an array of payloads');
    const messages = payloads.map((p) => this.#message(destination, p, options));
    return Promise.all(messages.map((m) => this.#producer.send(m)));
  }

  /**
   * A transactional message: stored as a half message (invisible), then `localTransaction` runs
   * with its receipt and answers COMMIT (delivered), ROLLBACK (dropped) or UNKNOWN. UNKNOWN, or a
   * local transaction that throws, leaves the outcome to the broker's check-back, answered by the
   * application's `@TransactionChecker` for the topic.
   * @throws what the local transaction threw (the half message then waits for the check-back)
   */
  sendInTransaction(
    destination: string,
    payload: unknown,
    localTransaction: LocalTransaction,
    options: SendOptions = {},
  ): Promise<TransactionResult> {
    return this.#producer.sendInTransaction(this.#message(destination, payload, options), localTransaction);
  }

  /**
   * Request-reply: sends `payload` with a correlation id and resolves with the value a
   * `@MessagePattern` handler (served by RocketMQServer) returned. The reply consumer starts on the
   * first request.
   * @throws ReplyTimeoutError when no reply comes within `timeout`; RemoteHandlerError when the
   *   handler failed
   */
  async request<T>(destination: string, payload: unknown, options: RequestOptions): Promise<T> {
    if (typeof options !== 'object' || options === null || !(options.timeout > 0)) {
      throw new RangeError('request needs { timeout } in ms, > 0');
    }
    const { topic, tag } = parseDestination(destination);
    const requester = await this.#requesterStarted();
    const keys = keysOf(options.keys);
    return requester.request<T>(
      {
        topic,
        payload,
        ...((options.tag ?? tag) ? { tag: (options.tag ?? tag)! } : {}),
        ...(keys === undefined ? {} : { keys }),
        ...(options.properties === undefined ? {} : { properties: { ...options.properties } }),
      },
      { timeoutMs: options.timeout },
    );
  }

  /** @internal the module closes it at shutdown: the reply consumer, then the producer. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const requester = this.#requester;
    if (requester !== undefined) await (await requester.catch(() => undefined))?.close();
    await this.#producer.close();
  }

  #requesterStarted(): Promise<ReplyRequester> {
    if (this.#requester === undefined) {
      const starting = ReplyRequester.start({
        client: this.#connection.client,
        producer: this.#producer,
        codec: this.#codec,
        ...(this.#replyTopic === undefined ? {} : { replyTopic: this.#replyTopic }),
      });
      this.#requester = starting;
      // A failed start is not remembered: the next request tries again.
      starting.catch(() => {
        if (this.#requester === starting) this.#requester = undefined;
      });
    }
    return this.#requester;
  }

  #message(destination: string, payload: unknown, options: SendOptions): ProducerMessage {
    const { topic, tag } = parseDestination(destination);
    const encoded = this.#codec.serialize(payload);
    const effectiveTag = options.tag ?? tag;
    return {
      topic,
      body: encoded.body,
      ...(effectiveTag === undefined ? {} : { tag: effectiveTag }),
      ...(options.keys === undefined ? {} : { keys: options.keys }),
      properties: { ...options.properties, ...encoded.properties },
      ...(options.messageId === undefined ? {} : { messageId: options.messageId }),
    };
  }
}

function keysOf(keys: string | readonly string[] | undefined): string[] | undefined {
  if (keys === undefined) return undefined;
  return typeof keys === 'string' ? [keys] : [...keys];
}

function delayFields(delay: Delay): Pick<ProducerMessage, 'delayMs' | 'deliverAt' | 'delayLevel'> {
  if (delay instanceof Date) return { deliverAt: delay };
  if (typeof delay === 'number') return { delayMs: delay };
  if (typeof delay === 'object' && delay !== null && 'level' in delay) return { delayLevel: delay.level };
  throw new TypeError('a delay is milliseconds, a Date, or { level: 1..18 }');
}

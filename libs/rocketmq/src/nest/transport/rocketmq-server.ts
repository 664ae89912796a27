/**
 * RocketMQServer: a Nest microservice transport (`CustomTransportStrategy`) on our client, serving
 * `@EventPattern` and `@MessagePattern` handlers.
 *
 * ```ts
 * const app = await NestFactory.createMicroservice(AppModule, {
 *   strategy: new RocketMQServer({ endpoints: '127.0.0.1:8081', group: 'order-service' }),
 * });
 * await app.listen();
 *
 * @Controller()
 * class Orders {
 *   @EventPattern('orders:created')              // topic:tag, or the topic alone for every tag
 *   created(@Payload() order: OrderDto, @Ctx() ctx: RocketMQContext) { … }
 *
 *   @MessagePattern('pricing:quote')              // answers RocketMQClientProxy.send / RocketTemplate.request
 *   quote(@Payload() cart: Cart) { return price(cart); }
 * }
 * ```
 *
 * Nest 12's typings of `@EventPattern('x')` want a handler `(data, ...args: unknown[])`: with a typed
 * `@Ctx() ctx: RocketMQContext` parameter (or none at all) write `@EventPattern<string>('x')`.
 *
 * Subscriptions (pattern-routes.ts): one per topic, in the server's consumer group, with a TAG filter
 * listing the handled tags (or every tag when a handler takes the whole topic).
 *
 * Handlers run through Nest's pipes, guards, interceptors and exception filters (Nest wraps them
 * before registering them here); the transport awaits what comes out, Observables to their last
 * value, and settles the message by it:
 *
 * - event handlers: resolve → acknowledged; throw (what the exception filters let through: Nest's
 *   default filter rethrows everything) → retried after the group's backoff, dead-lettered to
 *   `%DLQ%<group>` after the max attempts; `Reconsume.after(ms)` → retried after `ms` without an
 *   error; `ConsumeResult.FAILURE` → retried. A filter that swallows the error (returns a value or
 *   an empty stream) acknowledges.
 * - a validation failure (`ValidationPipe` throws before the handler runs) is a failure like any
 *   other: retried, then dead-lettered. A payload that can never pass ends in the DLQ after the
 *   group's attempts, where it can be inspected and resent once fixed; lower `maxAttempts` (the
 *   group's max delivery attempts on the server) to get it there sooner.
 * - Nest 12's default filter reports any error that is not an RpcException as "Internal server
 *   error" (and logs no HttpException): register `RocketMQExceptionFilter` to see (and answer)
 *   the real cause, e.g. the fields ValidationPipe refused.
 * - a payload the codec cannot decode, or a message no handler matches, is not acknowledged
 *   either: logged, retried, dead-lettered. Never acknowledged unseen.
 * - `@MessagePattern` handlers answer requests: the reply (value or error) goes to the requester
 *   (reply-responder.ts) and the request is acknowledged, answered either way; a reply that cannot
 *   be sent retries the request. A request whose deadline passed before its turn is acknowledged
 *   without running the handler (nobody waits; its requester already failed with a timeout). A
 *   `@MessagePattern` handler given a message that is not a request runs as an event handler; a
 *   request given to an `@EventPattern` handler runs as an event (no reply: the requester times out).
 *
 * `close()` drains: the status turns `draining`, nothing new is received, running handlers finish
 * (up to `shutdownTimeoutMs`) and their messages are settled (acks flushed), replies are sent, then
 * the connections close (`closed`). Messages received but not started are left to the server,
 * which delivers them again (to another instance of the group, or after a restart).
 *
 * Each connection has its own `RpcClient` (consumer, and replies' producer): an Apache proxy keeps
 * one set of settings per client id.
 */
import { EventEmitter } from 'node:events';
import { Logger } from '@nestjs/common';
import { Server, type CustomTransportStrategy, type MessageHandler } from '@nestjs/microservices';
import {
  ConsumeResult,
  Consumer,
  isRetryAfter,
  Producer,
  type ConsumeResult as ConsumeResultValue,
  type ReceivedMessageView,
} from '../../client/index.js';
import { RocketMQContext } from '../context/rocketmq-context.js';
import { type PayloadCodec } from '../serialization/payload-codec.js';
import { clientLoggerOf } from '../request-reply/client-logger-of.js';
import { replyAddressOf, type ReplyAddress } from '../request-reply/reply-envelope.js';
import { ReplyResponder, outcomeOf } from '../request-reply/reply-responder.js';
import { eventOutcomeOf } from './event-outcome.js';
import { PatternRoutes } from './pattern-routes.js';
import { codecOf, connectionOf, tuningOf, type RocketMQServerOptions } from './rocketmq-server-options.js';
import { NoHandlerError } from './transport-errors.js';
import { ROCKETMQ_TRANSPORT, RocketMQTransportStatus } from './transport-status.js';

/** Events of `server.on(event, callback)` (also `app.on(...)` of the microservice). */
export type RocketMQServerEvents = {
  /** Starting failed (listen rejects with the same error). */
  error: (error: unknown) => void;
  /**
   * A delivery was not acknowledged: its handler failed, its payload did not decode, or no handler
   * matched. The message will be delivered again (or dead-lettered after the max attempts).
   */
  'message-failed': (error: unknown, message: ReceivedMessageView) => void;
};

/** What `server.unwrap()` gives: the client objects, once listening. */
export interface RocketMQServerInternals {
  /** Undefined when no handler is registered (nothing to consume). */
  readonly consumer: Consumer | undefined;
  /** Undefined when no `@MessagePattern` handler is registered (nothing to answer). */
  readonly producer: Producer | undefined;
}

export class RocketMQServer
  extends Server<RocketMQServerEvents, RocketMQTransportStatus>
  implements CustomTransportStrategy
{
  override transportId = ROCKETMQ_TRANSPORT;
  /** The transport awaits event handlers and settles by their outcome: failures are its to report. */
  override readonly propagatesEventHandlerErrors = true;
  protected override readonly logger = new Logger(RocketMQServer.name);

  readonly #options: RocketMQServerOptions;
  readonly #codec: PayloadCodec;
  readonly #events = new EventEmitter();
  #routes: PatternRoutes | undefined;
  #starting: Promise<RocketMQServerInternals> | undefined;
  #running: RocketMQServerInternals | undefined;
  /** Set before the consumer starts: deliveries can arrive while `Consumer.start` is still under way. */
  #responder: ReplyResponder | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: RocketMQServerOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('RocketMQServer needs options');
    if (typeof options.endpoints !== 'string' || options.endpoints.trim() === '') {
      throw new TypeError('RocketMQServer needs endpoints (host:port of a RocketMQ 5 gRPC endpoint)');
    }
    if (typeof options.group !== 'string' || options.group === '') {
      throw new TypeError('RocketMQServer needs a consumer group');
    }
    this.#options = options;
    this.#codec = codecOf(options);
    // A throwing listener must not break message handling; the 'error' event must not throw when
    // nobody listens (EventEmitter's default for 'error').
    this.#events.on('error', () => undefined);
  }

  /** The consumer group of every handler. */
  get group(): string {
    return this.#options.group;
  }

  /** Starts consuming (Nest calls it from `app.listen()` / `startAllMicroservices()`). */
  async listen(callback: (...optionalParams: unknown[]) => void): Promise<void> {
    try {
      this.#starting ??= this.#start();
      await this.#starting;
    } catch (err) {
      this._status$.next(RocketMQTransportStatus.ERROR);
      this.#emit('error', err);
      callback(err);
      return;
    }
    callback();
  }

  async #start(): Promise<RocketMQServerInternals> {
    if (this.#closing) throw new Error('RocketMQServer is closed');
    this._status$.next(RocketMQTransportStatus.CONNECTING);
    const routes = new PatternRoutes(this.messageHandlers.keys(), this.#options.filters);
    this.#routes = routes;
    const logger = clientLoggerOf(this.logger);
    const connection = connectionOf(this.#options);
    const answers = [...this.messageHandlers.values()].some((handler) => !handler.isEventHandler);

    let producer: Producer | undefined;
    let consumer: Consumer | undefined;
    try {
      if (answers) {
        producer = await Producer.start({ ...connection, ...this.#options.producer, logger });
        this.#responder = new ReplyResponder({ producer, codec: this.#codec });
      }
      const subscriptions = routes.subscriptions();
      if (subscriptions.length === 0) {
        this.logger.warn('no @EventPattern or @MessagePattern handler is registered: nothing is consumed');
      } else {
        consumer = await Consumer.start({
          ...tuningOf(this.#options),
          client: { ...connection, logger },
          group: this.#options.group,
          subscriptions,
          handler: (message) => this.#handle(message),
          logger,
        });
      }
    } catch (err) {
      await producer?.close();
      throw err;
    }
    const running: RocketMQServerInternals = { consumer, producer };
    this.#running = running;
    this._status$.next(RocketMQTransportStatus.CONNECTED);
    if (consumer) {
      this.logger.log(
        `consuming ${routes.topics.join(', ')} in group ${this.#options.group} ` +
          `(${this.messageHandlers.size} pattern(s))`,
      );
    }
    return running;
  }

  /**
   * Drains and closes (see the file comment). Idempotent; waits for a start under way.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const running = await this.#starting?.catch(() => undefined);
      if (!running) {
        this._status$.next(RocketMQTransportStatus.CLOSED);
        return;
      }
      this._status$.next(RocketMQTransportStatus.DRAINING);
      await running.consumer?.close();
      await running.producer?.close();
      this._status$.next(RocketMQTransportStatus.CLOSED);
    })();
    return this.#closing;
  }

  on<EventKey extends keyof RocketMQServerEvents, EventCallback extends RocketMQServerEvents[EventKey]>(
    event: EventKey,
    callback: EventCallback,
  ): void {
    this.#events.on(event, callback);
  }

  /**
   * The consumer and the producer of replies.
   * @throws Error before `listen()` has completed
   */
  unwrap<T = RocketMQServerInternals>(): T {
    if (!this.#running) {
      throw new Error('Not initialized. Please call the "listen"/"startAllMicroservices" method first.');
    }
    const { consumer, producer } = this.#running;
    return { consumer, producer } as T;
  }

  /** One delivery: find its handler, decode, run, settle by the outcome. Never throws. */
  async #handle(message: ReceivedMessageView): Promise<ConsumeResultValue | void> {
    const responder = this.#responder;
    const pattern = this.#routes?.match(message.topic, message.tag);
    const handler = pattern === undefined ? null : this.getHandlerByPattern(pattern);
    const address = replyAddressOf(message);
    if (pattern === undefined || handler === null) {
      const error = new NoHandlerError(message.messageId, message.topic, message.tag);
      if (address && responder) {
        await this.#reply(responder, address, { ok: false, error });
      }
      return this.#failed(message, error);
    }

    let payload: unknown;
    try {
      payload = this.#codec.deserialize(message);
    } catch (err) {
      if (address && responder && !handler.isEventHandler) {
        await this.#reply(responder, address, { ok: false, error: err });
      }
      return this.#failed(message, err);
    }
    const context = new RocketMQContext(message, this.#options.group, pattern);
    if (address && !handler.isEventHandler && responder) {
      return this.#serveRequest(responder, handler, payload, context, address);
    }
    return this.#serveEvent(handler, payload, context);
  }

  async #serveEvent(
    handler: MessageHandler,
    payload: unknown,
    context: RocketMQContext,
  ): Promise<ConsumeResultValue | void> {
    const outcome = await this.#withProcessingHooks(context, () => outcomeOf(handler(payload, context)));
    if (!outcome.ok) return this.#failed(context.getMessage(), outcome.error);
    return eventOutcomeOf(outcome.value, handler.next !== undefined);
  }

  async #serveRequest(
    responder: ReplyResponder,
    handler: MessageHandler,
    payload: unknown,
    context: RocketMQContext,
    address: ReplyAddress,
  ): Promise<ConsumeResultValue | void> {
    if (responder.expired(address)) {
      this.logger.warn(
        `request ${address.correlationId} (message ${context.getMessageId()}, ${context.getPattern()}) ` +
          'reached its deadline before it was handled: acknowledged without running the handler',
      );
      return;
    }
    const outcome = await this.#withProcessingHooks(context, () => outcomeOf(handler(payload, context)));
    // A handler may put a request back, as an event handler can: no reply now, handled again later.
    if (outcome.ok && isRetryAfter(outcome.value)) return outcome.value;
    return (await this.#reply(responder, address, outcome)) ? undefined : ConsumeResult.FAILURE;
  }

  /** Sends a reply; false (logged) when it could not be sent. */
  async #reply(
    responder: ReplyResponder,
    address: ReplyAddress,
    outcome: Parameters<ReplyResponder['respond']>[1],
  ): Promise<boolean> {
    try {
      const result = await responder.respond(address, outcome);
      if (result.status === 'expired') {
        this.logger.warn(
          `request ${address.correlationId} was handled after its deadline: nobody waits, no reply sent`,
        );
      }
      return true;
    } catch (err) {
      this.logger.warn(
        `the reply to request ${address.correlationId} could not be sent (${describe(err)}); the request ` +
          'will be handled again',
      );
      return false;
    }
  }

  /** Logs and reports a delivery that is not acknowledged; the consumer retries it. */
  #failed(message: ReceivedMessageView, error: unknown): typeof ConsumeResult.FAILURE {
    this.logger.warn(
      `message ${message.messageId} (topic ${message.topic}, tag ${message.tag ?? '(none)'}, attempt ` +
        `${message.deliveryAttempt}) is not acknowledged: ${describe(error)}; it will be delivered again ` +
        `(%DLQ%${this.#options.group} after the max attempts)`,
    );
    this.#emit('message-failed', error, message);
    return ConsumeResult.FAILURE;
  }

  /**
   * Runs `work` between Nest's processing hooks (tracing: `setOnProcessingStartHook`). The result
   * is awaited here whatever the start hook returns, so a message is never settled before its
   * handler finished.
   */
  #withProcessingHooks<T>(context: RocketMQContext, work: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      try {
        const started: unknown = this.runWithProcessingHooks(context, async (runEndHook) => {
          try {
            resolve(await work());
          } catch (err) {
            reject(err);
          } finally {
            runEndHook();
          }
        });
        if (started instanceof Promise) started.catch(reject);
      } catch (err) {
        reject(err);
      }
    });
  }

  #emit<K extends keyof RocketMQServerEvents>(event: K, ...args: Parameters<RocketMQServerEvents[K]>): void {
    try {
      this.#events.emit(event, ...args);
    } catch (err) {
      this.logger.error(`a '${event}' listener threw: ${describe(err)}`);
    }
  }
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  if (typeof error === 'object' && error !== null) {
    try {
      return JSON.stringify(error);
    } catch {
      return String(error);
    }
  }
  return String(error);
}

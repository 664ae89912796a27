/**
 * The requesting end of request-reply (RocketTemplate.request, RocketMQClientProxy.send).
 *
 * ```ts
 * const requester = await ReplyRequester.start({ client, producer, codec: new JsonPayloadCodec() });
 * const total = await requester.request<number>({ topic: 'pricing', tag: 'quote', payload: cart }, { timeoutMs: 5_000 });
 * await requester.close();
 * ```
 *
 * A request is an ordinary message carrying a fresh correlation id, the reply topic, this
 * requester's id and a deadline (now + timeout). The responder (a `@MessagePattern` handler served
 * by RocketMQServer) answers with a message to the reply topic tagged with that id. Each requester
 * subscribes to the reply topic with a TAG filter on its own id and a consumer group of its own
 * (`rocketnest-reply-<hash of the id>`), so every instance receives its answers and only those.
 *
 * - The reply settles the request: its value (decoded by the codec), or a RemoteHandlerError when
 *   the handler failed. No reply within `timeoutMs`: ReplyTimeoutError (the handler may still run).
 * - A reply for an id nobody waits for (it came after the timeout, or twice) is acknowledged and
 *   dropped, with a debug line: replies are never redelivered.
 * - `close()` fails the requests still waiting (ClientClosedError), then stops the reply consumer.
 *   The client and the producer are the caller's: they stay open.
 *
 * The reply topic must exist. The built-in broker creates topics on first use; on Apache RocketMQ
 * create it once (`mqadmin updateTopic -t rocketnest-reply -c <cluster>`, NORMAL message type),
 * and allow the per-instance groups to be created (`autoCreateSubscriptionGroup`, the default).
 * Those groups are left behind on the server when the instance goes (as RocketMQ's broadcasting
 * emulation leaves its groups); they hold no messages.
 *
 * Give the requester an RpcClient of its own (not the one of another consumer): an Apache proxy
 * keeps one set of settings per client id.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Logger, type LoggerService } from '@nestjs/common';
import { validateTag } from '@rocketnest/broker/core/validation.js';
import {
  ClientClosedError,
  Consumer,
  Filter,
  type Producer,
  type ReceivedMessageView,
  type RpcClient,
} from '../../client/index.js';
import { type PayloadCodec } from '../serialization/payload-codec.js';
import { clientLoggerOf } from './client-logger-of.js';
import { PendingReplies } from './pending-replies.js';
import { decodeReply, requestProperties } from './reply-envelope.js';
import { CORRELATION_ID_PROPERTY, DEFAULT_REPLY_TOPIC } from './reply-properties.js';

/** Prefix of the consumer group each requester instance subscribes to the reply topic with. */
export const REPLY_GROUP_PREFIX = 'rocketnest-reply-';
/** Hex characters of the requester id's SHA-256 in its group name (128 bits: no collisions). */
const REPLY_GROUP_HASH_LENGTH = 32;

export interface ReplyRequesterOptions {
  /** The connection of the reply consumer (see the file comment: best one of its own). */
  readonly client: RpcClient;
  /** Sends the requests. */
  readonly producer: Producer;
  /** Encodes request payloads and decodes reply values. */
  readonly codec: PayloadCodec;
  /** Where replies come back. Default `rocketnest-reply`. */
  readonly replyTopic?: string;
  /** Default Nest's Logger under `ReplyRequester`. */
  readonly logger?: LoggerService;
}

/** A request: an ordinary message, whose payload goes through the codec. */
export interface RequestMessage {
  readonly topic: string;
  readonly tag?: string;
  readonly payload: unknown;
  readonly keys?: string[];
  /** User properties (the request-reply properties are added; they cannot be overridden). */
  readonly properties?: Record<string, string>;
}

export interface RequestOptions {
  /** How long to wait for the reply, in ms (> 0); also sent as the request's deadline. */
  readonly timeoutMs: number;
}

/** Requesters made by this process: tells apart several on one client. */
let nextRequesterIndex = 0;

export class ReplyRequester {
  readonly #pending = new PendingReplies();
  readonly #producer: Producer;
  readonly #codec: PayloadCodec;
  readonly #logger: LoggerService;
  readonly #requesterId: string;
  readonly #replyTopic: string;
  #consumer: Consumer | undefined;
  #closing: Promise<void> | undefined;

  private constructor(options: ReplyRequesterOptions, requesterId: string) {
    this.#producer = options.producer;
    this.#codec = options.codec;
    this.#logger = options.logger ?? new Logger(ReplyRequester.name);
    this.#requesterId = requesterId;
    this.#replyTopic = options.replyTopic ?? DEFAULT_REPLY_TOPIC;
  }

  /**
   * A requester whose reply consumer is running.
   * @throws the reply consumer's start errors (TOPIC_NOT_FOUND when the reply topic does not exist
   *   and the server does not create topics, bad options, unreachable server)
   */
  static async start(options: ReplyRequesterOptions): Promise<ReplyRequester> {
    const requesterId = `${options.client.clientId}#${nextRequesterIndex++}`;
    validateTag(requesterId); // a client id with '|' could not be a tag, nor a filter
    const requester = new ReplyRequester(options, requesterId);
    requester.#consumer = await Consumer.start({
      client: options.client,
      group: replyGroupOf(requesterId),
      subscriptions: [{ topic: requester.#replyTopic, filter: Filter.tag(requesterId) }],
      handler: (reply) => requester.#onReply(reply),
      logger: clientLoggerOf(requester.#logger),
    });
    return requester;
  }

  /** This requester's id: the tag of its replies. */
  get requesterId(): string {
    return this.#requesterId;
  }

  get replyTopic(): string {
    return this.#replyTopic;
  }

  /** The consumer group of the reply consumer. */
  get replyGroup(): string {
    return replyGroupOf(this.#requesterId);
  }

  /** Requests waiting for their reply now. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  /**
   * Sends `message` as a request and resolves with the reply's value.
   * @throws ReplyTimeoutError (40800) when no reply comes within `timeoutMs`
   * @throws RemoteHandlerError (50000) when the handler answered with an error
   * @throws the producer's errors when the request cannot be sent; ClientClosedError after `close()`
   * @throws PayloadDecodeError when the reply cannot be decoded
   */
  async request<T>(message: RequestMessage, options: RequestOptions): Promise<T> {
    if (this.#closing) throw new ClientClosedError('the requester is closed');
    const correlationId = randomUUID();
    const destination = message.tag ? `${message.topic}:${message.tag}` : message.topic;
    const encoded = this.#codec.serialize(message.payload);
    const reply = this.#pending.expect(correlationId, options?.timeoutMs, destination);
    // The request can fail to send after its reply promise exists: that failure is the answer.
    reply.catch(() => undefined);
    try {
      await this.#producer.send({
        topic: message.topic,
        body: encoded.body,
        ...(message.tag === undefined ? {} : { tag: message.tag }),
        ...(message.keys === undefined ? {} : { keys: message.keys }),
        properties: {
          ...message.properties,
          ...encoded.properties,
          ...requestProperties({
            correlationId,
            replyTopic: this.#replyTopic,
            replyToClient: this.#requesterId,
            deadline: Date.now() + options.timeoutMs,
          }),
        },
      });
    } catch (err) {
      this.#pending.cancel(correlationId, err);
    }
    return (await reply) as T;
  }

  /** Fails the requests still waiting, then stops the reply consumer. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      const failed = this.#pending.cancelAll(
        new ClientClosedError('the requester closed before the reply came'),
      );
      if (failed > 0) this.#logger.warn(`${failed} request(s) were still waiting for a reply at close`);
      await this.#consumer?.close();
    })();
    return this.#closing;
  }

  /** Every reply is acknowledged: a reply nobody waits for is dropped, never redelivered. */
  #onReply(reply: ReceivedMessageView): void {
    const correlationId = reply.properties[CORRELATION_ID_PROPERTY];
    if (correlationId === undefined || !this.#pending.has(correlationId)) {
      this.#logger.debug?.(
        `dropped reply ${reply.messageId} for ${correlationId ?? 'no correlation id'}: no request waits for it ` +
          '(it came after the timeout, twice, or is not ours)',
      );
      return;
    }
    let outcome;
    try {
      outcome = decodeReply(reply, this.#codec);
    } catch (err) {
      outcome = { ok: false as const, error: err };
    }
    this.#pending.settle(correlationId, outcome);
  }
}

/** The consumer group of a requester: legal group characters, unique per requester id. */
export function replyGroupOf(requesterId: string): string {
  const hash = createHash('sha256').update(requesterId).digest('hex');
  return `${REPLY_GROUP_PREFIX}${hash.slice(0, REPLY_GROUP_HASH_LENGTH)}`;
}

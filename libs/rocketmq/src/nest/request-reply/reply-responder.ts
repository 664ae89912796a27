/**
 * The answering end of request-reply: given a received request and its handler's outcome, sends
 * the reply to the request's reply topic, tagged with the requester's id and carrying the
 * correlation id, so that exactly the waiting requester receives it.
 *
 * - A handler's result may be a value, a promise or an Observable (what `@MessagePattern` handlers
 *   return): the reply carries the LAST value the Observable emitted before completing (`null`
 *   when it emitted none), as Nest's RMQ transport answers a request once. A stream that errors is
 *   an error reply.
 * - An error reply has `REPLY_ERROR` set and `{ message, name, status? }` as JSON (the requester
 *   rejects with a RemoteHandlerError). What a handler throws in a Nest app has been through the
 *   exception filters first: Nest's default filter hides unknown errors as "Internal server error";
 *   throw an `RpcException` (or add a filter) to choose what the requester sees.
 * - When the request's deadline has passed nobody waits: no reply is sent (`'expired'`).
 */
import { isObservable, lastValueFrom, type Observable } from 'rxjs';
import { type Producer, type SendReceipt } from '../../client/index.js';
import { type PayloadCodec } from '../serialization/payload-codec.js';
import { CORRELATION_ID_PROPERTY } from './reply-properties.js';
import { encodeReply, isExpired, type ReplyAddress, type ReplyOutcome } from './reply-envelope.js';

export interface ReplyResponderOptions {
  /** Sends the replies. */
  readonly producer: Producer;
  /** Encodes reply values (the requester decodes them with its own codec: use the same kind). */
  readonly codec: PayloadCodec;
  /** Clock for deadlines. Default `Date.now`. */
  readonly now?: () => number;
}

/** What became of a reply. */
export type ReplyResult =
  { readonly status: 'sent'; readonly receipt: SendReceipt } | { readonly status: 'expired' };

export class ReplyResponder {
  readonly #producer: Producer;
  readonly #codec: PayloadCodec;
  readonly #now: () => number;

  constructor(options: ReplyResponderOptions) {
    this.#producer = options.producer;
    this.#codec = options.codec;
    this.#now = options.now ?? Date.now;
  }

  /** Whether nobody waits for the answer to this request any more. */
  expired(address: ReplyAddress): boolean {
    return isExpired(address, this.#now());
  }

  /**
   * Sends the reply to `address` (unless its deadline passed).
   * @throws the producer's errors when the reply cannot be sent (the request should then be
   *   retried), or the codec's when the value cannot be encoded
   */
  async respond(address: ReplyAddress, outcome: ReplyOutcome): Promise<ReplyResult> {
    if (this.expired(address)) return { status: 'expired' };
    const encoded = encodeReply(outcome, this.#codec);
    const receipt = await this.#producer.send({
      topic: address.replyTopic,
      tag: address.replyToClient,
      body: encoded.body,
      properties: { ...encoded.properties, [CORRELATION_ID_PROPERTY]: address.correlationId },
    });
    return { status: 'sent', receipt };
  }
}

/**
 * The outcome of a handler's result: a value, a promise, or an Observable (its last value; `undefined`
 * when it completes empty). A rejected promise or an erroring stream is a failed outcome.
 */
export async function outcomeOf(result: unknown): Promise<ReplyOutcome> {
  try {
    const awaited: unknown = await result;
    const value: unknown = isObservable(awaited)
      ? await lastValueFrom(awaited as Observable<unknown>, { defaultValue: undefined })
      : awaited;
    return { ok: true, value };
  } catch (error) {
    return { ok: false, error };
  }
}

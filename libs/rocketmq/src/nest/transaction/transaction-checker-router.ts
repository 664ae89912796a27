/**
 * Routes the broker's transaction check-backs to the `@TransactionChecker` methods, by the half
 * message's topic, with the checker without a topic as the fallback. The producer is started
 * (and may be asked) before the application's providers are discovered: until then, and for a
 * topic nobody answers, the answer is UNKNOWN, which leaves the transaction to a later check.
 */
import { Injectable, Logger } from '@nestjs/common';
import {
  type ReceivedMessageView,
  type TransactionCheckMessage,
  type TransactionResolution,
} from '../../client/index.js';
import { type PayloadCodec } from '../serialization/payload-codec.js';

/** A checker method bound to its instance. */
export type CheckerMethod = (payload: unknown, message: TransactionCheckMessage) => unknown;

interface Route {
  readonly name: string;
  readonly method: CheckerMethod;
}

const RESOLUTIONS: ReadonlySet<string> = new Set(['COMMIT', 'ROLLBACK', 'UNKNOWN']);

@Injectable()
export class TransactionCheckerRouter {
  readonly #logger = new Logger('TransactionChecker');
  readonly #routes = new Map<string, Route>();
  #fallback: Route | undefined;
  #codec: PayloadCodec | undefined;

  /** @internal the codec payloads are decoded with */
  useCodec(codec: PayloadCodec): void {
    this.#codec = codec;
  }

  /**
   * @param topic undefined for the default checker
   * @throws RangeError when the topic (or the default) already has a checker
   */
  register(topic: string | undefined, name: string, method: CheckerMethod): void {
    const existing = topic === undefined ? this.#fallback : this.#routes.get(topic);
    if (existing !== undefined) {
      const what = topic === undefined ? 'the default checker (no topic)' : `topic ${topic}`;
      throw new RangeError(`@TransactionChecker ${name} and ${existing.name} both answer for ${what}`);
    }
    if (topic === undefined) this.#fallback = { name, method };
    else this.#routes.set(topic, { name, method });
  }

  /** Topics with a checker of their own (the producer declares them, so that check-backs find it). */
  get topics(): string[] {
    return [...this.#routes.keys()];
  }

  /** The producer's checker: never throws, answers UNKNOWN when in doubt. */
  readonly check = async (message: TransactionCheckMessage): Promise<TransactionResolution> => {
    const route = this.#routes.get(message.topic) ?? this.#fallback;
    if (route === undefined) {
      this.#logger.warn(
        `check-back of transaction ${message.transactionId} (topic ${message.topic}) but no @TransactionChecker ` +
          'answers for this topic; it stays unresolved',
      );
      return 'UNKNOWN';
    }
    let payload: unknown;
    try {
      payload = this.#codec ? this.#codec.deserialize(viewOf(message)) : message.body;
    } catch (err) {
      this.#logger.error(
        `check-back of transaction ${message.transactionId}: the half message cannot be decoded (${String(err)}); UNKNOWN`,
      );
      return 'UNKNOWN';
    }
    try {
      const answer = await route.method(payload, message);
      if (typeof answer === 'string' && RESOLUTIONS.has(answer)) return answer as TransactionResolution;
      this.#logger.warn(`${route.name} answered ${String(answer)}, not COMMIT, ROLLBACK or UNKNOWN; UNKNOWN`);
      return 'UNKNOWN';
    } catch (err) {
      this.#logger.warn(
        `${route.name} threw for transaction ${message.transactionId}; UNKNOWN: ${String(err)}`,
      );
      return 'UNKNOWN';
    }
  };
}

/** The half message as the codec reads messages. */
function viewOf(message: TransactionCheckMessage): ReceivedMessageView {
  return {
    messageId: message.messageId,
    topic: message.topic,
    body: message.body,
    ...(message.tag === undefined ? {} : { tag: message.tag }),
    keys: message.keys,
    properties: message.properties,
    messageType: 'TRANSACTION',
    deliveryAttempt: 1,
    bornTimestamp: message.bornTimestamp ?? 0,
    bornHost: '',
    queueId: 0,
    queueOffset: 0,
  };
}

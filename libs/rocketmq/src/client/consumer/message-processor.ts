/**
 * One attempt of one message: call the handler, then settle by its outcome.
 *
 * - success → ack (batched).
 * - failure (thrown, FAILURE, or an unknown answer) or `Reconsume.after(ms)`:
 *   - standard group → nack: ChangeInvisibleDuration by the explicit delay or the group's backoff
 *     for this attempt. The server redelivers it with attempt + 1, and moves it to `%DLQ%<group>`
 *     itself once the group's max attempts are used: no local retries, no local DLQ decision.
 *   - FIFO group → local retry after the delay while attempts remain (the message group waits, its
 *     lease is kept alive), then ForwardMessageToDeadLetterQueue so that the group can move on (the
 *     Java client's rule; the server acks the original).
 * - a corrupted message (body digest mismatch) never reaches the handler: nacked (FIFO: forwarded
 *   to the DLQ), as the Java client does.
 *
 * Settlement is handed over synchronously and completes in the background (the settler drains it at
 * shutdown), so a message group's next message does not wait for the ack's round trip.
 */
import { FAILED_OUTCOME, outcomeOf, type ConsumeResult, type Outcome } from './consume-result.js';
import { describeError, type ConsumerLogger, ThrottledLog } from './consumer-logger.js';
import { type Delivery } from './delivery.js';
import { type TaskResult } from './dispatcher.js';
import { type ReceivedMessageView } from './received-message.js';
import { type RetryPolicy } from './retry-policy.js';
import { type Settler } from './settler.js';

/**
 * The application's handler: resolve with nothing (or `ConsumeResult.SUCCESS`) to acknowledge;
 * throw, reject or answer `ConsumeResult.FAILURE` to retry after the group's backoff;
 * `Reconsume.after(ms)` to retry after `ms`. Any other answer counts as a failure (and is logged).
 */
export type MessageHandler = (
  message: ReceivedMessageView,
) => ConsumeResult | void | Promise<ConsumeResult | void>;

export interface MessageProcessorOptions {
  readonly handler: MessageHandler;
  readonly settler: Settler;
  readonly fifo: boolean;
  /** The retry policy in effect now (the server may update it). */
  readonly policy: () => RetryPolicy;
  readonly logger: ConsumerLogger;
}

/** What happened to handled messages (for `Consumer.stats`). */
export interface ProcessorCounters {
  succeeded: number;
  failed: number;
  corrupted: number;
}

export class MessageProcessor {
  readonly counters: ProcessorCounters = { succeeded: 0, failed: 0, corrupted: 0 };
  readonly #options: MessageProcessorOptions;
  readonly #throttled: ThrottledLog;

  constructor(options: MessageProcessorOptions) {
    this.#options = options;
    this.#throttled = new ThrottledLog(options.logger, 5_000);
  }

  /** Runs one attempt of `delivery`; never rejects. */
  async run(delivery: Delivery): Promise<TaskResult> {
    if (delivery.state !== 'held') return 'done'; // lost while waiting, or given up
    const { settler, fifo } = this.#options;
    if (delivery.corruption !== undefined) {
      this.counters.corrupted++;
      this.#options.logger.error(
        `${delivery.describe()} is corrupted (${delivery.corruption}); it is not handled`,
      );
      const policy = this.#options.policy();
      if (fifo) void settler.forwardToDeadLetter(delivery, policy.maxAttempts);
      else void settler.nack(delivery, policy.nextDelayMs(delivery.attempt));
      return 'done';
    }

    const handled = this.#handle(delivery);
    // A synchronous handler's outcome is used as it is: no promise and no extra turn per message.
    const outcome = handled instanceof Promise ? await handled : handled;
    if (delivery.state !== 'held') return 'done'; // given up at shutdown while the handler ran
    if (outcome.ok) {
      this.counters.succeeded++;
      void settler.ack(delivery);
      return 'done';
    }
    this.counters.failed++;
    const policy = this.#options.policy();
    const delayMs = outcome.delayMs ?? policy.nextDelayMs(delivery.attempt);
    if (!fifo) {
      void settler.nack(delivery, delayMs);
      return 'done';
    }
    if (delivery.attempt < policy.maxAttempts) {
      delivery.nextLocalAttempt();
      return { retryInMs: delayMs };
    }
    this.#options.logger.warn(
      `${delivery.describe()} failed its last attempt (the group allows ${policy.maxAttempts}); ` +
        'it is forwarded to the dead-letter queue',
    );
    void settler.forwardToDeadLetter(delivery, policy.maxAttempts);
    return 'done';
  }

  #handle(delivery: Delivery): Outcome | Promise<Outcome> {
    let result: unknown;
    try {
      result = this.#options.handler(delivery.view);
    } catch (err) {
      return this.#threw(delivery, err);
    }
    if (isThenable(result)) {
      return Promise.resolve(result).then(
        (answer) => this.#outcomeOf(delivery, answer),
        (err: unknown) => this.#threw(delivery, err),
      );
    }
    return this.#outcomeOf(delivery, result);
  }

  #outcomeOf(delivery: Delivery, result: unknown): Outcome {
    const { outcome, unknown } = outcomeOf(result);
    if (unknown) {
      this.#throttled.warn(
        'unknown',
        `the handler answered ${describeValue(result)} for ${delivery.describe()}; only nothing, ` +
          'ConsumeResult.SUCCESS, ConsumeResult.FAILURE or Reconsume.after(ms) are understood; treated as a failure',
      );
    }
    return outcome;
  }

  #threw(delivery: Delivery, err: unknown): Outcome {
    this.#throttled.warn('threw', `the handler failed for ${delivery.describe()}: ${describeError(err)}`);
    return FAILED_OUTCOME;
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

function describeValue(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * One long-polling receive loop per assigned queue (PROTOCOL.md §2 ReceiveMessage): reserve room
 * in the in-flight budget, ask for that many (≤ the server's batch size, 32), wait up to the long
 * poll for them, hand them over, and ask again at once; the handlers run meanwhile.
 *
 * The request: `auto_renew: false` with the consumer's invisible duration (lease-keeper.ts explains
 * why), an explicit `long_polling_timeout` (the server's, 20 s), and a call deadline of the long poll
 * plus the request timeout, so that the server's answer always arrives before the client gives up.
 * `attempt_id` is fresh for each receive and reused when a receive failed without an answer: a FIFO
 * broker then hands back what the lost answer carried, in order (Java's attempt id).
 *
 * Errors: a failed call or an error status waits 1 s before the next receive (TOO_MANY_REQUESTS:
 * 20 ms), as Java's PushConsumer does, and is logged at most once a minute per loop. Empty answers
 * that come back much faster than the long poll (a server that does not long-poll) are spaced out
 * instead of spinning.
 *
 * `stop()` aborts the call under way (the server hands back what it took, no attempt counted) and
 * resolves when the loop has ended.
 */
import { randomUUID } from 'node:crypto';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { durationOf } from '@rocketnest/broker/grpc/proto-time.js';
import {
  type FilterExpression as ProtoFilterExpression,
  type Message,
  type MessageQueue,
} from '@rocketnest/broker/grpc/proto-types.js';
import { sleep } from './backoff.js';
import { describeError, type ConsumerLogger, ThrottledLog } from './consumer-logger.js';
import { type ConsumerTransport, type ReceiveAnswer } from './consumer-transport.js';
import { Delivery } from './delivery.js';
import { type InFlightBudget } from './in-flight-budget.js';
import { decodeDelivery } from './received-message.js';

/** Pause after a failed receive (Java / official Node client: 1 s). */
export const RECEIVE_RETRY_MS = 1_000;
/** Pause after TOO_MANY_REQUESTS (official client: 20 ms). */
export const RECEIVE_THROTTLED_MS = 20;
/** An empty answer faster than this is "not long-polled". */
const FAST_EMPTY_MS = 100;
/** Longest pause between empty answers of a server that does not long-poll. */
const MAX_EMPTY_PAUSE_MS = 1_000;

/** What the loop needs to know at each receive. */
export interface ReceiveParameters {
  readonly batchSize: number;
  readonly longPollingTimeoutMs: number;
  readonly invisibleMs: number;
}

export interface ReceiveLoopOptions {
  readonly transport: ConsumerTransport;
  readonly group: string;
  readonly queue: MessageQueue;
  readonly filter: ProtoFilterExpression;
  readonly budget: InFlightBudget;
  readonly parameters: () => ReceiveParameters;
  /** Takes the received deliveries (each holds one budget slot from now on). */
  readonly accept: (deliveries: Delivery[]) => void;
  readonly logger: ConsumerLogger;
  /** Shared by the consumer's loops: receives made and messages received. */
  readonly counters: ReceiveCounters;
}

export interface ReceiveCounters {
  receives: number;
  received: number;
}

export class ReceiveLoop {
  readonly #options: ReceiveLoopOptions;
  readonly #abort = new AbortController();
  readonly #throttled: ThrottledLog;
  #done: Promise<void> | undefined;

  constructor(options: ReceiveLoopOptions) {
    this.#options = options;
    this.#throttled = new ThrottledLog(options.logger);
  }

  start(): void {
    this.#done ??= this.#run().catch((err: unknown) => {
      // #run handles every error itself; this is the last guard against a bug.
      this.#options.logger.error(
        `receive loop of ${this.#describe()} stopped unexpectedly: ${describeError(err)}`,
      );
    });
  }

  /** Ends the loop: aborts the receive under way; resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.#abort.abort();
    await this.#done;
  }

  async #run(): Promise<void> {
    const { budget, transport } = this.#options;
    const signal = this.#abort.signal;
    let attemptId = randomUUID();
    let emptyPause = 0;
    while (!signal.aborted) {
      const parameters = this.#options.parameters();
      const reserved = await budget.reserve(parameters.batchSize, signal);
      if (reserved === 0) break; // stopped while waiting for room
      const startedAt = Date.now();
      let answer: ReceiveAnswer;
      try {
        this.#options.counters.receives++;
        answer = await transport.receive(
          {
            group: { name: this.#options.group },
            message_queue: this.#options.queue,
            filter_expression: this.#options.filter,
            batch_size: reserved,
            invisible_duration: durationOf(parameters.invisibleMs),
            auto_renew: false,
            long_polling_timeout: durationOf(parameters.longPollingTimeoutMs),
            attempt_id: attemptId,
          },
          {
            timeoutMs: parameters.longPollingTimeoutMs + transport.requestTimeoutMs,
            signal,
            endpoints: this.#options.queue.broker?.endpoints ?? null,
          },
        );
      } catch (err) {
        budget.release(reserved);
        if (signal.aborted) break;
        this.#throttled.warn(
          'call',
          `receiving from ${this.#describe()} failed: ${describeError(err)}; retrying`,
        );
        await sleep(RECEIVE_RETRY_MS, signal); // same attempt id: the answer may have been lost
        continue;
      }
      attemptId = randomUUID();
      const code = answer.status?.code;
      if (code === StatusCode.OK && answer.messages.length > 0) {
        this.#throttled.clear('call');
        this.#throttled.clear('status');
        emptyPause = 0;
        const deliveries = this.#decode(answer.messages, parameters.invisibleMs);
        budget.release(reserved - deliveries.length);
        this.#options.counters.received += deliveries.length;
        if (signal.aborted) {
          // Stopped while the answer was on its way: these leases go back with the consumer's
          // NotifyClientTermination, or at their end.
          budget.release(deliveries.length);
          for (const d of deliveries) d.state = 'abandoned';
          break;
        }
        this.#options.accept(deliveries);
        continue;
      }
      budget.release(reserved);
      if (code === StatusCode.OK || code === StatusCode.MESSAGE_NOT_FOUND) {
        const elapsed = Date.now() - startedAt;
        if (elapsed < FAST_EMPTY_MS && parameters.longPollingTimeoutMs > FAST_EMPTY_MS) {
          emptyPause = Math.min(MAX_EMPTY_PAUSE_MS, Math.max(10, emptyPause * 2));
          await sleep(emptyPause, signal);
        } else {
          emptyPause = 0;
        }
        continue;
      }
      this.#throttled.warn(
        'status',
        `receiving from ${this.#describe()} failed with status ${code ?? 'none'} ` +
          `(${answer.status?.message ?? 'no status'}); retrying`,
      );
      await sleep(code === StatusCode.TOO_MANY_REQUESTS ? RECEIVE_THROTTLED_MS : RECEIVE_RETRY_MS, signal);
    }
  }

  #decode(messages: readonly Message[], invisibleMs: number): Delivery[] {
    const now = Date.now();
    const deliveries: Delivery[] = [];
    for (const message of messages) {
      try {
        const decoded = decodeDelivery(message, this.#options.queue);
        deliveries.push(
          new Delivery(decoded, this.#options.queue.broker?.endpoints ?? null, now, invisibleMs),
        );
      } catch (err) {
        // Without an id or a handle it cannot be settled; the server delivers it again when its lease ends.
        this.#options.logger.error(
          `a message received from ${this.#describe()} is unusable: ${describeError(err)}`,
        );
      }
    }
    return deliveries;
  }

  #describe(): string {
    const { queue } = this.#options;
    return `${queue.topic?.name ?? '?'} (broker ${queue.broker?.name ?? '?'}, queue ${queue.id ?? '?'})`;
  }
}

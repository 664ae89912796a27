/**
 * Settles deliveries with the server: ack (batched, ack-batcher.ts), nack (ChangeInvisibleDuration:
 * the message comes back after the delay with attempt + 1, or goes to the DLQ on the server when
 * its attempts are used up), and forward to the dead-letter queue (FIFO groups, corrupted FIFO
 * messages).
 *
 * Before a call, a renewal under way is awaited (its answer carries the handle to use) and the
 * lease keeper lets go of the delivery. A delivery whose lease was lost is not settled: the server
 * refused its handle already and delivers it again.
 *
 * Nacks and forwards are retried like acks: INVALID_RECEIPT_HANDLE gives up (logged), anything
 * else is retried with backoff until it succeeds or `drain`'s deadline passes. A nack that never
 * arrives is not lost either: the lease ends and the message comes back after at most one
 * invisible duration.
 */
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { durationOf } from '@rocketnest/broker/grpc/proto-time.js';
import { type Status } from '@rocketnest/broker/grpc/proto-types.js';
import { AckBatcher, type AckOutcome } from './ack-batcher.js';
import { settleRetryDelayMs, sleep } from './backoff.js';
import { describeError, type ConsumerLogger, ThrottledLog } from './consumer-logger.js';
import { type ConsumerTransport } from './consumer-transport.js';
import { type Delivery } from './delivery.js';
import { type LeaseKeeper } from './lease-keeper.js';

export type SettleOutcome = AckOutcome | 'lost';

export interface SettlerOptions {
  readonly transport: ConsumerTransport;
  readonly group: string;
  readonly keeper: LeaseKeeper;
  readonly logger: ConsumerLogger;
  readonly maxAckEntries?: number;
  readonly maxAckCallsInFlight?: number;
}

export class Settler {
  readonly acks: AckBatcher;
  readonly #transport: ConsumerTransport;
  readonly #group: string;
  readonly #keeper: LeaseKeeper;
  readonly #logger: ConsumerLogger;
  readonly #throttled: ThrottledLog;
  readonly #calls = new Set<Promise<unknown>>();
  /** Aborted at drain's deadline: retries of nacks and forwards stop. */
  readonly #giveUp = new AbortController();
  /** ChangeInvisibleDuration nacks and DLQ forwards sent (for tests and statistics). */
  nacks = 0;
  forwards = 0;

  constructor(options: SettlerOptions) {
    this.#transport = options.transport;
    this.#group = options.group;
    this.#keeper = options.keeper;
    this.#logger = options.logger;
    this.#throttled = new ThrottledLog(options.logger, 10_000);
    this.acks = new AckBatcher({
      transport: options.transport,
      group: options.group,
      logger: options.logger,
      ...(options.maxAckEntries === undefined ? {} : { maxEntries: options.maxAckEntries }),
      ...(options.maxAckCallsInFlight === undefined ? {} : { maxCallsInFlight: options.maxAckCallsInFlight }),
    });
  }

  /** Acknowledges `delivery`. */
  ack(delivery: Delivery): Promise<SettleOutcome> {
    if (!this.#claim(delivery)) return Promise.resolve('lost');
    if (delivery.renewal) {
      return this.#track(async () => {
        await this.#handOver(delivery);
        return this.#sendAck(delivery);
      });
    }
    // The common case, once per message: no renewal to wait for, so no async frame around the ack
    // (measured: the wrapper chain was a sixth of the bytes a consumed message allocates).
    this.#keeper.release(delivery);
    return this.#trackPromise(this.#sendAck(delivery));
  }

  #sendAck(delivery: Delivery): Promise<SettleOutcome> {
    return this.acks
      .ack({
        topic: delivery.topic,
        messageId: delivery.messageId,
        receiptHandle: delivery.receiptHandle,
        endpoints: delivery.endpoints,
      })
      .then((outcome) => {
        delivery.state = outcome === 'abandoned' ? 'abandoned' : 'done';
        return outcome;
      });
  }

  /** Makes `delivery` visible again after `delayMs` (attempt + 1 then; the server's DLQ rule applies). */
  nack(delivery: Delivery, delayMs: number): Promise<SettleOutcome> {
    if (!this.#claim(delivery)) return Promise.resolve('lost');
    return this.#track(async () => {
      await this.#handOver(delivery);
      this.nacks++;
      const outcome = await this.#retrying(delivery, 'nack', async () => {
        const response = await this.#transport.changeInvisibleDuration(
          {
            group: { name: this.#group },
            topic: { name: delivery.topic },
            receipt_handle: delivery.receiptHandle,
            invisible_duration: durationOf(delayMs),
            message_id: delivery.messageId,
          },
          delivery.endpoints,
        );
        return response.status;
      });
      delivery.state = outcome === 'abandoned' ? 'abandoned' : 'done';
      return outcome;
    });
  }

  /** Copies `delivery` to `%DLQ%<group>`; the server acks the original. */
  forwardToDeadLetter(delivery: Delivery, maxAttempts: number): Promise<SettleOutcome> {
    if (!this.#claim(delivery)) return Promise.resolve('lost');
    return this.#track(async () => {
      await this.#handOver(delivery);
      this.forwards++;
      const outcome = await this.#retrying(delivery, 'dead-letter forward', async () => {
        const response = await this.#transport.forwardToDeadLetter(
          {
            group: { name: this.#group },
            topic: { name: delivery.topic },
            receipt_handle: delivery.receiptHandle,
            message_id: delivery.messageId,
            delivery_attempt: delivery.attempt,
            max_delivery_attempts: maxAttempts,
          },
          delivery.endpoints,
        );
        return response.status;
      });
      delivery.state = outcome === 'abandoned' ? 'abandoned' : 'done';
      return outcome;
    });
  }

  /** Settlements not finished yet. */
  get outstanding(): number {
    return this.#calls.size;
  }

  /**
   * Waits for every settlement to finish, retries included, until `deadline` (epoch ms); then
   * retries stop and whatever is left is reported and given up.
   */
  async drain(deadline: number): Promise<void> {
    const timer = setTimeout(() => this.#giveUp.abort(), Math.max(0, deadline - Date.now()));
    try {
      while (this.#calls.size > 0 && !this.#giveUp.signal.aborted) {
        await Promise.race([
          Promise.allSettled([...this.#calls]),
          new Promise((resolve) => this.#giveUp.signal.addEventListener('abort', resolve, { once: true })),
        ]);
      }
      await this.acks.drain(deadline);
    } finally {
      clearTimeout(timer);
      this.#giveUp.abort();
    }
  }

  /**
   * Claims a held delivery for settlement, synchronously (from now on nothing else settles or gives
   * it up). False when it is not held: its lease was lost, or it was given up at shutdown.
   */
  #claim(delivery: Delivery): boolean {
    if (delivery.state !== 'held') {
      if (delivery.state === 'lost') {
        this.#logger.info(
          `${delivery.describe()} is not settled: its lease was lost and it will be delivered again`,
        );
      }
      return false;
    }
    delivery.state = 'settling';
    return true;
  }

  /** Waits for a renewal under way (its answer has the handle to use); the keeper lets go. */
  async #handOver(delivery: Delivery): Promise<void> {
    await this.#keeper.settled(delivery);
    this.#keeper.release(delivery);
  }

  async #retrying(
    delivery: Delivery,
    what: string,
    call: () => Promise<Status | null | undefined>,
  ): Promise<AckOutcome> {
    for (let failures = 0; ;) {
      let status: Status | null | undefined;
      let failure: string;
      try {
        status = await call();
        if (status?.code === StatusCode.OK) return 'acked';
        if (status?.code === StatusCode.INVALID_RECEIPT_HANDLE) {
          this.#logger.warn(
            `the ${what} of ${delivery.describe()} was refused (INVALID_RECEIPT_HANDLE: ${status.message ?? ''}); ` +
              'its lease had ended, so the server delivers it again by itself',
          );
          return 'invalid';
        }
        failure = `status ${status?.code ?? 'none'} (${status?.message ?? 'no status'})`;
      } catch (err) {
        failure = describeError(err);
      }
      failures++;
      this.#throttled.warn(what, `the ${what} of ${delivery.describe()} failed: ${failure}; retrying`);
      if (!(await sleep(settleRetryDelayMs(failures), this.#giveUp.signal))) {
        this.#logger.error(
          `the ${what} of ${delivery.describe()} could not be delivered before the consumer closed; ` +
            'the server delivers the message again when its lease ends',
        );
        return 'abandoned';
      }
    }
  }

  #track<T>(work: () => Promise<T>): Promise<T> {
    return this.#trackPromise(work());
  }

  #trackPromise<T>(promise: Promise<T>): Promise<T> {
    this.#calls.add(promise);
    const forget = (): void => {
      this.#calls.delete(promise);
    };
    promise.then(forget, forget);
    return promise;
  }
}

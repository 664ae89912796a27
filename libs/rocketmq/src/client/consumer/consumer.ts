/**
 * A Push-style consumer: long-polling receive loops per assigned queue of each subscription,
 * handlers run with bounded concurrency and a bounded number of held messages, acks batched, nacks
 * with the group's backoff, FIFO groups consumed strictly in order per message group, and a
 * graceful shutdown. See the files it wires for each rule:
 *
 * - assignments.ts / receive-loop.ts: which queues, how to receive, errors and pacing;
 * - in-flight-budget.ts: backpressure; dispatcher.ts: concurrency and FIFO order;
 * - message-processor.ts: handler outcome → ack / nack / local retry / dead-letter forward;
 * - settler.ts / ack-batcher.ts: the settlement calls; lease-keeper.ts: lease renewal.
 *
 * `close()`:
 * 1. stops receiving: the assignment refresh ends and receive calls under way are aborted (the
 *    server hands back what they took, no attempt counted);
 * 2. messages that did not start are given up (not acknowledged);
 * 3. waits for running handlers up to `shutdownTimeoutMs`; the messages of handlers still running
 *    then are given up too, and whatever those handlers answer later is ignored;
 * 4. lease renewals stop; settlements (acks, nacks, forwards) are flushed, retries included, for at
 *    least one request timeout;
 * 5. the session ends: NotifyClientTermination (the server makes every message still leased to this
 *    client visible again at once; on Apache without auto-renewed leases, when their lease ends),
 *    then the telemetry stream and heartbeats. Every timer is cleared: nothing keeps the process
 *    alive.
 */
import { DEFAULT_RECEIVE_BATCH_SIZE } from '@rocketnest/broker/core/limits.js';
import { type MessageQueue } from '@rocketnest/broker/grpc/proto-types.js';
import { Assignments } from './assignments.js';
import { consoleConsumerLogger, describeError, type ConsumerLogger } from './consumer-logger.js';
import {
  DEFAULT_LONG_POLLING_TIMEOUT_MS,
  DEFAULT_RECEIVE_CONCURRENCY,
  MAX_RECEIVE_BATCH_SIZE,
  resolveConsumerOptions,
  type ConsumerOptions,
  type ResolvedConsumerOptions,
} from './consumer-options.js';
import { RpcClient } from '../rpc-client.js';
import {
  type ConsumerServerSettings,
  type ConsumerSession,
  type ConsumerTransport,
} from './consumer-transport.js';
import { type Delivery } from './delivery.js';
import { Dispatcher } from './dispatcher.js';
import { InFlightBudget } from './in-flight-budget.js';
import { LeaseKeeper } from './lease-keeper.js';
import { MessageProcessor } from './message-processor.js';
import { ReceiveLoop, type ReceiveCounters, type ReceiveParameters } from './receive-loop.js';
import { RpcConsumerTransport } from './rpc-consumer-transport.js';
import { effectivePolicy, type RetryPolicy } from './retry-policy.js';
import { Settler } from './settler.js';
import { toProtoFilter, type CheckedSubscription } from './subscription.js';

/** A snapshot of what the consumer did (monotonic counters, and the current load). */
export interface ConsumerStats {
  /** ReceiveMessage calls made, and messages they delivered. */
  readonly receives: number;
  readonly received: number;
  /** Handler outcomes. */
  readonly succeeded: number;
  readonly failed: number;
  /** Messages whose body did not match its digest (never handed to the handler). */
  readonly corrupted: number;
  /** AckMessage calls made (each carries many acks), ChangeInvisibleDuration nacks, DLQ forwards, lease renewals. */
  readonly ackCalls: number;
  readonly nacks: number;
  readonly deadLetterForwards: number;
  readonly leaseRenewals: number;
  /** Messages held now, and the most ever held at once (≤ maxInFlight). */
  readonly inFlight: number;
  readonly maxInFlightSeen: number;
  /** Handlers running now, and the most ever running at once (≤ maxConcurrency). */
  readonly running: number;
  readonly maxRunningSeen: number;
}

export class Consumer {
  readonly #options: ResolvedConsumerOptions;
  readonly #transport: ConsumerTransport;
  /** The client this consumer connected itself (closed with it); undefined for a given one. */
  readonly #ownedClient: RpcClient | undefined;
  readonly #logger: ConsumerLogger;
  readonly #session: ConsumerSession;
  readonly #fifo: boolean;
  readonly #budget: InFlightBudget;
  readonly #keeper: LeaseKeeper;
  readonly #settler: Settler;
  readonly #processor: MessageProcessor;
  readonly #dispatcher: Dispatcher;
  readonly #assignments: Assignments;
  readonly #receiveCounters: ReceiveCounters = { receives: 0, received: 0 };
  /** Messages received and not yet left (the budget also counts receives' reservations). */
  #held = 0;
  #maxHeld = 0;
  #closing: Promise<void> | undefined;

  private constructor(options: ResolvedConsumerOptions, connection: Connection, session: ConsumerSession) {
    this.#options = options;
    this.#transport = connection.transport;
    this.#ownedClient = connection.owned;
    this.#logger = connection.logger;
    this.#session = session;
    // FIFO mode is read once, from the first answer (as the Java client does): switching the
    // consumption mode of running loops would break the order it promises.
    this.#fifo = session.settings().fifo;
    const { group } = options;
    const transport = connection.transport;
    this.#budget = new InFlightBudget(options.maxInFlight);
    this.#keeper = new LeaseKeeper({
      transport,
      group,
      invisibleMs: options.invisibleDurationMs,
      logger: this.#logger,
    });
    this.#settler = new Settler({ transport, group, keeper: this.#keeper, logger: this.#logger });
    this.#processor = new MessageProcessor({
      handler: options.handler,
      settler: this.#settler,
      fifo: this.#fifo,
      policy: () => this.#policy(),
      logger: this.#logger,
    });
    this.#dispatcher = new Dispatcher({
      maxConcurrency: options.maxConcurrency,
      fifo: this.#fifo,
      run: (delivery) => this.#processor.run(delivery),
      onDone: (delivery) => this.#leave(delivery),
    });
    this.#assignments = new Assignments({
      transport,
      group,
      subscriptions: options.subscriptions,
      createLoop: (queue, subscription) => this.#createLoop(queue, subscription),
      logger: this.#logger,
      loopsPerQueue: options.receiveConcurrency ?? (this.#fifo ? 1 : DEFAULT_RECEIVE_CONCURRENCY),
      ...(options.assignmentRefreshMs === undefined ? {} : { refreshMs: options.assignmentRefreshMs }),
    });
  }

  /**
   * Registers the consumer with the server (Settings), queries its assignments and starts receiving.
   * @throws the typed errors of the options' checks (ILLEGAL_CONSUMER_GROUP, ILLEGAL_TOPIC,
   *   ILLEGAL_FILTER_EXPRESSION, ILLEGAL_INVISIBLE_TIME, RangeError, TypeError), and of the server's
   *   refusals (UNAUTHORIZED, FORBIDDEN, TOPIC_NOT_FOUND, CONSUMER_GROUP_NOT_FOUND, …) or timeouts.
   *   Nothing keeps running after a failed start.
   */
  static async start(options: ConsumerOptions): Promise<Consumer> {
    const resolved = resolveConsumerOptions(options);
    const connection = await connect(resolved);
    let session: ConsumerSession;
    try {
      session = await connection.transport.openSession(resolved.group, resolved.subscriptions);
    } catch (err) {
      await connection.owned?.close();
      throw err;
    }
    const consumer = new Consumer(resolved, connection, session);
    try {
      await consumer.#assignments.start();
    } catch (err) {
      await consumer.#assignments.stop();
      await session.close().catch(() => undefined);
      await connection.owned?.close();
      throw err;
    }
    return consumer;
  }

  get group(): string {
    return this.#options.group;
  }

  /** The server runs this group in FIFO mode (messages of a message group in order). */
  get fifo(): boolean {
    return this.#fifo;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  stats(): ConsumerStats {
    return {
      ...this.#receiveCounters,
      ...this.#processor.counters,
      ackCalls: this.#settler.acks.calls,
      nacks: this.#settler.nacks,
      deadLetterForwards: this.#settler.forwards,
      leaseRenewals: this.#keeper.renewals,
      inFlight: this.#held,
      maxInFlightSeen: this.#maxHeld,
      running: this.#dispatcher.running,
      maxRunningSeen: this.#dispatcher.highWater,
    };
  }

  /** Stops gracefully (see the file comment). Idempotent; never rejects. */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    const transport = this.#transport;
    const { shutdownTimeoutMs } = this.#options;
    await this.#assignments.stop();

    const notStarted = this.#dispatcher.stop();
    const handlersDeadline = Date.now() + shutdownTimeoutMs;
    if (!(await this.#dispatcher.whenIdle(handlersDeadline))) {
      const late = this.#dispatcher.runningDeliveries();
      for (const delivery of late) this.#giveUp(delivery);
      this.#logger.warn(
        `${late.length} handler(s) did not finish within ${shutdownTimeoutMs} ms; their messages are not ` +
          `acknowledged and will be delivered again: ${late.map((d) => d.messageId).join(', ')}`,
      );
    }
    if (notStarted.length > 0) {
      this.#logger.info(`${notStarted.length} received message(s) were not handled before the shutdown`);
    }
    this.#keeper.stop();
    await this.#settler.drain(Math.max(handlersDeadline, Date.now() + transport.requestTimeoutMs));

    try {
      await this.#session.close();
    } catch (err) {
      this.#logger.warn(
        `ending the consumer's session (NotifyClientTermination, telemetry) failed: ${describeError(err)}`,
      );
    }
    await this.#ownedClient?.close();
  }

  #createLoop(queue: MessageQueue, subscription: CheckedSubscription): ReceiveLoop {
    return new ReceiveLoop({
      transport: this.#transport,
      group: this.#options.group,
      queue,
      filter: toProtoFilter(subscription.filter),
      budget: this.#budget,
      parameters: () => this.#receiveParameters(),
      accept: (deliveries) => this.#accept(deliveries),
      logger: this.#logger,
      counters: this.#receiveCounters,
    });
  }

  #accept(deliveries: Delivery[]): void {
    this.#held += deliveries.length;
    if (this.#held > this.#maxHeld) this.#maxHeld = this.#held;
    for (const delivery of deliveries) this.#keeper.hold(delivery);
    this.#dispatcher.submit(deliveries);
  }

  /** A delivery left the dispatcher: its slot is free; unless it is being settled, it is given up. */
  #leave(delivery: Delivery): void {
    this.#giveUp(delivery);
    this.#held--;
    this.#budget.release(1);
  }

  #giveUp(delivery: Delivery): void {
    if (delivery.state === 'held') delivery.state = 'abandoned';
    this.#keeper.release(delivery);
  }

  #settings(): ConsumerServerSettings {
    return this.#session.settings();
  }

  #receiveParameters(): ReceiveParameters {
    const settings = this.#settings();
    const serverBatch = settings.receiveBatchSize;
    const asked = this.#options.receiveBatchSize;
    const longPoll = settings.longPollingTimeoutMs;
    return {
      // The server's batch caps every receive (Apache's brokers refuse more than theirs).
      batchSize:
        serverBatch !== undefined && Number.isInteger(serverBatch) && serverBatch > 0
          ? Math.min(serverBatch, asked ?? MAX_RECEIVE_BATCH_SIZE)
          : (asked ?? DEFAULT_RECEIVE_BATCH_SIZE),
      longPollingTimeoutMs:
        longPoll !== undefined && Number.isFinite(longPoll) && longPoll > 0
          ? longPoll
          : DEFAULT_LONG_POLLING_TIMEOUT_MS,
      invisibleMs: this.#options.invisibleDurationMs,
    };
  }

  #policy(): RetryPolicy {
    return effectivePolicy(this.#settings().retryPolicy, {
      ...(this.#options.retryBackoff === undefined ? {} : { backoff: this.#options.retryBackoff }),
      ...(this.#options.maxAttempts === undefined ? {} : { maxAttempts: this.#options.maxAttempts }),
    });
  }
}

/** The consumer's connection, ready to use. */
interface Connection {
  readonly transport: ConsumerTransport;
  /** A client the consumer connected itself. */
  readonly owned: RpcClient | undefined;
  readonly logger: ConsumerLogger;
}

async function connect(options: ResolvedConsumerOptions): Promise<Connection> {
  const source = options.connection;
  switch (source.kind) {
    case 'transport':
      return {
        transport: source.transport,
        owned: undefined,
        logger: options.logger ?? consoleConsumerLogger,
      };
    case 'client':
      return {
        transport: new RpcConsumerTransport(source.client),
        owned: undefined,
        logger: options.logger ?? source.client.options.logger,
      };
    case 'connect': {
      const client = await RpcClient.connect(source.options);
      return {
        transport: new RpcConsumerTransport(client),
        owned: client,
        logger: options.logger ?? client.options.logger,
      };
    }
  }
}

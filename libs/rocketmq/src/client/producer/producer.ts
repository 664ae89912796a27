/**
 * Producer: RocketMQ 5 publishing over gRPC, batched and pipelined (send-batcher.ts).
 *
 * ```ts
 * const producer = await Producer.start({ endpoints: '127.0.0.1:8081' });
 * const receipt = await producer.send({ topic: 'orders', body: JSON.stringify(order), tag: 'created' });
 * producer.sendOneWay({ topic: 'audit', body: 'seen' });
 * await producer.sendInTransaction({ topic: 'payments', body }, async () => ((await pay()) ? 'COMMIT' : 'ROLLBACK'));
 * await producer.close();
 * ```
 *
 * Start: connect (bounded by `startupTimeoutMs`), route the declared topics, open the telemetry
 * session and await the server's answer to the producer's Settings (max body size, backoff), all
 * within the same startup deadline; any failure closes what was opened and rejects with a typed
 * error. Every message is validated client-side with the server's rules before it is queued.
 * Close: refuse new sends, let queued and in-flight sends finish (bounded), end the session
 * (NotifyClientTermination, half-close), close the channels: the process can exit.
 */
import { hostname, platform, release } from 'node:os';
import { MAX_BODY_SIZE } from '@rocketnest/broker/core/limits.js';
import { MessageTypeConflictError } from '@rocketnest/broker/core/errors.js';
import { durationOf, millisOfDuration } from '@rocketnest/broker/grpc/proto-time.js';
import { ClientType, type Settings } from '@rocketnest/broker/grpc/proto-types.js';
import { ClientClosedError, RocketMQClientError, clientErrorOf } from '../errors.js';
import { type ClientLogger } from '../logger.js';
import { type TopicRoute } from '../route.js';
import { RpcClient } from '../rpc-client.js';
import { type OrphanedTransactionCommand, type TelemetrySession } from '../telemetry-session.js';
import { CLIENT_VERSION } from '../version.js';
import { prepareMessage, type PreparedMessage, type ProducerMessage } from './message.js';
import {
  DEFAULT_RETRY_BACKOFF,
  resolveProducerOptions,
  type ProducerOptions,
  type ResolvedProducerOptions,
  type RetryBackoffOptions,
  type SendCallback,
} from './producer-options.js';
import {
  type ProducerStats,
  type SendReceipt,
  type TransactionResolution,
  type TransactionResult,
} from './producer-types.js';
import { QueueSelector } from './queue-selector.js';
import { SendBatcher } from './send-batcher.js';
import { asResolution, checkMessageOf, endTransaction, sendHalfMessage } from './transactions.js';

/** proto `Language.NODE_JS` for the Settings user agent (a proto enum the proxy does not convert). */
const UA_LANGUAGE_NODE_JS = 8;

/** The local part of a transaction: decides the outcome once the half message is stored. */
export type LocalTransaction = (
  receipt: SendReceipt,
) => TransactionResolution | Promise<TransactionResolution>;

type State = 'running' | 'closing' | 'closed';

export class Producer {
  readonly #rpc: RpcClient;
  readonly #options: ResolvedProducerOptions;
  readonly #logger: ClientLogger;
  readonly #topics = new Set<string>();
  readonly #selector = new QueueSelector();
  readonly #transactions = new Set<Promise<unknown>>();
  readonly #stats = { sent: 0, failed: 0, oneWayFailed: 0, sendCalls: 0, retries: 0 };
  /** Sends accepted and not yet settled (close waits for them). */
  #outstanding = 0;
  #idleWaiters: Array<() => void> = [];
  #session!: TelemetrySession;
  #batcher!: SendBatcher;
  #state: State = 'running';
  #closing: Promise<void> | undefined;

  private constructor(rpc: RpcClient, options: ResolvedProducerOptions) {
    this.#rpc = rpc;
    this.#options = options;
    this.#logger = rpc.options.logger;
    for (const topic of options.topics) this.#topics.add(topic);
  }

  /**
   * A started producer.
   * @throws StartupTimeoutError when the endpoint is unreachable or silent past `startupTimeoutMs`
   * @throws RocketMQClientError the server's refusal (40100 bad credentials, 40300, 40002 bad topic, …)
   * @throws RangeError / TypeError for bad options
   */
  static async start(options: ProducerOptions): Promise<Producer> {
    const resolved = resolveProducerOptions(options);
    const started = Date.now();
    const rpc = await RpcClient.connect(options);
    const producer = new Producer(rpc, resolved);
    try {
      const deadline = started + rpc.options.startupTimeoutMs;
      await producer.#start(deadline);
    } catch (err) {
      await rpc.close();
      throw err;
    }
    return producer;
  }

  async #start(deadline: number): Promise<void> {
    this.#session = this.#rpc.openTelemetry(() => this.#settings());
    this.#session.on('recoverOrphanedTransaction', (command) => this.#onOrphan(command));
    this.#batcher = new SendBatcher({
      rpc: this.#rpc,
      batching: this.#options.batching,
      maxAttempts: this.#options.maxAttempts,
      backoffMs: (attempt) => this.#backoffMs(attempt),
      logger: this.#logger,
      onCall: () => this.#stats.sendCalls++,
      onRetry: () => this.#stats.retries++,
    });
    await this.#session.waitReady(deadline - Date.now());
    for (const topic of this.#options.topics) await this.#rpc.route(topic);
  }

  /** `x-mq-client-id` of this producer. */
  get clientId(): string {
    return this.#rpc.clientId;
  }

  /** Counters since start. */
  get stats(): ProducerStats {
    return { ...this.#stats };
  }

  /** The Settings this producer declares (on every telemetry stream). */
  #settings(): Settings {
    const backoff = this.#options.retryBackoff ?? DEFAULT_RETRY_BACKOFF;
    return {
      client_type: ClientType.PRODUCER,
      access_point: this.#rpc.accessPoint,
      request_timeout: durationOf(this.#rpc.options.requestTimeoutMs),
      backoff_policy: {
        max_attempts: this.#options.maxAttempts,
        exponential_backoff: {
          initial: durationOf(backoff.initialMs),
          max: durationOf(backoff.maxMs),
          multiplier: backoff.multiplier,
        },
      },
      publishing: {
        topics: [...this.#topics].map((t) => this.#rpc.resource(t)),
        validate_message_type: true,
      },
      user_agent: {
        language: UA_LANGUAGE_NODE_JS,
        version: CLIENT_VERSION,
        platform: `${platform()} ${release()} node ${process.version}`,
        hostname: hostname(),
      },
    };
  }

  /** The server's backoff (Settings) unless the options give one; 100 ms doubling to 2 s otherwise. */
  #backoffMs(attempt: number): number {
    let policy: Required<RetryBackoffOptions> | undefined = this.#options.retryBackoff;
    if (!policy) {
      const server = this.#session.serverSettings?.backoff_policy?.exponential_backoff;
      const initialMs = millisOfDuration(server?.initial);
      const maxMs = millisOfDuration(server?.max);
      const multiplier = server?.multiplier;
      policy =
        initialMs !== undefined && maxMs !== undefined && typeof multiplier === 'number' && multiplier >= 1
          ? { initialMs, maxMs, multiplier }
          : DEFAULT_RETRY_BACKOFF;
    }
    const delay = policy.initialMs * policy.multiplier ** Math.max(0, attempt - 1);
    return Math.min(policy.maxMs, Number.isFinite(delay) ? delay : policy.maxMs);
  }

  /** Largest body the server takes: its Settings answer, else RocketMQ's 4 MiB. */
  get #maxBodySize(): number {
    const advertised = this.#session.serverSettings?.publishing?.max_body_size;
    return typeof advertised === 'number' && advertised > 0 ? advertised : MAX_BODY_SIZE;
  }

  get #validateMessageType(): boolean {
    return this.#session.serverSettings?.publishing?.validate_message_type ?? true;
  }

  #checkOpen(): void {
    if (this.#state !== 'running') throw new ClientClosedError('the producer is closed');
  }

  #prepare(message: ProducerMessage, transaction = false): PreparedMessage {
    return prepareMessage(message, {
      namespace: this.#rpc.options.namespace,
      maxBodySize: this.#maxBodySize,
      hashKeyGroups: this.#options.hashKeyGroups,
      transaction,
    });
  }

  /**
   * The route of a message's topic, the topic declared in Settings (so the server knows this
   * producer publishes it: check-backs of its transactions come here), and the message's type
   * checked against what the topic accepts.
   */
  async #routeFor(message: PreparedMessage, awaitSettings: boolean): Promise<TopicRoute> {
    const topic = message.topic;
    const route = this.#rpc.peekRoute(topic) ?? (await this.#rpc.route(topic));
    if (this.#validateMessageType) {
      const accepted = route.writableQueues[0]?.acceptMessageTypes ?? [];
      if (accepted.length > 0 && !accepted.includes(message.protoType)) {
        throw clientErrorOf(new MessageTypeConflictError(message.type, `topic ${topic} does not accept it`));
      }
    }
    // Declared only once its route exists: Settings naming a topic the server refuses would be
    // refused as a whole (Apache fails the stream), unregistering the producer's other topics.
    if (!this.#topics.has(topic)) {
      this.#topics.add(topic);
      const synced = this.#session.sync().catch((err: unknown) => {
        if (err instanceof RocketMQClientError && !err.retryable && !(err instanceof ClientClosedError)) {
          this.#topics.delete(topic);
          this.#session.sync().catch(() => undefined);
        }
        throw err;
      });
      if (awaitSettings) await synced;
      else
        synced.catch((err: unknown) =>
          this.#logger.warn(`declaring topic ${topic} in Settings failed: ${String(err)}`),
        );
    }
    return route;
  }

  async #sendPrepared(message: PreparedMessage): Promise<SendReceipt> {
    this.#outstanding++;
    try {
      await this.#routeFor(message, false);
      const receipt = await this.#batcher.send(message);
      this.#stats.sent++;
      return receipt;
    } catch (err) {
      this.#stats.failed++;
      throw clientErrorOf(err);
    } finally {
      if (--this.#outstanding === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }

  /** Resolves true once no send is outstanding, false after `timeoutMs`. */
  #whenIdle(timeoutMs: number): Promise<boolean> {
    if (this.#outstanding === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Sends a message and resolves with its receipt once the server stored it. Concurrent sends to
   * one topic are batched; retryable failures are retried up to `maxAttempts`.
   * @throws RocketMQClientError: a validation error (the server's status code, nothing sent), the
   *   server's refusal, or the last retryable failure; ClientClosedError after `close()`
   */
  async send(message: ProducerMessage): Promise<SendReceipt> {
    this.#checkOpen();
    return this.#sendPrepared(this.#prepare(message));
  }

  /**
   * `send` with a Node-style callback, called once, asynchronously, with an error or the receipt.
   * A callback that throws is reported through the logger (error level), not re-thrown: the
   * producer's own work must not be cut short by it.
   */
  sendAsync(message: ProducerMessage, callback: SendCallback): void {
    if (typeof callback !== 'function') throw new TypeError('sendAsync needs a callback');
    const call = (err: RocketMQClientError | null, receipt?: SendReceipt): void => {
      try {
        callback(err, receipt);
      } catch (thrown) {
        this.#logger.error(
          `a sendAsync callback threw: ${thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown)}`,
        );
      }
    };
    this.send(message).then(
      (receipt) => call(null, receipt),
      (err: unknown) => call(clientErrorOf(err)),
    );
  }

  /**
   * Fire and forget: the message is queued and sent like any other (batched, retried), but nobody
   * waits for the result; a failure is logged and counted in `stats.oneWayFailed`, never an
   * unhandled rejection.
   * @throws RocketMQClientError synchronously for a message that fails validation (nothing is sent)
   * @throws ClientClosedError after `close()`
   */
  sendOneWay(message: ProducerMessage): void {
    this.#checkOpen();
    const prepared = this.#prepare(message);
    this.#sendPrepared(prepared).catch((err: unknown) => {
      this.#stats.oneWayFailed++;
      this.#logger.warn(
        `one-way message ${prepared.messageId} to ${prepared.topic} was not sent: ${String(err)}`,
      );
    });
  }

  /**
   * A transactional message: the half message is stored (invisible), `local` runs with its receipt
   * and decides, and the transaction is ended with COMMIT or ROLLBACK. UNKNOWN, or a `local` that
   * throws, leaves the outcome to the server's check-back and the `checker` option. The half message
   * is sent alone and never retried.
   * @throws RocketMQClientError of the half send or of EndTransaction; whatever `local` throws
   */
  async sendInTransaction(message: ProducerMessage, local: LocalTransaction): Promise<TransactionResult> {
    this.#checkOpen();
    if (typeof local !== 'function')
      throw new TypeError('sendInTransaction needs a local transaction function');
    const prepared = this.#prepare(message, true);
    const work = this.#transaction(prepared, local);
    this.#transactions.add(work);
    try {
      return await work;
    } finally {
      this.#transactions.delete(work);
    }
  }

  async #transaction(prepared: PreparedMessage, local: LocalTransaction): Promise<TransactionResult> {
    let receipt: SendReceipt;
    let endpoint: string;
    try {
      const route = await this.#routeFor(prepared, true);
      const queue = this.#selector.roundRobin(route);
      endpoint = queue.endpoint;
      this.#stats.sendCalls++;
      receipt = await sendHalfMessage(this.#rpc, prepared, queue);
      this.#stats.sent++;
    } catch (err) {
      this.#stats.failed++;
      throw clientErrorOf(err);
    }
    let resolution: TransactionResolution;
    try {
      const decided = await local(receipt);
      resolution = asResolution(decided) ?? 'UNKNOWN';
      if (asResolution(decided) === undefined) {
        this.#logger.warn(`the local transaction returned ${String(decided)}; treated as UNKNOWN`);
      }
    } catch (err) {
      this.#logger.warn(
        `the local transaction of message ${receipt.messageId} threw; its outcome is left to the checker: ${String(err)}`,
      );
      throw err;
    }
    if (resolution !== 'UNKNOWN') {
      await endTransaction(this.#rpc, {
        topic: prepared.topic,
        messageId: receipt.messageId,
        transactionId: receipt.transactionId!,
        resolution,
        source: 'CLIENT',
        endpoint,
      });
    }
    return { receipt, resolution };
  }

  #onOrphan(command: OrphanedTransactionCommand): void {
    const checker = this.#options.checker;
    const view = checkMessageOf(command, this.#rpc.options.namespace);
    if (!checker) {
      this.#logger.warn(
        `the server asks about transaction ${view.transactionId} (message ${view.messageId}, topic ` +
          `${view.topic}) but this producer has no checker; it stays unresolved`,
      );
      return;
    }
    const work = (async () => {
      let resolution: TransactionResolution | undefined;
      try {
        resolution = asResolution(await checker(view));
      } catch (err) {
        this.#logger.warn(`the transaction checker threw for ${view.transactionId}: ${String(err)}`);
        return;
      }
      if (resolution === undefined || resolution === 'UNKNOWN') return;
      try {
        await endTransaction(this.#rpc, {
          topic: view.topic,
          messageId: view.messageId,
          transactionId: view.transactionId,
          resolution,
          source: 'SERVER_CHECK',
          endpoint: command.endpoint,
        });
      } catch (err) {
        this.#logger.warn(`ending transaction ${view.transactionId} after a check failed: ${String(err)}`);
      }
    })();
    this.#transactions.add(work);
    void work.finally(() => this.#transactions.delete(work));
  }

  /**
   * Stops accepting sends, waits (up to `closeTimeoutMs`, default twice the request timeout) for
   * queued and in-flight sends and transactions, fails what is left with ClientClosedError, ends the
   * telemetry session and closes every channel. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#state = 'closing';
      const timeoutMs = this.#options.closeTimeoutMs ?? 2 * this.#rpc.options.requestTimeoutMs;
      const drained = await this.#whenIdle(timeoutMs);
      if (!drained) this.#logger.warn(`close: sends still under way after ${timeoutMs} ms are failed`);
      this.#batcher.close();
      if (this.#transactions.size > 0) {
        let timer: NodeJS.Timeout | undefined;
        await Promise.race([
          Promise.allSettled([...this.#transactions]),
          new Promise((resolve) => {
            timer = setTimeout(resolve, timeoutMs);
          }),
        ]);
        clearTimeout(timer);
      }
      await this.#rpc.close();
      this.#state = 'closed';
    })();
    return this.#closing;
  }
}

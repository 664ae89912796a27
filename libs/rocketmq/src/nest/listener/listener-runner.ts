/**
 * Runs one listener: its consumer (its own client id, see RocketMQConnection), the decoding of
 * each message, the call into the Nest pipeline and the translation of what it answers.
 *
 * - A message whose payload cannot be decoded never reaches the method and is never acknowledged:
 *   it is logged and fails like a thrown error (retried, then dead-lettered).
 * - The method's answer: `Reconsume.after(ms)` → retried after ms; `ConsumeResult.FAILURE` →
 *   retried after the backoff; anything else (nothing, or a value) → acknowledged. A thrown error
 *   (the method's, a pipe's, a guard's refusal) → retried after the backoff.
 * - Pause stops receiving and waits for running handlers (the consumer's graceful close); resume
 *   starts a new consumer in the same group, which continues where the group is.
 */
import { Logger } from '@nestjs/common';
import {
  Consumer,
  ConsumeResult,
  isRetryAfter,
  type ConsumerOptions,
  type ConsumerStats,
  type ReceivedMessageView,
  type RetryAfter,
} from '../../client/index.js';
import { RocketMQContext } from '../context/rocketmq-context.js';
import { nestClientLogger } from '../logging/nest-loggers.js';
import { type RocketMQConnection } from '../module/rocketmq-connection.js';
import { RocketMQBatchContext } from './batch-context.js';
import { BatchCollector, type ItemOutcome } from './batch-collector.js';
import { BatchResult } from './batch-result.js';
import { type ListenerDefinition } from './listener-definition.js';

export type ListenerState = 'stopped' | 'starting' | 'running' | 'pausing' | 'paused' | 'stopping' | 'failed';

/** Counters since the application started (they survive pause/resume). */
export interface ListenerCounters {
  /** Calls of the method that completed (a batch counts once). */
  readonly completed: number;
  /** Calls that threw (or were refused by a guard or a pipe). */
  readonly threw: number;
  /** Messages whose payload could not be decoded (never handed to the method). */
  readonly undecodable: number;
  /** Batches handed to a batch listener. */
  readonly batches: number;
}

/** What `RocketListenerRegistry.list()` says about a listener. */
export interface RocketListenerInfo {
  readonly id: string;
  readonly topic: string;
  readonly group: string;
  readonly pattern: string;
  readonly className: string;
  readonly methodName: string;
  readonly orderly: boolean;
  readonly model: 'clustering' | 'broadcasting';
  readonly batch: { readonly size: number; readonly waitMs: number } | undefined;
  readonly state: ListenerState;
  readonly counters: ListenerCounters;
  /** The running consumer's statistics (since its last start); undefined while not running. */
  readonly consumer: ConsumerStats | undefined;
  /** Why the last start failed, in `failed` state. */
  readonly error: string | undefined;
}

interface Decoded {
  readonly payload: unknown;
  readonly context: RocketMQContext;
}

export class ListenerRunner {
  readonly definition: ListenerDefinition;
  readonly #connection: RocketMQConnection;
  readonly #logger: Logger;
  readonly #counters = { completed: 0, threw: 0, undecodable: 0, batches: 0 };
  readonly #collector: BatchCollector<Decoded> | undefined;
  #consumer: Consumer | undefined;
  #state: ListenerState = 'stopped';
  #transition: Promise<void> = Promise.resolve();
  #error: string | undefined;
  /** Broadcasting: messages stored from this time on are this instance's (set at first start). */
  #broadcastFrom: number | undefined;
  #warnedRemote = false;

  constructor(definition: ListenerDefinition, connection: RocketMQConnection) {
    this.definition = definition;
    this.#connection = connection;
    this.#logger = new Logger(`RocketListener ${definition.id}`);
    const batch = definition.batch;
    this.#collector =
      batch === undefined
        ? undefined
        : new BatchCollector<Decoded>({
            size: batch.size,
            waitMs: batch.waitMs,
            handle: (items) => this.#handleBatch(items),
          });
  }

  get state(): ListenerState {
    return this.#state;
  }

  info(): RocketListenerInfo {
    const d = this.definition;
    return {
      id: d.id,
      topic: d.topic,
      group: d.group,
      pattern: d.pattern,
      className: d.className,
      methodName: d.methodName,
      orderly: d.orderly,
      model: d.model,
      batch: d.batch,
      state: this.#state,
      counters: { ...this.#counters, batches: this.#collector?.batches ?? 0 },
      consumer: this.#consumer?.stats(),
      error: this.#error,
    };
  }

  /** Starts consuming (no-op when running). @throws what `Consumer.start` throws */
  start(): Promise<void> {
    return this.#serialize(async () => {
      if (this.#state === 'running') return;
      this.#state = 'starting';
      try {
        this.#consumer = await Consumer.start(this.#consumerOptions());
      } catch (err) {
        this.#state = 'failed';
        this.#error = err instanceof Error ? err.message : String(err);
        throw err;
      }
      this.#error = undefined;
      this.#state = 'running';
      this.#checkServerSide(this.#consumer);
    });
  }

  /** Stops receiving and waits for running handlers (acked or retried), then leaves. */
  pause(): Promise<void> {
    return this.#serialize(() => this.#close('pausing', 'paused'));
  }

  /** Consumes again after `pause` (a new consumer in the same group). */
  resume(): Promise<void> {
    return this.start();
  }

  /** Shutdown: as `pause`, final. */
  stop(): Promise<void> {
    return this.#serialize(() => this.#close('stopping', 'stopped'));
  }

  async #close(during: ListenerState, after: ListenerState): Promise<void> {
    const consumer = this.#consumer;
    if (consumer === undefined) {
      if (this.#state !== 'failed' || after === 'stopped') this.#state = after;
      return;
    }
    this.#state = during;
    await consumer.close();
    this.#consumer = undefined;
    this.#state = after;
  }

  /** Transitions run one after another (a pause during a start waits for the start). */
  #serialize(step: () => Promise<void>): Promise<void> {
    const next = this.#transition.then(step, step);
    this.#transition = next.catch(() => undefined);
    return next;
  }

  #consumerOptions(): ConsumerOptions {
    const d = this.definition;
    this.#configureGroup();
    const batchSlots = d.batch === undefined ? undefined : d.batch.size * (d.concurrency ?? 1);
    const concurrency = batchSlots ?? d.concurrency;
    const maxInFlight =
      batchSlots === undefined ? d.maxInFlight : Math.max(d.maxInFlight ?? batchSlots, batchSlots);
    return {
      client: this.#connection.clientOptions,
      group: d.group,
      subscriptions: [{ topic: d.topic, filter: d.filter }],
      handler: (message) =>
        this.#collector === undefined ? this.#handleOne(message) : this.#handleInBatch(message),
      ...(concurrency === undefined ? {} : { maxConcurrency: concurrency }),
      ...(maxInFlight === undefined ? {} : { maxInFlight }),
      ...(d.invisibleDurationMs === undefined ? {} : { invisibleDurationMs: d.invisibleDurationMs }),
      ...(d.backoff === undefined ? {} : { retryBackoff: d.backoff }),
      ...(d.maxReconsumeTimes === undefined ? {} : { maxAttempts: d.maxReconsumeTimes + 1 }),
      ...(d.drainTimeoutMs === undefined ? {} : { shutdownTimeoutMs: d.drainTimeoutMs }),
      logger: nestClientLogger(`RocketListener ${d.id}`),
    };
  }

  /** The group's policy on the embedded broker: FIFO, max attempts, where broadcasting starts. */
  #configureGroup(): void {
    const d = this.definition;
    if (d.model === 'broadcasting') this.#broadcastFrom ??= Date.now();
    this.#connection.configureGroup(d.group, {
      fifo: d.orderly,
      ...(d.maxReconsumeTimes === undefined ? {} : { maxDeliveryAttempts: d.maxReconsumeTimes + 1 }),
      ...(this.#broadcastFrom === undefined
        ? {}
        : { consumeFrom: { kind: 'timestamp', timestamp: this.#broadcastFrom } }),
    });
  }

  /** On a remote server the group's settings are the server's: say when they differ from the code's. */
  #checkServerSide(consumer: Consumer): void {
    const d = this.definition;
    if (this.#connection.embedded || this.#warnedRemote) return;
    this.#warnedRemote = true;
    if (d.orderly && !consumer.fifo) {
      this.#logger.warn(
        `@Orderly() but the server runs group ${d.group} unordered: create it FIFO ` +
          `(Apache: mqadmin updateSubGroup -g ${d.group} -o true; built-in broker config: "fifo": true)`,
      );
    }
    if (d.maxReconsumeTimes !== undefined) {
      this.#logger.log(
        `maxReconsumeTimes ${d.maxReconsumeTimes} is the group's setting on the server ` +
          `(Apache: mqadmin updateSubGroup -g ${d.group} -r ${d.maxReconsumeTimes})`,
      );
    }
  }

  #decode(view: ReceivedMessageView): Decoded {
    const d = this.definition;
    const context = new RocketMQContext(view, d.group, d.pattern);
    try {
      return { payload: d.codec.deserialize(view), context };
    } catch (err) {
      this.#counters.undecodable++;
      this.#logger.error(
        `message ${view.messageId} of ${view.topic} (attempt ${view.deliveryAttempt}) cannot be decoded; ` +
          `it is not acknowledged (retried, then dead-lettered): ${err instanceof Error ? err.message : String(err)}`,
      );
      throw err;
    }
  }

  async #handleOne(view: ReceivedMessageView): Promise<ConsumeResult | void> {
    const { payload, context } = this.#decode(view);
    let result: unknown;
    try {
      result = await this.definition.invoke([payload, context]);
    } catch (err) {
      this.#counters.threw++;
      throw err;
    }
    this.#counters.completed++;
    return consumeResultOf(result);
  }

  #handleInBatch(view: ReceivedMessageView): Promise<ConsumeResult | void> {
    return this.#collector!.add(this.#decode(view));
  }

  async #handleBatch(items: readonly Decoded[]): Promise<readonly ItemOutcome[]> {
    const payloads = items.map((i) => i.payload);
    const context = new RocketMQBatchContext(items.map((i) => i.context));
    let result: unknown;
    try {
      result = await this.definition.invoke([payloads, context]);
    } catch (err) {
      this.#counters.threw++;
      throw err;
    }
    this.#counters.completed++;
    if (BatchResult.is(result)) {
      const failure: ItemOutcome = {
        ok: false,
        ...(result.retryAfterMs === undefined ? {} : { retryAfterMs: result.retryAfterMs }),
      };
      for (const index of result.failedIndexes) {
        if (index >= items.length) {
          this.#logger.warn(`BatchResult.failed names index ${index} of a batch of ${items.length}; ignored`);
        }
      }
      return items.map((_, i) => (result.failedIndexes.has(i) ? failure : { ok: true }));
    }
    const single = consumeResultOf(result);
    if (single === undefined) return items.map(() => ({ ok: true }));
    const all: ItemOutcome =
      single === ConsumeResult.FAILURE
        ? { ok: false }
        : { ok: false, retryAfterMs: (single as RetryAfter).delayMs };
    return items.map(() => all);
  }
}

/** What the method answered, as the consumer understands it (undefined = acknowledge). */
export function consumeResultOf(result: unknown): ConsumeResult | undefined {
  if (result === ConsumeResult.FAILURE) return ConsumeResult.FAILURE;
  return isRetryAfter(result) ? result : undefined;
}

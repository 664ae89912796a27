/**
 * Automatic batching of concurrent sends: messages of one topic travel together in ONE SendMessage
 * (the proto allows many messages per request), because a grpc-js unary call costs ~160 µs here and
 * tops out near 6k calls/s (PERFORMANCE.md), far below what the broker can store.
 *
 * Lanes. Sends are queued in a lane per topic and kind:
 * - standard (NORMAL) messages of a topic share one lane: up to `maxInFlight` batches at once;
 * - DELAY messages have their own lane and go one per call: Apache's brokers store a batch as plain
 *   messages, without timers, so delay messages are never batched;
 * - FIFO messages have a lane per message group with one call in flight: a group's messages reach
 *   the server in send order, and a retried call goes again before anything after it. A topic's
 *   FIFO lanes share `maxFifoInFlight` calls; a FIFO call carries one message unless `fifo: true`
 *   (see producer-options.ts: Apache's proxy would not keep a batched group in one queue).
 * (TRANSACTION messages never come here: see transactions.ts.)
 *
 * No added latency when idle: a send schedules its lane's flush on the microtask queue, so the
 * first send goes at once (together with whatever the same tick produced); sends arriving while
 * `maxInFlight` calls are under way wait and are coalesced into the next call, bounded by
 * `maxMessages` and `maxBytes` per call.
 *
 * Results: each entry of the response settles its own caller (MULTIPLE_RESULTS). A retryable
 * failure (of the call: transport, deadline, 42900, 500xx; or of an entry) is sent again after an
 * exponential backoff, up to `maxAttempts` per message; the lane keeps its slot during the backoff,
 * which keeps FIFO order. A request refused as a whole for a fault of one message (a 400xx the
 * client-side checks did not foresee) is re-sent one message per call, so that only the faulty
 * message fails.
 */
import { StatusCode } from '@rocketnest/broker/status-code.js';
import {
  ClientClosedError,
  RocketMQClientError,
  checkStatus,
  errorOfStatus,
  transportError,
} from '../errors.js';
import { type ClientLogger } from '../logger.js';
import { type RouteQueue, type TopicRoute } from '../route.js';
import { type RpcClient } from '../rpc-client.js';
import { type PreparedMessage } from './message.js';
import { type BatchingOptions } from './producer-options.js';
import { type SendReceipt } from './producer-types.js';
import { QueueSelector } from './queue-selector.js';

/** One message waiting for its result. */
export interface PendingSend {
  readonly message: PreparedMessage;
  /** Attempts made so far. */
  attempts: number;
  resolve(receipt: SendReceipt): void;
  reject(error: RocketMQClientError): void;
}

export interface SendBatcherOptions {
  readonly rpc: Pick<RpcClient, 'route' | 'peekRoute' | 'unaryWithId'>;
  readonly batching: Required<BatchingOptions>;
  readonly maxAttempts: number;
  /** Delay before attempt `attempt + 1` after `attempt` attempts failed. */
  readonly backoffMs: (attempt: number) => number;
  readonly logger: ClientLogger;
  /** Counters: one call made, one message retried. */
  readonly onCall: () => void;
  readonly onRetry: () => void;
}

/** Codes of a whole-request refusal that may come from a single message of the batch. */
function isPerMessageFault(err: RocketMQClientError): boolean {
  const c = err.code;
  return (
    (c >= StatusCode.BAD_REQUEST && c <= StatusCode.ILLEGAL_OFFSET) ||
    c === StatusCode.PAYLOAD_TOO_LARGE ||
    c === StatusCode.MESSAGE_BODY_TOO_LARGE ||
    c === StatusCode.MESSAGE_BODY_EMPTY ||
    c === StatusCode.REQUEST_HEADER_FIELDS_TOO_LARGE ||
    c === StatusCode.MESSAGE_PROPERTIES_TOO_LARGE
  );
}

/** A FIFO queue with O(1) shift (arrays shift in O(n)). */
class Queue<T> {
  #items: T[] = [];
  #head = 0;
  get length(): number {
    return this.#items.length - this.#head;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  peek(): T | undefined {
    return this.#items[this.#head];
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head]!;
    this.#items[this.#head] = undefined as T;
    this.#head++;
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
  drain(): T[] {
    const all = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    return all;
  }
}

/** Calls in flight shared by the FIFO lanes of one topic, and the lanes waiting for a slot. */
class Gate {
  inFlight = 0;
  /** Live lanes using this gate. */
  lanes = 0;
  readonly waiting = new Queue<Lane>();
  constructor(readonly max: number) {}
}

class Lane {
  readonly pending = new Queue<PendingSend>();
  inFlight = 0;
  scheduled = false;
  /** Queued in its gate's `waiting`. */
  waiting = false;
  constructor(
    readonly key: string,
    readonly topic: string,
    /** FIFO only. */
    readonly group: string | undefined,
    readonly maxInFlight: number,
    readonly maxMessages: number,
    /** FIFO lanes: the topic's shared limit. */
    readonly gate: Gate | undefined,
  ) {}
}

export class SendBatcher {
  readonly #options: SendBatcherOptions;
  readonly #lanes = new Map<string, Lane>();
  readonly #fifoGates = new Map<string, Gate>();
  readonly #selector = new QueueSelector();
  #closed = false;

  constructor(options: SendBatcherOptions) {
    this.#options = options;
  }

  /** Queues a prepared (non-transactional) message; resolves with its receipt. */
  send(message: PreparedMessage): Promise<SendReceipt> {
    if (this.#closed) return Promise.reject(new ClientClosedError('the producer is closed'));
    return new Promise<SendReceipt>((resolve, reject) => {
      const lane = this.#laneOf(message);
      lane.pending.push({ message, attempts: 0, resolve, reject });
      this.#schedule(lane);
    });
  }

  #laneOf(message: PreparedMessage): Lane {
    const { batching } = this.#options;
    let key: string;
    let lane: Lane | undefined;
    switch (message.type) {
      case 'FIFO':
        key = `${message.topic}\nF\n${message.messageGroup ?? ''}`;
        lane = this.#lanes.get(key);
        if (!lane) {
          let gate = this.#fifoGates.get(message.topic);
          if (!gate) {
            gate = new Gate(batching.maxFifoInFlight);
            this.#fifoGates.set(message.topic, gate);
          }
          const perCall = batching.fifo ? batching.maxMessages : 1;
          lane = new Lane(key, message.topic, message.messageGroup, 1, perCall, gate);
          gate.lanes++;
        }
        break;
      case 'DELAY':
        key = `${message.topic}\nD`;
        lane =
          this.#lanes.get(key) ?? new Lane(key, message.topic, undefined, batching.maxInFlight, 1, undefined);
        break;
      default:
        key = `${message.topic}\nN`;
        lane =
          this.#lanes.get(key) ??
          new Lane(key, message.topic, undefined, batching.maxInFlight, batching.maxMessages, undefined);
    }
    this.#lanes.set(key, lane);
    return lane;
  }

  #schedule(lane: Lane): void {
    if (lane.scheduled || lane.inFlight >= lane.maxInFlight) return;
    lane.scheduled = true;
    queueMicrotask(() => {
      lane.scheduled = false;
      this.#pump(lane);
    });
  }

  #pump(lane: Lane): void {
    const gate = lane.gate;
    while (lane.inFlight < lane.maxInFlight && lane.pending.length > 0) {
      if (gate && gate.inFlight >= gate.max) {
        // The topic's FIFO calls are all taken: wait for a slot, in turn.
        if (!lane.waiting) {
          lane.waiting = true;
          gate.waiting.push(lane);
        }
        return;
      }
      const batch = this.#take(lane);
      lane.inFlight++;
      if (gate) gate.inFlight++;
      void this.#dispatch(lane, batch).finally(() => {
        lane.inFlight--;
        if (gate) {
          gate.inFlight--;
          const next = gate.waiting.shift();
          if (next) {
            next.waiting = false;
            this.#pump(next);
          }
        }
        if (lane.pending.length > 0) this.#pump(lane);
        else if (lane.inFlight === 0) this.#retire(lane);
      });
    }
  }

  #take(lane: Lane): PendingSend[] {
    const { maxBytes } = this.#options.batching;
    const batch: PendingSend[] = [];
    let bytes = 0;
    while (batch.length < lane.maxMessages) {
      const next = lane.pending.peek();
      if (!next) break;
      // A message alone may exceed maxBytes (it is sent alone); otherwise the batch stays under it.
      if (batch.length > 0 && bytes + next.message.size > maxBytes) break;
      batch.push(lane.pending.shift()!);
      bytes += next.message.size;
    }
    return batch;
  }

  #retire(lane: Lane): void {
    if (lane.waiting || this.#lanes.get(lane.key) !== lane) return;
    this.#lanes.delete(lane.key);
    const gate = lane.gate;
    if (gate && --gate.lanes === 0 && this.#fifoGates.get(lane.topic) === gate)
      this.#fifoGates.delete(lane.topic);
  }

  /** Sends a batch until every message of it is settled (retries included). */
  async #dispatch(lane: Lane, batch: PendingSend[]): Promise<void> {
    let current = batch;
    while (current.length > 0) {
      const { retry, split } = await this.#attempt(lane, current);
      for (const single of split) await this.#dispatch(lane, [single]);
      if (retry.length === 0) return;
      const delay = this.#options.backoffMs(Math.max(...retry.map((s) => s.attempts)));
      if (delay > 0) await sleep(delay);
      if (this.#closed) {
        const err = new ClientClosedError('the producer closed before the message could be sent again');
        for (const s of retry) s.reject(err);
        return;
      }
      this.#options.onRetry();
      current = retry;
    }
  }

  /** One SendMessage call for `batch`: settles what it can, returns what to retry or split. */
  async #attempt(lane: Lane, batch: PendingSend[]): Promise<{ retry: PendingSend[]; split: PendingSend[] }> {
    for (const s of batch) s.attempts++;
    let route: TopicRoute;
    let queue: RouteQueue;
    try {
      route = this.#options.rpc.peekRoute(lane.topic) ?? (await this.#options.rpc.route(lane.topic));
      queue =
        lane.group !== undefined
          ? this.#selector.forGroup(route, lane.group)
          : this.#selector.roundRobin(route);
    } catch (err) {
      return this.#failed(batch, transportError(err, `route of ${lane.topic}`));
    }
    for (const s of batch) s.message.proto.system_properties!.queue_id = queue.id;
    this.#options.onCall();
    let response;
    let requestId: string;
    try {
      ({ response, requestId } = await this.#options.rpc.unaryWithId(
        'SendMessage',
        { messages: batch.map((s) => s.message.proto) },
        { endpoint: queue.endpoint, checkStatus: false },
      ));
    } catch (err) {
      return this.#failed(batch, transportError(err, `SendMessage to ${queue.endpoint}`));
    }
    const entries = response.entries ?? [];
    if (entries.length !== batch.length) {
      const failure = entries.length === 0 ? checkStatus(response.status, requestId) : undefined;
      if (failure) return this.#failed(batch, failure);
      // Entries that cannot be matched to messages: some may be stored, so never re-send them.
      const err = new RocketMQClientError(
        StatusCode.INTERNAL_ERROR,
        `SendMessage answered ${entries.length} entries for ${batch.length} messages`,
        false,
        { requestId },
      );
      for (const s of batch) s.reject(err);
      return { retry: [], split: [] };
    }
    const retry: PendingSend[] = [];
    for (let i = 0; i < batch.length; i++) {
      const s = batch[i]!;
      const entry = entries[i]!;
      const code = entry.status?.code;
      if (code === StatusCode.OK) {
        s.resolve({
          messageId: entry.message_id || s.message.messageId,
          topic: s.message.topic,
          queueId: queue.id,
          offset: typeof entry.offset === 'number' ? entry.offset : 0,
          ...(entry.transaction_id ? { transactionId: entry.transaction_id } : {}),
        });
        continue;
      }
      const err = errorOfStatus(code, entry.status?.message, { requestId });
      if (err.retryable && s.attempts < this.#options.maxAttempts) retry.push(s);
      else s.reject(err);
    }
    return { retry, split: [] };
  }

  #failed(batch: PendingSend[], err: RocketMQClientError): { retry: PendingSend[]; split: PendingSend[] } {
    if (err.retryable) {
      const retry = batch.filter((s) => s.attempts < this.#options.maxAttempts);
      for (const s of batch) if (!retry.includes(s)) s.reject(err);
      return { retry, split: [] };
    }
    if (batch.length > 1 && isPerMessageFault(err)) {
      this.#options.logger.debug(
        `a batch of ${batch.length} was refused (${err.message}); sending one by one`,
      );
      return { retry: [], split: batch };
    }
    for (const s of batch) s.reject(err);
    return { retry: [], split: [] };
  }

  /** Refuses new sends; fails the queued ones (in-flight calls settle by themselves). */
  close(): void {
    this.#closed = true;
    const err = new ClientClosedError('the producer closed before the message was sent');
    for (const lane of [...this.#lanes.values()]) {
      for (const s of lane.pending.drain()) s.reject(err);
      lane.waiting = false;
      if (lane.inFlight === 0) this.#retire(lane);
    }
    for (const gate of this.#fifoGates.values()) gate.waiting.drain();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

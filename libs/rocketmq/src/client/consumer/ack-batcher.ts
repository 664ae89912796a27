/**
 * Acknowledgements batched into AckMessage calls: one call carries many entries (the proto allows
 * it; a grpc-js unary call costs ~160 µs here, PERFORMANCE.md), one batch per (broker, topic) since
 * a request names one topic and goes to one broker.
 *
 * When a batch leaves: acks queued in one event-loop turn (a receive's batch of handlers finishing
 * together) leave together at the end of the turn (`setImmediate`), so an idle consumer adds no
 * latency; at most `maxCallsInFlight` calls per batch key are in flight, and while they are, acks
 * accumulate and leave as soon as one returns, so batches grow with the load by themselves; a
 * batch never exceeds `maxEntries`.
 *
 * Every entry gets its own answer (matched by receipt handle, else by position; no entries = the
 * top-level status for all):
 * - OK → acked.
 * - INVALID_RECEIPT_HANDLE → given up and logged: the lease ended (or the handle is stale), the
 *   server will deliver the message again, and retrying cannot help.
 * - anything else, a missing status, or a call that failed (gRPC error, deadline) → retried with
 *   backoff (100 ms doubling to 5 s), as long as the consumer runs; an ack is never dropped
 *   silently: `drain` waits for them, and logs by message id whatever is still unacknowledged when
 *   its deadline passes.
 */
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { type AckMessageResponse, type Endpoints, type Status } from '@rocketnest/broker/grpc/proto-types.js';
import { settleRetryDelayMs } from './backoff.js';
import { describeError, type ConsumerLogger, ThrottledLog } from './consumer-logger.js';
import { endpointsKey, type ConsumerTransport } from './consumer-transport.js';

/** Most entries of one AckMessage (the built-in broker accepts up to 1024). */
export const DEFAULT_MAX_ACK_ENTRIES = 256;
/** AckMessage calls in flight per (broker, topic). */
export const DEFAULT_MAX_ACK_CALLS = 4;

export type AckOutcome = 'acked' | 'invalid' | 'abandoned';

export interface AckRequest {
  readonly topic: string;
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly endpoints: Endpoints | null | undefined;
}

export interface AckBatcherOptions {
  readonly transport: ConsumerTransport;
  readonly group: string;
  readonly logger: ConsumerLogger;
  readonly maxEntries?: number;
  readonly maxCallsInFlight?: number;
}

interface Job {
  readonly request: AckRequest;
  readonly resolve: (outcome: AckOutcome) => void;
  failures: number;
  finished: boolean;
}

interface Lane {
  readonly topic: string;
  readonly endpoints: Endpoints | null | undefined;
  readonly pending: Job[];
  inFlight: number;
  scheduled: boolean;
}

export class AckBatcher {
  readonly #transport: ConsumerTransport;
  readonly #group: string;
  readonly #logger: ConsumerLogger;
  readonly #throttled: ThrottledLog;
  readonly #maxEntries: number;
  readonly #maxCalls: number;
  readonly #lanes = new Map<string, Lane>();
  readonly #jobs = new Set<Job>();
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  readonly #idleWaiters: (() => void)[] = [];
  /** AckMessage calls sent (for tests and statistics). */
  calls = 0;

  constructor(options: AckBatcherOptions) {
    this.#transport = options.transport;
    this.#group = options.group;
    this.#logger = options.logger;
    this.#throttled = new ThrottledLog(options.logger, 10_000);
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ACK_ENTRIES;
    this.#maxCalls = options.maxCallsInFlight ?? DEFAULT_MAX_ACK_CALLS;
  }

  /** Acks not yet answered for good. */
  get outstanding(): number {
    return this.#jobs.size;
  }

  /** Queues an ack; resolves once the server accepted it, refused it for good, or it was given up. */
  ack(request: AckRequest): Promise<AckOutcome> {
    return new Promise((resolve) => {
      const job: Job = { request, resolve, failures: 0, finished: false };
      this.#jobs.add(job);
      this.#enqueue(job);
    });
  }

  /**
   * Resolves when every queued ack has its answer, or at `deadline` (epoch ms): then the rest are
   * given up (logged with their message ids: they will be delivered again).
   */
  async drain(deadline: number): Promise<void> {
    if (this.#jobs.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.#idleWaiters.push(resolve);
        timer = setTimeout(resolve, Math.max(0, deadline - Date.now()));
      });
      clearTimeout(timer);
    }
    this.#abandonAll();
  }

  #abandonAll(): void {
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    if (this.#jobs.size === 0) return;
    const ids = [...this.#jobs].map((j) => j.request.messageId);
    this.#logger.error(
      `${ids.length} acknowledgement(s) could not be delivered before the consumer closed; these messages ` +
        `will be delivered again: ${ids.join(', ')}`,
    );
    for (const job of [...this.#jobs]) this.#finish(job, 'abandoned');
    for (const lane of this.#lanes.values()) lane.pending.length = 0;
  }

  #enqueue(job: Job): void {
    const { topic, endpoints } = job.request;
    const key = `${endpointsKey(endpoints)}\n${topic}`;
    let lane = this.#lanes.get(key);
    if (!lane) {
      lane = { topic, endpoints, pending: [], inFlight: 0, scheduled: false };
      this.#lanes.set(key, lane);
    }
    lane.pending.push(job);
    if (lane.inFlight >= this.#maxCalls) return; // leaves when a call returns
    if (lane.pending.length >= this.#maxEntries) {
      this.#pump(lane);
      return;
    }
    if (!lane.scheduled) {
      lane.scheduled = true;
      const scheduled = lane;
      setImmediate(() => {
        scheduled.scheduled = false;
        this.#pump(scheduled);
      });
    }
  }

  #pump(lane: Lane): void {
    while (lane.inFlight < this.#maxCalls && lane.pending.length > 0) {
      const batch = lane.pending.splice(0, this.#maxEntries).filter((j) => !j.finished);
      if (batch.length === 0) continue;
      lane.inFlight++;
      void this.#send(lane, batch).finally(() => {
        lane.inFlight--;
        if (lane.pending.length > 0) this.#pump(lane);
      });
    }
  }

  async #send(lane: Lane, batch: Job[]): Promise<void> {
    this.calls++;
    let response: AckMessageResponse;
    try {
      response = await this.#transport.ackMessages(
        {
          group: { name: this.#group },
          topic: { name: lane.topic },
          entries: batch.map((j) => ({
            message_id: j.request.messageId,
            receipt_handle: j.request.receiptHandle,
          })),
        },
        lane.endpoints,
      );
    } catch (err) {
      this.#throttled.warn(
        'call',
        `AckMessage of ${batch.length} entries failed: ${describeError(err)}; retrying`,
      );
      for (const job of batch) this.#retry(job);
      return;
    }
    const statuses = entryStatuses(batch, response);
    batch.forEach((job, i) => this.#settle(job, statuses[i]));
  }

  #settle(job: Job, status: Status | undefined): void {
    const code = status?.code;
    if (code === StatusCode.OK) {
      this.#finish(job, 'acked');
      return;
    }
    if (code === StatusCode.INVALID_RECEIPT_HANDLE) {
      this.#logger.warn(
        `the ack of message ${job.request.messageId} of ${job.request.topic} was refused ` +
          `(INVALID_RECEIPT_HANDLE: ${status?.message ?? ''}); its lease had ended, so it may be delivered again`,
      );
      this.#finish(job, 'invalid');
      return;
    }
    this.#throttled.warn(
      `status ${code}`,
      `the ack of message ${job.request.messageId} of ${job.request.topic} failed with status ` +
        `${code ?? 'none'} (${status?.message ?? 'no status'}); retrying`,
    );
    this.#retry(job);
  }

  #retry(job: Job): void {
    if (job.finished) return;
    job.failures++;
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer);
      if (!job.finished) this.#enqueue(job);
    }, settleRetryDelayMs(job.failures));
    this.#retryTimers.add(timer);
  }

  #finish(job: Job, outcome: AckOutcome): void {
    if (job.finished) return;
    job.finished = true;
    this.#jobs.delete(job);
    job.resolve(outcome);
    if (this.#jobs.size === 0) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }
}

/** Each job's status in `response`: by receipt handle, else by position, else the top-level one. */
function entryStatuses(batch: readonly Job[], response: AckMessageResponse): (Status | undefined)[] {
  const entries = response.entries ?? [];
  const top = response.status ?? undefined;
  if (entries.length === 0) return batch.map(() => top);
  const byHandle = new Map<string, Status | undefined>();
  for (const entry of entries) {
    if (entry.receipt_handle) byHandle.set(entry.receipt_handle, entry.status ?? undefined);
  }
  return batch.map((job, i) => {
    const status = byHandle.has(job.request.receiptHandle)
      ? byHandle.get(job.request.receiptHandle)
      : entries[i]?.status;
    // An entry without its own status shares the call's (a server that answers only at the top).
    return status ?? top;
  });
}

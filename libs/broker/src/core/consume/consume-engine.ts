/**
 * Pop-style consumption (RocketMQ 5 ReceiveMessage / AckMessage / ChangeInvisibleDuration /
 * ForwardMessageToDeadLetterQueue), on top of the store.
 *
 * A receive reads every queue of the topic and of the group's retry topic for it,
 * `%RETRY%<group>_<topic>` (RocketMQ 5's pop retry topic), from the group's committed offset on,
 * leases what it hands out and returns an HMAC'd receipt handle per message. Per (group, topic,
 * queue) the engine keeps a small table of the messages it read and has not finished
 * (queue-state.ts); the committed offset advances over the contiguous finished prefix and goes to
 * the OffsetStore. Leases live in memory only: after a restart everything not committed
 * is delivered again (at-least-once).
 *
 * A lease that ends (expiry, or a nack = ChangeInvisibleDuration 0) counts as a failed attempt:
 * - standard group: the message is copied to `%RETRY%<group>_<topic>` through the retry scheduler
 *   (the timer service), visible after the group's backoff, with `reconsumeTimes` = attempts so
 *   far; the original offset is then finished. This is RocketMQ's revive, and it keeps long backoffs out of memory.
 * - FIFO group: the message stays where it is, in backoff, and is redelivered in place with
 *   attempt + 1; its message group stays locked meanwhile (one message in flight per message group
 *   and queue, later messages of other groups are looked ahead to within a bounded window).
 * - either way, after `maxDeliveryAttempts` deliveries the message goes to `%DLQ%<group>`.
 *
 * Handles: a handle names its queue, offset, attempt and lease id; it is live while that entry
 * carries that lease. Acking a lease that expired but whose message was not redelivered yet is
 * accepted (PROTOCOL.md §2): a FIFO entry in backoff keeps its lease id, and a standard group's
 * moved lease is remembered by the late-ack ledger, which then suppresses the retry copy.
 *
 * Bounded memory: per (group, queue) at most `maxInFlightPerQueue` messages held (leased, in backoff
 * or being moved; a receive returns fewer beyond that) and `maxLookaheadPerQueue` read ahead; entries
 * carry offsets, not bodies. All time comes from the injected clock.
 */
import { randomInt } from 'node:crypto';
import { RocketError, StatusCode } from '../../status-code.js';
import { type StoredMessage } from '../../store/index.js';
import { systemClock, type Clock } from '../clock.js';
import { InvalidReceiptHandleError } from '../errors.js';
import { RECEIVE_BATCH_MAX } from '../limits.js';
import { groupHash, type ReceiptHandleCodec } from '../receipt-handle.js';
import {
  clampReceiveBatchSize,
  isRetryOrDlqTopic,
  validateConsumerGroup,
  validateInvisibleDuration,
  validateTopicName,
} from '../validation.js';
import {
  deadLetterCopy,
  deliveredView,
  messageGroupOf,
  resendCopy,
  retryCopy,
  retryFromOf,
  retryTopicPropertyOf,
} from './copies.js';
import { ConsumeEngineClosedError } from './errors.js';
import { LateAckLedger, DEFAULT_LATE_ACK_LEDGER_SIZE, leaseKey } from './late-ack-ledger.js';
import { LongPollRegistry, type WakeReason } from './long-poll.js';
import { dlqTopicOf, retryTopicOf } from './names.js';
import { QueueState, newEntry, type Entry } from './queue-state.js';
import {
  finishedAboveKey,
  saveFinishedAbove,
  takeFinishedAbove,
  type FinishedAbove,
} from './finished-above.js';
import {
  type AckEntry,
  type AckEntryResult,
  type ChangeInvisibleResult,
  type ConsumeFrom,
  type ConsumeLogger,
  type ConsumeStore,
  type GroupPolicy,
  type OffsetStore,
  type ReceiveRequest,
  type ReceivedMessage,
  type RetryScheduler,
} from './types.js';

export interface ConsumeEngineLimits {
  /** Messages held per (group, topic, queue): leased, in FIFO backoff or being moved. */
  readonly maxInFlightPerQueue: number;
  /** Messages read ahead and not handed out per (group, topic, queue) (FIFO look-ahead window). */
  readonly maxLookaheadPerQueue: number;
  /** Messages one receive reads from one queue at most (bounds the work of a filter rejecting most). */
  readonly maxScanPerQueue: number;
  /** Expired leases of standard groups remembered for late acks. */
  readonly lateAckLedgerSize: number;
  /** Most messages one receive returns (the broker's `maxReceiveBatchSize`). */
  readonly maxReceiveBatchSize: number;
}

/**
 * 2,000 held per queue and group is RocketMQ's order of magnitude for a pop consumer's un-acked
 * messages; entries are ~200 bytes, so a full queue costs ~0.8 MB with its look-ahead window.
 */
export const DEFAULT_CONSUME_LIMITS: ConsumeEngineLimits = Object.freeze({
  maxInFlightPerQueue: 2_000,
  maxLookaheadPerQueue: 2_000,
  maxScanPerQueue: 1_024,
  lateAckLedgerSize: DEFAULT_LATE_ACK_LEDGER_SIZE,
  maxReceiveBatchSize: RECEIVE_BATCH_MAX,
});

/** Messages read per store call when reading ahead (FIFO, retry queue). */
const READ_CHUNK = 32;
/** Group names whose handle hash is cached. */
const GROUP_HASH_CACHE = 10_000;
/** FIFO receives remembered by attempt id (oldest forgotten first); ~100 bytes each plus refs. */
const ATTEMPT_MEMORY = 10_000;

export interface ConsumeEngineOptions {
  readonly store: ConsumeStore;
  readonly codec: ReceiptHandleCodec;
  readonly offsets: OffsetStore;
  readonly retryScheduler: RetryScheduler;
  /** The group's delivery policy; called at each use. */
  readonly policyOf: (group: string) => GroupPolicy;
  /** Queues of a topic (ids 0..n−1). Default: the queues the store has for it. */
  readonly queueCount?: (topic: string) => number;
  readonly clock?: Clock;
  readonly limits?: Partial<ConsumeEngineLimits>;
  readonly logger?: ConsumeLogger;
  /**
   * Where `close()` records what was finished above the committed offsets, for the next engine
   * (finished-above.ts). Without it a restart redelivers messages finished out of order.
   */
  readonly progressPath?: string;
}

/** One receive call's fixed inputs and its output. */
interface Pass {
  readonly group: string;
  readonly topic: string;
  readonly filter: ReceiveRequest['filter'];
  readonly batch: number;
  readonly invisibleMs: number;
  readonly clientId: string | undefined;
  readonly policy: GroupPolicy;
  readonly now: number;
  readonly out: ReceivedMessage[];
  /** FIFO receives with an attempt id: what was leased, to hand back on a repeat of the id. */
  readonly leased: LeaseRef[] | undefined;
  readonly retryAtLeaseEnd: boolean;
  /** FIFO: message groups with an earlier unfinished message in the queue being read. */
  blocked: Set<string> | undefined;
}

/** One lease handed out by a receive: live while the entry still carries `leaseId`. */
interface LeaseRef {
  readonly state: QueueState;
  readonly entry: Entry;
  readonly leaseId: number;
}

interface Located {
  readonly state: QueueState | undefined;
  /** The entry, only when it carries the handle's lease. */
  readonly entry: Entry | undefined;
  readonly key: string;
  readonly leaseId: number;
}

const consoleLogger: ConsumeLogger = {
  warn: (m) => console.warn(`[consume] ${m}`),
  error: (m) => console.error(`[consume] ${m}`),
};

export class ConsumeEngine {
  readonly #store: ConsumeStore;
  readonly #codec: ReceiptHandleCodec;
  readonly #offsets: OffsetStore;
  readonly #retry: RetryScheduler;
  readonly #policyOf: (group: string) => GroupPolicy;
  readonly #queueCount: (topic: string) => number;
  readonly #clock: Clock;
  readonly #limits: ConsumeEngineLimits;
  readonly #logger: ConsumeLogger;
  /** group → topic → queue id → state. */
  readonly #states = new Map<string, Map<string, Map<number, QueueState>>>();
  readonly #ledger: LateAckLedger;
  readonly #polls: LongPollRegistry;
  readonly #groupHashes = new Map<string, number>();
  /** `group\0topic\0attemptId` → the leases that receive handed out (see `#repeatAttempt`). */
  readonly #attempts = new Map<string, LeaseRef[]>();
  /** Retry and DLQ writes under way. */
  readonly #pending = new Set<Promise<unknown>>();
  readonly #unsubscribe: () => void;
  readonly #progressPath: string | undefined;
  /** What the last graceful close finished above the committed offsets, until each queue is opened. */
  readonly #restored: Map<string, FinishedAbove>;
  /**
   * Lease ids only have to be unique within one broker epoch; a random start also keeps a handle of
   * an earlier run (same secret and epoch) from matching a lease of this one.
   */
  #nextLeaseId = randomInt(1, 2 ** 47);
  #turn = 0;
  #closed = false;

  constructor(options: ConsumeEngineOptions) {
    this.#store = options.store;
    this.#codec = options.codec;
    this.#offsets = options.offsets;
    this.#retry = options.retryScheduler;
    this.#policyOf = options.policyOf;
    this.#queueCount = options.queueCount ?? ((topic) => storeQueueCount(this.#store, topic));
    this.#clock = options.clock ?? systemClock;
    this.#limits = { ...DEFAULT_CONSUME_LIMITS, ...options.limits };
    this.#logger = options.logger ?? consoleLogger;
    this.#progressPath = options.progressPath;
    this.#restored =
      options.progressPath === undefined
        ? new Map()
        : takeFinishedAbove(options.progressPath, (m) => this.#logger.warn(m));
    this.#ledger = new LateAckLedger(this.#limits.lateAckLedgerSize);
    this.#polls = new LongPollRegistry(this.#clock);
    this.#unsubscribe = this.#store.onDispatch((requests) => {
      // The store's hot path: nothing to do unless someone is parked.
      if (this.#polls.size === 0) return;
      // n messages of a topic wake n waiters per group (long-poll.ts), counted per run of a topic.
      let last: string | undefined;
      let run = 0;
      for (const r of requests) {
        if (r.topic !== last) {
          if (last !== undefined && this.#polls.has(last)) this.#polls.notify(last, run);
          last = r.topic;
          run = 0;
        }
        run++;
      }
      if (last !== undefined && this.#polls.has(last)) this.#polls.notify(last, run);
    });
  }

  // ------------------------------------------------------------------------------------- receive

  /**
   * Up to `batchSize` visible messages of `topic` (and of the group's retry topic, for this topic),
   * each leased for `invisibleMs`. Synchronous: the store reads are.
   * @throws IllegalConsumerGroupError, IllegalTopicError, IllegalInvisibleTimeError
   */
  receive(request: ReceiveRequest): ReceivedMessage[] {
    this.#checkOpen();
    const { group, topic } = request;
    validateConsumerGroup(group);
    validateTopicName(topic, { allowRetryDlq: true });
    const policy = this.#policyOf(group);
    const attemptKey =
      typeof request.attemptId === 'string' && request.attemptId !== ''
        ? `${group}\0${topic}\0${request.attemptId}`
        : undefined;
    const pass: Pass = {
      group,
      topic,
      filter: request.filter,
      batch: clampReceiveBatchSize(request.batchSize, this.#limits.maxReceiveBatchSize),
      invisibleMs: validateInvisibleDuration(request.invisibleMs),
      clientId: request.clientId,
      policy,
      now: this.#clock.now(),
      out: [],
      leased: attemptKey === undefined ? undefined : [],
      retryAtLeaseEnd: request.retryAfter === 'lease-end',
      blocked: undefined,
    };
    if (attemptKey !== undefined && this.#repeatAttempt(attemptKey, pass)) return pass.out;
    const queues = this.#queuesOf(pass);
    // Start at a different queue each time so that one busy queue does not starve the others.
    const start = queues.length === 0 ? 0 : this.#turn++ % queues.length;
    for (let i = 0; i < queues.length && pass.out.length < pass.batch; i++) {
      const state = queues[(start + i) % queues.length]!;
      this.#pull(state, pass);
      this.#commitIfAdvanced(state);
    }
    if (attemptKey !== undefined && pass.leased!.length > 0) this.#rememberAttempt(attemptKey, pass.leased!);
    return pass.out;
  }

  /**
   * A repeated attempt id whose messages are all still leased under the leases it handed out (the
   * client never got that answer): the same messages again, same attempt numbers, fresh leases and
   * handles; the old handles go stale. False (and forgotten) once any of them moved on. Standard and
   * FIFO groups alike: without it, a standard group's lost batch would stay leased until its leases
   * end and then come back with attempt + 1, for a client that never saw it.
   */
  #repeatAttempt(key: string, pass: Pass): boolean {
    const refs = this.#attempts.get(key);
    if (refs === undefined) return false;
    this.#attempts.delete(key);
    const live = refs.every(
      ({ state, entry, leaseId }) =>
        entry.state === 'leased' &&
        entry.leaseId === leaseId &&
        state.entries.get(entry.offset) === entry &&
        this.#states.get(state.group)?.get(state.topic)?.get(state.queueId) === state,
    );
    if (!live) return false;
    for (const { state, entry } of refs) {
      const message = this.#read(state, entry);
      if (!message) return pass.out.length > 0;
      this.#lease(state, entry, entry.attempt, message, pass);
    }
    this.#rememberAttempt(key, pass.leased!);
    return true;
  }

  #rememberAttempt(key: string, refs: LeaseRef[]): void {
    if (this.#attempts.size >= ATTEMPT_MEMORY) {
      const oldest = this.#attempts.keys().next().value;
      if (oldest !== undefined) this.#attempts.delete(oldest);
    }
    this.#attempts.set(key, refs);
  }

  /**
   * Resolves when something may have become visible for `group` on `topic` (a dispatch to it or to
   * the group's retry topic, a FIFO backoff ending, a lease handed back, a message group released),
   * after `timeoutMs` on the clock, or when `signal` aborts. Call it right after an empty receive,
   * in the same turn of the event loop, then receive again.
   */
  waitForMessages(
    group: string,
    topic: string,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WakeReason> {
    if (this.#closed) return Promise.resolve('closed');
    const retry = retryTopicOf(group, topic);
    return this.#polls.wait(topic === retry ? [topic] : [topic, retry], timeoutMs, signal, group);
  }

  #queuesOf(pass: Pass): QueueState[] {
    const out: QueueState[] = [];
    const count = this.#queueCount(pass.topic);
    for (let q = 0; q < count; q++)
      out.push(this.#stateFor(pass.group, pass.topic, q, pass.policy.consumeFrom));
    const retry = retryTopicOf(pass.group, pass.topic);
    if (retry !== pass.topic) {
      // Retry copies are only ever written by this engine (queue 0); read whatever queues exist.
      for (const q of this.#store.queueIds(retry))
        out.push(this.#stateFor(pass.group, retry, q, pass.policy.consumeFrom));
    }
    return out;
  }

  #pull(state: QueueState, pass: Pass): void {
    const fifo = pass.policy.fifo;
    pass.blocked = fifo ? new Set<string>() : undefined;
    // A standard group only has visible entries in the table after a release or a failed move.
    if (fifo || state.waiting > 0 || state.count('backoff') > 0) {
      if (!this.#pullTracked(state, pass)) return;
    }
    this.#pullFresh(state, pass);
  }

  /** Delivers visible entries of the table, in offset order. Returns false when the batch is full. */
  #pullTracked(state: QueueState, pass: Pass): boolean {
    const blocked = pass.blocked;
    for (const entry of state.entries.values()) {
      if (pass.out.length >= pass.batch) return false;
      if (entry.realTopic !== pass.topic) continue; // a copy made by a consumer of the retry topic itself
      const group = entry.messageGroup;
      if (blocked && group !== undefined) {
        if (blocked.has(group)) continue;
        // Whatever happens to this entry, nothing later of its group goes out in this pass.
        blocked.add(group);
      }
      const visible = entry.state === 'ready' || (entry.state === 'backoff' && entry.visibleAt <= pass.now);
      if (!visible) continue;
      if (entry.state === 'ready' && state.held >= this.#limits.maxInFlightPerQueue) continue;
      const message = this.#read(state, entry);
      if (!message) continue;
      if (!pass.filter.matches(message)) {
        // The subscription changed since the message was read: it is filtered out now.
        this.#finish(state, entry);
        continue;
      }
      this.#deliver(state, entry, message, pass);
    }
    return pass.out.length < pass.batch;
  }

  /** Reads on from `state.scanned`. */
  #pullFresh(state: QueueState, pass: Pass): void {
    const limits = this.#limits;
    const retryQueue = state.topic !== pass.topic;
    const room = (): boolean =>
      pass.out.length < pass.batch &&
      state.held < limits.maxInFlightPerQueue &&
      state.waiting < limits.maxLookaheadPerQueue;
    let examined = 0;
    while (room() && examined < limits.maxScanPerQueue) {
      const want = pass.blocked || retryQueue ? READ_CHUNK : pass.batch - pass.out.length;
      const result = this.#store.getMessages(
        state.topic,
        state.queueId,
        state.scanned,
        Math.min(want, limits.maxScanPerQueue - examined),
        // No tag pre-filter on a retry queue: a copy may not be this topic's, so a miss is not "done".
        retryQueue ? {} : { tagFilter: pass.filter.tagsCodeFilter },
      );
      const from = state.scanned;
      if (result.status === 'NO_MESSAGE_IN_QUEUE' && result.nextOffset > from) {
        state.scanned = result.nextOffset; // retention removed everything up to here
        break;
      }
      if (result.status !== 'FOUND' && result.status !== 'NO_MATCHED_MESSAGE') break;
      let stopAt: number | undefined;
      for (const message of result.messages) {
        if (!room() || examined >= limits.maxScanPerQueue) {
          stopAt = message.queueOffset;
          break;
        }
        examined++;
        this.#take(state, message, pass, retryQueue);
      }
      // Offsets below the next read that were not returned were filtered out by tag (or corrupt).
      state.scanned = stopAt ?? result.nextOffset;
      if (state.scanned <= from || stopAt !== undefined) break;
      if (result.messages.length === 0) examined += Math.min(result.nextOffset - from, READ_CHUNK);
    }
  }

  /** A message read for the first time: filter it out, track it, or deliver it. */
  #take(state: QueueState, message: StoredMessage, pass: Pass, retryQueue: boolean): void {
    if (state.restored?.delete(message.queueOffset)) {
      if (state.restored.size === 0) state.restored = undefined;
      return; // finished before the last graceful close
    }
    const realTopic = retryQueue ? (retryTopicPropertyOf(message) ?? pass.topic) : state.topic;
    const from = retryQueue ? retryFromOf(message) : undefined;
    const originKey = from && leaseKey(state.group, from.topic, from.queueId, from.queueOffset);
    // A retry copy's delivery continues the count; anything else starts at 1.
    const nextAttempt = retryQueue ? message.reconsumeTimes + 1 : 1;
    if (realTopic !== pass.topic) {
      // Not a retry of this topic. `_` is legal in group and topic names, so `%RETRY%a_b_c` is the
      // retry topic of both a/b_c and a_b/c: a copy naming another topic is the other pair's, and
      // is finished for this group (kept, it would fill the look-ahead window for good).
      if (realTopic !== state.topic) return;
      // A copy made by a consumer of the retry topic itself: keep it for that receive.
      const group = pass.blocked ? messageGroupOf(message) : undefined;
      state.add(
        newEntry(message.queueOffset, message.physicalOffset, realTopic, group, nextAttempt, originKey),
      );
      return;
    }
    if (!pass.filter.matches(message)) return; // finished: filtered out
    const group = pass.blocked ? messageGroupOf(message) : undefined;
    const entry = newEntry(
      message.queueOffset,
      message.physicalOffset,
      realTopic,
      group,
      nextAttempt,
      originKey,
    );
    state.add(entry);
    if (pass.blocked && group !== undefined) {
      if (pass.blocked.has(group)) return; // look-ahead: waits for its group
      pass.blocked.add(group);
    }
    this.#deliver(state, entry, message, pass);
  }

  #deliver(state: QueueState, entry: Entry, message: StoredMessage, pass: Pass): void {
    if (entry.originKey !== undefined) {
      const record = this.#ledger.take(entry.originKey);
      entry.originKey = undefined;
      if (record?.acked) {
        // The lease this copy was made from was acked after it expired: the copy is not needed.
        this.#finish(state, entry);
        return;
      }
    }
    const attempt = entry.nextAttempt;
    const max = pass.policy.maxDeliveryAttempts;
    if (attempt > max) {
      // The group's maximum was lowered, or a copy came from a group with a higher one.
      void this.#deadLetter(
        state,
        entry,
        message,
        `delivery attempt ${attempt} exceeds the group's maximum of ${max}`,
        attempt - 1,
      );
      return;
    }
    this.#lease(state, entry, attempt, message, pass);
  }

  #lease(state: QueueState, entry: Entry, attempt: number, message: StoredMessage, pass: Pass): void {
    this.#clearTimer(entry);
    state.setState(entry, 'leased');
    entry.attempt = attempt;
    entry.leaseId = this.#nextLeaseId++;
    entry.invisibleUntil = pass.now + pass.invisibleMs;
    entry.clientId = pass.clientId;
    entry.retryAtLeaseEnd = pass.retryAtLeaseEnd;
    this.#armLease(state, entry);
    pass.leased?.push({ state, entry, leaseId: entry.leaseId });
    pass.out.push({
      receiptHandle: this.#encode(state, entry),
      deliveryAttempt: attempt,
      invisibleUntil: entry.invisibleUntil,
      message: deliveredView(message, entry.realTopic),
      queue: { topic: state.topic, queueId: state.queueId, queueOffset: entry.offset },
    });
  }

  // ------------------------------------------------------------------------------------- ack

  /**
   * Finishes the delivery a handle names.
   * @throws InvalidReceiptHandleError (INVALID_RECEIPT_HANDLE) for a garbage, forged, foreign or stale
   *   handle: already acked, redelivered, dead-lettered, or replaced by ChangeInvisibleDuration.
   */
  ack(group: string, receiptHandle: string): void {
    const { state, entry, key, leaseId } = this.#locate(group, receiptHandle);
    if (state && entry) {
      switch (entry.state) {
        case 'leased':
        case 'backoff':
          this.#finish(state, entry);
          return;
        case 'retrying':
          if (entry.lateAcked) break;
          entry.lateAcked = true;
          return;
        case 'deadLettering':
          throw new InvalidReceiptHandleError('the message is being moved to the dead-letter queue');
        case 'ready':
          break;
      }
    }
    if (this.#ledger.ack(key, leaseId)) return;
    throw new InvalidReceiptHandleError(
      'stale: the message was acked, redelivered or dead-lettered, or its lease was replaced',
    );
  }

  /** AckMessage with several entries: one result per entry, in order; never throws. */
  ackMany(group: string, entries: readonly AckEntry[]): AckEntryResult[] {
    return entries.map(({ receiptHandle, messageId }) => {
      try {
        this.ack(group, receiptHandle);
        return { receiptHandle, messageId, code: StatusCode.OK, error: undefined };
      } catch (err) {
        if (err instanceof RocketError)
          return { receiptHandle, messageId, code: err.code, error: err.message };
        this.#logger.error(`ack failed: ${describe(err)}`);
        return { receiptHandle, messageId, code: StatusCode.INTERNAL_ERROR, error: 'internal error' };
      }
    });
  }

  /**
   * ChangeInvisibleDuration: a new lease (and handle) ending `invisibleMs` from now; the old handle
   * goes stale. `0` is a nack: the delivery failed, and the message comes back after the group's
   * backoff with attempt + 1 (or goes to the DLQ after the last attempt). The returned handle can
   * still ack the message until it is redelivered.
   * @throws IllegalInvisibleTimeError outside 0..12 h; InvalidReceiptHandleError as `ack`
   */
  changeInvisibleDuration(group: string, receiptHandle: string, invisibleMs: number): ChangeInvisibleResult {
    const ms = validateInvisibleDuration(invisibleMs, { minMs: 0 });
    const { state, entry } = this.#liveLease(group, receiptHandle);
    entry.leaseId = this.#nextLeaseId++;
    const now = this.#clock.now();
    if (ms > 0) {
      this.#clearTimer(entry);
      state.setState(entry, 'leased');
      entry.invisibleUntil = now + ms;
      this.#armLease(state, entry);
    } else if (entry.state === 'leased') {
      entry.invisibleUntil = now;
      this.#leaseEnded(state, entry, `negatively acknowledged after delivery attempt ${entry.attempt}`, true);
    }
    // A nack of a FIFO message already in backoff only renews its handle; the backoff runs on.
    return { receiptHandle: this.#encode(state, entry), invisibleUntil: entry.invisibleUntil };
  }

  /**
   * Extends a lease keeping its handle valid (auto-renewal of a Push consumer's lease).
   * Returns the new end of the lease.
   */
  renewLease(group: string, receiptHandle: string, invisibleMs: number): number {
    const ms = validateInvisibleDuration(invisibleMs, { minMs: 1 });
    const { state, entry } = this.#liveLease(group, receiptHandle);
    if (entry.state !== 'leased') throw new InvalidReceiptHandleError('the lease already ended');
    this.#clearTimer(entry);
    entry.invisibleUntil = this.#clock.now() + ms;
    this.#armLease(state, entry);
    return entry.invisibleUntil;
  }

  /**
   * Makes a leased message visible again at once without counting an attempt (a receive the client
   * never got: cancelled call, failed write). Returns false for a handle that is not live.
   */
  release(group: string, receiptHandle: string): boolean {
    let found: { state: QueueState; entry: Entry };
    try {
      found = this.#liveLease(group, receiptHandle);
    } catch (err) {
      if (err instanceof InvalidReceiptHandleError) return false;
      throw err;
    }
    if (found.entry.state !== 'leased') return false;
    this.#unlease(found.state, found.entry);
    return true;
  }

  /** Releases every lease received by `clientId` (client gone: NotifyClientTermination, no heartbeat). */
  releaseClient(clientId: string): number {
    let released = 0;
    for (const topics of this.#states.values()) {
      for (const queues of topics.values()) {
        for (const state of queues.values()) {
          for (const entry of state.entries.values()) {
            if (entry.state === 'leased' && entry.clientId === clientId) {
              this.#unlease(state, entry);
              released++;
            }
          }
        }
      }
    }
    return released;
  }

  /**
   * ForwardMessageToDeadLetterQueue: copies the message to `%DLQ%<group>` now and finishes it.
   * Resolves once the copy is stored.
   * @throws InvalidReceiptHandleError as `ack`; the store's error if the copy cannot be written
   */
  async forwardToDeadLetter(group: string, receiptHandle: string, reason?: string): Promise<void> {
    const { state, entry } = this.#liveLease(group, receiptHandle);
    const why =
      reason === undefined || reason === '' ? 'forwarded to the dead-letter queue by the consumer' : reason;
    await this.#deadLetter(state, entry, undefined, why, entry.attempt);
  }

  // ------------------------------------------------------------------------------------- DLQ, offsets

  /**
   * Sends dead letters of `group` back to the topic they came from, with their message id, as fresh
   * messages. All of them, or those with the given ids (the latest DLQ copy of each). Dead letters
   * stay in the DLQ (the log is append-only); returns how many were resent.
   */
  async resendFromDeadLetter(group: string, messageIds?: readonly string[]): Promise<number> {
    this.#checkOpen();
    validateConsumerGroup(group);
    const dlq = dlqTopicOf(group);
    let resent = 0;
    if (messageIds !== undefined) {
      for (const id of new Set(messageIds)) {
        if (typeof id !== 'string' || id === '') continue;
        let latest: StoredMessage | undefined;
        for (const m of await this.#store.queryByMessageId(id)) {
          if (m.topic === dlq && (!latest || m.physicalOffset > latest.physicalOffset)) latest = m;
        }
        if (!latest) continue;
        await this.#store.append(resendCopy(latest, this.#queueCount));
        resent++;
      }
      return resent;
    }
    for (const queueId of this.#store.queueIds(dlq)) {
      // Up to the end as it is now: a message dead-lettered again meanwhile is not resent twice.
      const end = this.#store.maxOffset(dlq, queueId);
      let offset = this.#store.minOffset(dlq, queueId);
      while (offset < end) {
        const result = this.#store.getMessages(dlq, queueId, offset, READ_CHUNK);
        const copies = result.messages
          .filter((m) => m.queueOffset < end)
          .map((m) => resendCopy(m, this.#queueCount));
        await Promise.all(copies.map((copy) => this.#store.append(copy)));
        resent += copies.length;
        if (result.nextOffset <= offset) break;
        offset = result.nextOffset;
      }
    }
    return resent;
  }

  /**
   * The group's offset in a queue was reset (ConsumerOffsets `onReset`): drop what was read and
   * leased there and read from `offset` on. Handles of dropped leases go stale.
   */
  resetOffset(group: string, topic: string, queueId: number, offset: number): void {
    this.#restored.delete(finishedAboveKey(group, topic, queueId)); // finished before the reset: moot
    const state = this.#states.get(group)?.get(topic)?.get(queueId);
    if (!state) return;
    for (const entry of state.clear()) this.#clearTimer(entry);
    state.committed = offset;
    state.scanned = offset;
    this.#polls.notify(topic);
  }

  /**
   * `topic` was deleted: drop what every group read, leased or read ahead in it and in its retry
   * topics, so that a topic created again under the name is read from wherever the offset store then
   * says (deleting the stored offsets is the caller's job). Handles of dropped leases go stale
   * (INVALID_RECEIPT_HANDLE), timers of dropped entries stop, and retry or DLQ writes under way
   * complete without touching offsets. Long polls are left parked: they wake on the next message.
   */
  forgetTopic(topic: string): void {
    for (const [group, topics] of this.#states) {
      this.#dropTopic(topics, topic);
      this.#dropTopic(topics, retryTopicOf(group, topic));
      if (topics.size === 0) this.#states.delete(group);
    }
    this.#ledger.forget((group, t) => t === topic || t === retryTopicOf(group, topic));
  }

  /**
   * `group` was deleted: drop what it read, leased or read ahead in every topic (its retry topics
   * included), as `forgetTopic` does; a group created again under the name starts where the offset
   * store then says, or per its `consumeFrom`.
   */
  forgetGroup(group: string): void {
    const topics = this.#states.get(group);
    if (topics) {
      for (const topic of [...topics.keys()]) this.#dropTopic(topics, topic);
      this.#states.delete(group);
    }
    this.#ledger.forget((g) => g === group);
    this.#groupHashes.delete(group);
  }

  /** Messages of `group` held now (leased, in FIFO backoff, or being moved), optionally of one topic. */
  inFlightCount(group: string, topic?: string): number {
    let held = 0;
    for (const [name, queues] of this.#states.get(group) ?? []) {
      if (topic !== undefined && name !== topic) continue;
      for (const state of queues.values()) held += state.held;
    }
    return held;
  }

  /** Resolves when no retry or DLQ write is under way. */
  async idle(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  /** Stops timers and long polls and waits for writes under way. Leases are simply forgotten. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#unsubscribe();
    for (const topics of this.#states.values()) {
      for (const queues of topics.values()) {
        for (const state of queues.values())
          for (const entry of state.entries.values()) this.#clearTimer(entry);
      }
    }
    this.#polls.closeAll();
    await this.idle();
    if (this.#progressPath !== undefined) this.#saveProgress(this.#progressPath);
  }

  /** Records each queue's finished offsets above its committed one (see finished-above.ts). */
  #saveProgress(path: string): void {
    const records: FinishedAbove[] = [];
    for (const topics of this.#states.values()) {
      for (const queues of topics.values()) {
        for (const state of queues.values()) {
          const finished: number[] = [];
          for (let offset = state.committed; offset < state.scanned; offset++) {
            if (!state.entries.has(offset)) finished.push(offset);
          }
          for (const offset of state.restored ?? []) finished.push(offset);
          if (finished.length === 0) continue;
          const { group, topic, queueId, committed } = state;
          records.push({ group, topic, queueId, committed, finished });
        }
      }
    }
    try {
      saveFinishedAbove(path, records);
    } catch (err) {
      this.#logger.error(`cannot record the consume progress in ${path}: ${describe(err)}`);
    }
  }

  // ------------------------------------------------------------------------------------- leases

  #armLease(state: QueueState, entry: Entry): void {
    const leaseId = entry.leaseId;
    entry.timer = this.#clock.setTimeout(() => {
      entry.timer = undefined;
      if (entry.state !== 'leased' || entry.leaseId !== leaseId || !state.owns(entry)) return;
      this.#leaseEnded(state, entry, `lease expired after delivery attempt ${entry.attempt}`);
    }, entry.invisibleUntil - this.#clock.now());
  }

  /** A delivery failed (lease expired or nacked): back off, retry via `%RETRY%…`, or dead-letter. */
  #leaseEnded(state: QueueState, entry: Entry, reason: string, nack = false): void {
    this.#clearTimer(entry);
    entry.clientId = undefined;
    const policy = this.#policyOf(state.group);
    if (entry.attempt >= policy.maxDeliveryAttempts) {
      void this.#deadLetter(state, entry, undefined, reason, entry.attempt);
      return;
    }
    const backoff = entry.retryAtLeaseEnd && !nack ? 0 : backoffOf(policy, entry.attempt);
    const now = this.#clock.now();
    if (policy.fifo) {
      state.setState(entry, 'backoff');
      entry.nextAttempt = entry.attempt + 1;
      entry.visibleAt = now + backoff;
      const topic = entry.realTopic;
      entry.timer = this.#clock.setTimeout(() => {
        entry.timer = undefined;
        this.#polls.notify(topic);
      }, backoff);
      return;
    }
    this.#moveToRetry(state, entry, reason, now + backoff);
  }

  #moveToRetry(state: QueueState, entry: Entry, reason: string, deliverAt: number): void {
    const message = this.#read(state, entry);
    if (!message) return;
    state.setState(entry, 'retrying');
    entry.lateAcked = false;
    const from = { topic: state.topic, queueId: state.queueId, queueOffset: entry.offset };
    const copy = retryCopy(message, entry.realTopic, state.group, entry.attempt, from, reason);
    const leaseId = entry.leaseId;
    const key = leaseKey(state.group, from.topic, from.queueId, from.queueOffset);
    const moving = (): boolean => state.owns(entry) && entry.state === 'retrying';
    this.#track(
      call(() => this.#retry.schedule(copy, deliverAt)).then(
        () => {
          if (!moving()) return;
          this.#ledger.put(key, { leaseId, acked: entry.lateAcked });
          this.#finish(state, entry);
        },
        (err: unknown) => {
          this.#logger.error(
            `could not schedule the retry of ${describeEntry(state, entry)}: ${describe(err)}; ` +
              'it is redelivered in place',
          );
          if (!moving()) return;
          if (entry.lateAcked) return this.#finish(state, entry);
          entry.nextAttempt = entry.attempt + 1;
          this.#unlease(state, entry);
        },
      ),
    );
  }

  /** Copies the message to `%DLQ%<group>`, then finishes it. Rejects if the copy cannot be stored. */
  #deadLetter(
    state: QueueState,
    entry: Entry,
    known: StoredMessage | undefined,
    reason: string,
    attempts: number,
  ): Promise<void> {
    const message = known ?? this.#read(state, entry);
    if (!message) return Promise.resolve();
    this.#clearTimer(entry);
    state.setState(entry, 'deadLettering');
    const copy = deadLetterCopy(message, entry.realTopic, state.group, attempts, reason, this.#clock.now());
    const moving = (): boolean => state.owns(entry) && entry.state === 'deadLettering';
    const done = call(() => this.#store.append(copy)).then(
      () => {
        if (moving()) this.#finish(state, entry);
      },
      (err: unknown) => {
        this.#logger.error(
          `could not dead-letter ${describeEntry(state, entry)}: ${describe(err)}; it stays in its queue`,
        );
        if (moving()) {
          entry.nextAttempt = attempts + 1;
          this.#unlease(state, entry);
        }
        throw err;
      },
    );
    this.#track(done);
    return done;
  }

  /** Back to `ready` without a lease: visible at once. */
  #unlease(state: QueueState, entry: Entry): void {
    this.#clearTimer(entry);
    if (entry.state === 'leased') entry.nextAttempt = entry.attempt; // a release does not count
    state.setState(entry, 'ready');
    entry.leaseId = 0;
    entry.clientId = undefined;
    this.#polls.notify(entry.realTopic);
  }

  /** The message is done with (acked, filtered out, moved): forget it and advance the offset. */
  #finish(state: QueueState, entry: Entry): void {
    this.#clearTimer(entry);
    if (!state.remove(entry)) return;
    // A FIFO message group is free again.
    if (entry.messageGroup !== undefined) this.#polls.notify(entry.realTopic);
    this.#commitIfAdvanced(state);
  }

  #clearTimer(entry: Entry): void {
    if (entry.timer === undefined) return;
    this.#clock.clearTimeout(entry.timer);
    entry.timer = undefined;
  }

  /** Reads an entry's message again; a message that is gone (retention, corruption) is finished. */
  #read(state: QueueState, entry: Entry): StoredMessage | undefined {
    let message: StoredMessage | undefined;
    try {
      message = this.#store.getMessageByPhysicalOffset(entry.physicalOffset);
    } catch (err) {
      this.#logger.error(`cannot read ${describeEntry(state, entry)}: ${describe(err)}`);
    }
    if (
      message &&
      message.topic === state.topic &&
      message.queueId === state.queueId &&
      message.queueOffset === entry.offset
    ) {
      return message;
    }
    this.#logger.warn(`${describeEntry(state, entry)} is no longer in the store; skipping it`);
    this.#finish(state, entry);
    return undefined;
  }

  // ------------------------------------------------------------------------------------- handles

  #encode(state: QueueState, entry: Entry): string {
    return this.#codec.encode({
      topic: state.topic,
      queueId: state.queueId,
      queueOffset: entry.offset,
      physicalOffset: entry.physicalOffset,
      groupHash: this.#groupHash(state.group),
      deliveryAttempt: entry.attempt,
      leaseId: entry.leaseId,
      invisibleUntil: entry.invisibleUntil,
    });
  }

  /** Decodes and checks a handle; `entry` is set only if it still carries the handle's lease. */
  #locate(group: string, receiptHandle: string): Located {
    this.#checkOpen();
    const h = this.#codec.decode(receiptHandle);
    if (typeof group !== 'string' || h.groupHash !== this.#groupHash(group)) {
      throw new InvalidReceiptHandleError('issued to another consumer group');
    }
    const state = this.#states.get(group)?.get(h.topic)?.get(h.queueId);
    const candidate = state?.entries.get(h.queueOffset);
    const live =
      candidate !== undefined &&
      candidate.leaseId !== 0 &&
      candidate.leaseId === h.leaseId &&
      candidate.attempt === h.deliveryAttempt &&
      candidate.physicalOffset === h.physicalOffset;
    return {
      state,
      entry: live ? candidate : undefined,
      key: leaseKey(group, h.topic, h.queueId, h.queueOffset),
      leaseId: h.leaseId,
    };
  }

  /** A handle whose lease is running or (FIFO) in backoff, not yet redelivered. */
  #liveLease(group: string, receiptHandle: string): { state: QueueState; entry: Entry } {
    const { state, entry } = this.#locate(group, receiptHandle);
    if (!state || !entry) {
      throw new InvalidReceiptHandleError(
        'stale: the message was acked, redelivered or dead-lettered, or its lease was replaced',
      );
    }
    if (entry.state === 'leased' || entry.state === 'backoff') return { state, entry };
    throw new InvalidReceiptHandleError(
      entry.state === 'deadLettering'
        ? 'the message is being moved to the dead-letter queue'
        : 'the lease expired and the message is being retried',
    );
  }

  #groupHash(group: string): number {
    let hash = this.#groupHashes.get(group);
    if (hash === undefined) {
      if (this.#groupHashes.size >= GROUP_HASH_CACHE) this.#groupHashes.clear();
      hash = groupHash(group);
      this.#groupHashes.set(group, hash);
    }
    return hash;
  }

  // ------------------------------------------------------------------------------------- queue states

  /**
   * Forgets one topic of a group. Clearing each state (not only unlinking it) matters: callbacks
   * still holding it (lease timers, retry and DLQ writes) check `owns` and then do nothing.
   */
  #dropTopic(topics: Map<string, Map<number, QueueState>>, topic: string): void {
    const queues = topics.get(topic);
    if (!queues) return;
    topics.delete(topic);
    for (const state of queues.values()) {
      for (const entry of state.clear()) this.#clearTimer(entry);
    }
  }

  #stateFor(group: string, topic: string, queueId: number, consumeFrom: ConsumeFrom): QueueState {
    let topics = this.#states.get(group);
    if (!topics) this.#states.set(group, (topics = new Map()));
    let queues = topics.get(topic);
    if (!queues) topics.set(topic, (queues = new Map()));
    let state = queues.get(queueId);
    if (state) return state;

    const stored = this.#offsets.get(group, topic, queueId);
    let offset = stored ?? this.#startOffset(topic, queueId, consumeFrom);
    // Retention may have removed what the offset points at, or the store lost its unflushed tail.
    offset = Math.min(
      Math.max(offset, this.#store.minOffset(topic, queueId)),
      this.#store.maxOffset(topic, queueId),
    );
    state = new QueueState(group, topic, queueId, offset);
    queues.set(queueId, state);
    const key = finishedAboveKey(group, topic, queueId);
    const saved = this.#restored.get(key);
    if (saved !== undefined) {
      this.#restored.delete(key);
      // Only for the offset it was written with: a reset (or any move) since makes it meaningless.
      if (saved.committed === offset && saved.finished.length > 0) state.restored = new Set(saved.finished);
    }
    if (stored !== undefined && offset < stored) this.#resetStored(state);
    // A new group's start is decided once ("last" must not move on with every restart); a
    // correction is recorded too (the offset store ignores one that would move backwards).
    if (stored !== offset) this.#commit(state);
    return state;
  }

  /** As `startOffset` in lag.ts: retry and DLQ topics only hold the group's own messages, from the first. */
  #startOffset(topic: string, queueId: number, from: ConsumeFrom): number {
    if (isRetryOrDlqTopic(topic)) return this.#store.minOffset(topic, queueId);
    switch (from.kind) {
      case 'last':
        return this.#store.maxOffset(topic, queueId);
      case 'timestamp':
        return this.#store.offsetForTimestamp(topic, queueId, from.timestamp);
      default:
        return this.#store.minOffset(topic, queueId);
    }
  }

  #resetStored(state: QueueState): void {
    this.#logger.warn(
      `the offset of ${state.group} on ${state.topic}/${state.queueId} is beyond the queue's end; ` +
        `reading from ${state.committed}`,
    );
    try {
      this.#offsets.reset?.(state.group, state.topic, state.queueId, state.committed);
    } catch (err) {
      this.#logger.error(
        `cannot reset the offset of ${state.group} on ${state.topic}/${state.queueId}: ${describe(err)}`,
      );
    }
  }

  #commitIfAdvanced(state: QueueState): void {
    if (state.advance()) this.#commit(state);
  }

  #commit(state: QueueState): void {
    try {
      this.#offsets.commit(state.group, state.topic, state.queueId, state.committed);
    } catch (err) {
      this.#logger.error(
        `cannot commit the offset of ${state.group} on ${state.topic}/${state.queueId}: ${describe(err)}`,
      );
    }
  }

  #track(promise: Promise<unknown>): void {
    const settled = promise.then(
      () => undefined,
      () => undefined,
    );
    this.#pending.add(settled);
    void settled.then(() => this.#pending.delete(settled));
  }

  #checkOpen(): void {
    if (this.#closed) throw new ConsumeEngineClosedError();
  }
}

function storeQueueCount(store: ConsumeStore, topic: string): number {
  const ids = store.queueIds(topic);
  return ids.length === 0 ? 1 : Math.max(...ids) + 1;
}

function backoffOf(policy: GroupPolicy, attempt: number): number {
  const ms = policy.backoffMs(attempt);
  return Number.isFinite(ms) && ms > 0 ? ms : 0;
}

/** Runs `fn`, turning a synchronous throw into a rejection. */
function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return fn();
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function describeEntry(state: QueueState, entry: Entry): string {
  return `message ${state.topic}/${state.queueId}@${entry.offset} of group ${state.group}`;
}

/**
 * Transactional (half) messages, as RocketMQ 5's broker and proxy keep them
 * (`TransactionalMessageServiceImpl`, `TransactionalMessageBridge`, `EndTransactionProcessor`,
 * `TransactionalMessageCheckService`, `DefaultTransactionalMessageCheckListener`).
 *
 * Storage, all in the message store (nothing but a progress file outside it):
 * - `prepare` appends the message to `RMQ_SYS_TRANS_HALF_TOPIC` queue 0 with its destination in
 *   REAL_TOPIC / REAL_QID and the transaction id in `__transactionId__`: stored, but on no queue a
 *   consumer reads.
 * - COMMIT appends the message to its real topic and queue (same id, body, tag, keys and properties;
 *   sysFlag TRANSACTION_COMMIT; `preparedTransactionOffset` = the half's commit-log offset) together
 *   with a COMMIT op record, in one `appendBatch`. ROLLBACK appends a ROLLBACK op record only.
 * - Op records (`op-record.ts`) in `RMQ_SYS_TRANS_OP_HALF_TOPIC` also count check-backs.
 *
 * Memory: a table of pending halves (transaction id → commit-log offset, prepare time, checks done;
 * never a body: the half is read back by offset when a check-back or a commit needs it), capped at
 * `maxPending`, and a bounded cache of recently finished transactions. Older outcomes are found
 * through the store's key index on the op topic.
 *
 * Restart: the table is rebuilt by scanning the half topic from a persisted progress offset against
 * the op topic (`transaction-progress.ts`), so pending halves, their check counts and every outcome
 * survive; check-backs resume where they were.
 *
 * Crash (no `close()`): at-least-once. Every half the store kept is still pending or finished as its
 * op records say. A commit whose op record a crash tore off (same batch as the committed message) is
 * recognised at the next start, which finds the committed copy by message id and writes the missing
 * op record instead of asking the producer again; a commit lost whole (async flush window) leaves its
 * half pending, so the producer is asked again and commits it again. Check counts can fall back by
 * the CHECK records the crash took, i.e. a few more check-backs. An acknowledged `prepare` lost in the
 * async-flush window is lost like any acknowledged send (use sync flush).
 */
import { randomBytes } from 'node:crypto';
import { type Clock, type TimerHandle } from '../clock.js';
import { BadRequestError, InvalidTransactionIdError, quote } from '../errors.js';
import {
  TRANS_CHECK_MAX_TIME_TOPIC,
  TRANS_HALF_TOPIC,
  TRANS_OP_HALF_TOPIC,
  TRANSACTION_CHECK_FIRST_MS,
  TRANSACTION_CHECK_INTERVAL_MS,
  TRANSACTION_CHECK_MAX,
} from '../limits.js';
import { validateTopicName, validateTransactionId, validateTransactionRecoveryMs } from '../validation.js';
import {
  CorruptRecordError,
  DEFAULT_RETENTION_HOURS,
  IllegalQueueIdError,
  type AppendResult,
  type MessageStore,
  type MessageToStore,
  type StoredMessage,
  type StoreLogger,
} from '../../store/index.js';
import { CheckSchedule, type ScheduleSlot } from './check-schedule.js';
import { TooManyPendingTransactionsError, TransactionServiceClosedError } from './errors.js';
import { checkBackMessage, checkMaxCopy, committedMessage, halfMessage } from './half-message.js';
import { KeyedLock } from './keyed-lock.js';
import {
  isFinishKind,
  opRecordMessage,
  parseOpRecord,
  type FinishKind,
  type OpKind,
  type OpSource,
} from './op-record.js';
import { scanTransactionLog, type RecoveredHalf } from './transaction-log-scan.js';
import { PROPERTY_TRANSACTION_ID } from './transaction-properties.js';
import { ProgressFile, type TransactionProgress } from './transaction-progress.js';

export type TransactionResolution = 'COMMIT' | 'ROLLBACK';
export type TransactionSource = 'CLIENT' | 'SERVER_CHECK';

/** A check-back to send (gRPC: Telemetry `recover_orphaned_transaction_command`). */
export interface TransactionCheck {
  readonly transactionId: string;
  /** PGROUP of the half (the gRPC proxy uses the topic name), when the producer gave one. */
  readonly producerGroup?: string;
  /** The real topic. */
  readonly topic: string;
  /**
   * The half as stored, read back from the commit log, with `topic` and `queueId` restored to the
   * real ones (as `AbstractTransactionalMessageCheckListener.sendCheckMessage` does) and
   * TRANSACTION_CHECK_TIMES = `attempt`. Offsets are the half's. Its properties still carry
   * REAL_TOPIC, TRAN_MSG=true and `__transactionId__`.
   */
  readonly message: StoredMessage;
  /** 1 for the first check-back. */
  readonly attempt: number;
}

export interface TransactionServiceOptions {
  store: MessageStore;
  clock: Clock;
  /** Directory of the progress file (`transaction-progress.json`). */
  stateDir: string;
  logger?: StoreLogger;
  /**
   * Sends a check-back to a live producer of the topic. Returns false when none is connected: the
   * attempt is not counted and is repeated one interval later. (RocketMQ counts it: `needDiscard`
   * bumps TRANSACTION_CHECK_TIMES before `sendCheckMessage` looks for a channel. Here an orphan
   * waits for a producer to come back, bounded by `maxHalfAgeMs`.) Called synchronously; the answer
   * comes later through `end(..., 'SERVER_CHECK')`. A throw counts as false.
   */
  checkBack: (check: TransactionCheck) => boolean;
  /** First check-back this long after `prepare`. Default 6 s (`BrokerConfig.transactionTimeOut`). */
  firstCheckMs?: number;
  /** Then every this long. Default 30 s (`BrokerConfig.transactionCheckInterval`). */
  checkIntervalMs?: number;
  /** Check-backs before the broker rolls back. Default 15 (`BrokerConfig.transactionCheckMax`). */
  maxChecks?: number;
  /**
   * Most pending halves; `prepare` fails with TOO_MANY_REQUESTS beyond. Default 200,000: an entry
   * costs ≈ 300 B of heap (measured), so ≈ 60 MB at the cap. RocketMQ has no such cap (it keeps no
   * table: it rescans the half queue every interval).
   */
  maxPending?: number;
  /**
   * A half older than this is rolled back at its next due check even if checks are left (producers
   * gone for good). Default 72 h: RocketMQ's `needSkip`, `fileReservedTime`, which is also the store's
   * retention, after which the half's body would be gone.
   */
  maxHalfAgeMs?: number;
  /** How often the progress file is brought up to date. Default 1 s. */
  progressIntervalMs?: number;
  /** Finished transactions remembered in memory (older ones are looked up in the store). Default 65,536. */
  finishedCacheSize?: number;
}

/** One pending half message. No body: it stays in the commit log. */
interface PendingHalf {
  readonly transactionId: string;
  readonly messageId: string;
  readonly topic: string;
  readonly queueId: number;
  readonly producerGroup: string | undefined;
  readonly physicalOffset: number;
  readonly queueOffset: number;
  /** Op-queue offset below which no op record is about this half. */
  readonly opFloor: number;
  readonly preparedAt: number;
  readonly firstCheckDelayMs: number;
  /** Check-backs delivered to a producer. */
  checks: number;
  lastCheckAt: number | undefined;
  /** False while a commit of this half may have reached the log without its op record. */
  verified: boolean;
  slot: ScheduleSlot<PendingHalf> | undefined;
}

interface FinishedTransaction {
  readonly kind: FinishKind;
  readonly messageId: string;
}

const DEFAULT_MAX_PENDING = 200_000;
const DEFAULT_PROGRESS_INTERVAL_MS = 1_000;
const DEFAULT_FINISHED_CACHE_SIZE = 65_536;
/** Index lookups in flight while verifying pending halves after an unclean stop (≈ 13 µs each). */
const VERIFY_CONCURRENCY = 64;
/** Most records a by-id or by-key lookup returns. */
const LOOKUP_MAX = 64;

const defaultLogger: StoreLogger = {
  log: (m) => console.log(`[transaction] ${m}`),
  warn: (m) => console.warn(`[transaction] ${m}`),
  error: (m) => console.error(`[transaction] ${m}`),
};

function noop(): void {}

/** 32 random hex digits, the shape of a RocketMQ message id (which RocketMQ uses as transaction id). */
function newTransactionId(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

function positive(value: number | undefined, fallback: number, name: string, allowZero = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0 || (!allowZero && value === 0)) {
    throw new RangeError(
      `TransactionService option ${name} must be a ${allowZero ? 'non-negative' : 'positive'} number`,
    );
  }
  return value;
}

export class TransactionService {
  readonly #store: MessageStore;
  readonly #clock: Clock;
  readonly #logger: StoreLogger;
  readonly #checkBack: (check: TransactionCheck) => boolean;
  readonly #firstCheckMs: number;
  readonly #checkIntervalMs: number;
  readonly #maxChecks: number;
  readonly #maxPending: number;
  readonly #maxHalfAgeMs: number;
  readonly #progressIntervalMs: number;
  readonly #finishedCacheSize: number;
  readonly #progress: ProgressFile;
  readonly #schedule: CheckSchedule<PendingHalf>;
  /** Insertion order is half queue order (appends resolve in order; the rebuild scans in order). */
  readonly #pending = new Map<string, PendingHalf>();
  readonly #finished = new Map<string, FinishedTransaction>();
  /** Serialises EndTransaction, check-back and discard of each transaction. */
  readonly #locks = new KeyedLock();
  /** Fire-and-forget work (CHECK op records, prepares) that `close()` waits for. */
  readonly #inFlight = new Set<Promise<void>>();
  /**
   * Prepares between reading their floors and joining the table, oldest first. Their halves lie at
   * or above `halfOffset` (the half queue's length before the append) and their op records at or
   * above `opOffset`.
   */
  readonly #preparing = new Set<TransactionProgress>();
  #lastQueueOffset = -1;
  /** Set if a half ever joined the table out of queue order: progress then takes the slow minimum. */
  #outOfOrder = false;
  #progressTimer: TimerHandle | undefined;
  #state: 'opening' | 'open' | 'closing' | 'closed' = 'opening';
  #closing: Promise<void> | undefined;

  private constructor(options: TransactionServiceOptions, logger: StoreLogger, progress: ProgressFile) {
    this.#store = options.store;
    this.#clock = options.clock;
    this.#logger = logger;
    this.#checkBack = options.checkBack;
    this.#firstCheckMs = positive(options.firstCheckMs, TRANSACTION_CHECK_FIRST_MS, 'firstCheckMs', true);
    this.#checkIntervalMs = positive(
      options.checkIntervalMs,
      TRANSACTION_CHECK_INTERVAL_MS,
      'checkIntervalMs',
    );
    this.#maxChecks = Math.floor(positive(options.maxChecks, TRANSACTION_CHECK_MAX, 'maxChecks', true));
    this.#maxPending = positive(options.maxPending, DEFAULT_MAX_PENDING, 'maxPending');
    this.#maxHalfAgeMs = positive(options.maxHalfAgeMs, DEFAULT_RETENTION_HOURS * 3_600_000, 'maxHalfAgeMs');
    this.#progressIntervalMs = positive(
      options.progressIntervalMs,
      DEFAULT_PROGRESS_INTERVAL_MS,
      'progressIntervalMs',
    );
    this.#finishedCacheSize = positive(
      options.finishedCacheSize,
      DEFAULT_FINISHED_CACHE_SIZE,
      'finishedCacheSize',
      true,
    );
    this.#progress = progress;
    this.#schedule = new CheckSchedule(this.#clock, (half) => this.#onDue(half));
  }

  /** Opens the service over an open store: rebuilds pending halves and resumes their check-backs. */
  static async open(options: TransactionServiceOptions): Promise<TransactionService> {
    const logger = options.logger ?? defaultLogger;
    const service = new TransactionService(options, logger, ProgressFile.load(options.stateDir, logger));
    await service.#recover();
    return service;
  }

  /** Half messages neither committed, rolled back nor discarded. */
  get pendingCount(): number {
    return this.#pending.size;
  }

  // ------------------------------------------------------------------------------------- prepare

  /**
   * Stores a half message: invisible to consumers until committed. Returns its transaction id
   * (unique, non-empty) and where the half was stored (topic `RMQ_SYS_TRANS_HALF_TOPIC`, queue 0).
   * `recoveryMs` is the producer's orphaned-transaction recovery duration: the first check-back
   * waits max(recoveryMs, firstCheckMs), in whole seconds, as RocketMQ.
   * @throws IllegalTopicError (system, retry or DLQ topic), IllegalQueueIdError, BadRequestError
   *   (recoveryMs > 1 h), TooManyPendingTransactionsError, the store's errors.
   */
  async prepare(
    message: MessageToStore,
    opts: { producerGroup?: string; recoveryMs?: number } = {},
  ): Promise<{ transactionId: string; result: AppendResult }> {
    this.#assertOpen();
    validateTopicName(message.topic);
    const queueId = message.queueId;
    if (!Number.isInteger(queueId) || queueId < 0 || queueId > 0xffff) throw new IllegalQueueIdError(queueId);
    const recoveryMs =
      opts.recoveryMs === undefined ? undefined : validateTransactionRecoveryMs(opts.recoveryMs);
    if (this.#pending.size + this.#preparing.size >= this.#maxPending) {
      throw new TooManyPendingTransactionsError(this.#maxPending);
    }
    const producerGroup =
      typeof opts.producerGroup === 'string' && opts.producerGroup.trim() !== ''
        ? opts.producerGroup
        : undefined;
    const transactionId = newTransactionId();
    const preparedAt = this.#clock.now();
    // Read before the append: every op record about this half will be appended after it.
    const opFloor = this.#store.maxOffset(TRANS_OP_HALF_TOPIC, 0);
    const floors: TransactionProgress = {
      halfOffset: this.#store.maxOffset(TRANS_HALF_TOPIC, 0),
      opOffset: opFloor,
    };
    const recoverySeconds = recoveryMs === undefined ? undefined : Math.trunc(recoveryMs / 1000);
    const half = halfMessage(message, { transactionId, producerGroup, recoverySeconds, preparedAt, opFloor });
    this.#preparing.add(floors);
    let result: AppendResult;
    try {
      const appended = this.#store.append(half);
      this.#track(appended);
      result = await appended;
    } finally {
      this.#preparing.delete(floors);
    }
    this.#addPending({
      transactionId,
      messageId: message.messageId,
      topic: message.topic,
      queueId,
      producerGroup,
      physicalOffset: result.physicalOffset,
      queueOffset: result.queueOffset,
      opFloor,
      preparedAt,
      firstCheckDelayMs: this.#firstCheckDelay(
        recoverySeconds === undefined ? undefined : recoverySeconds * 1000,
      ),
      checks: 0,
      lastCheckAt: undefined,
      verified: true,
      slot: undefined,
    });
    return { transactionId, result };
  }

  // ------------------------------------------------------------------------------------- end

  /**
   * Commits or rolls back a half message, keyed by transaction id; a non-empty `messageId` must be
   * the half's. Idempotent: the same resolution again resolves OK. A resolution contrary to the
   * outcome is refused with INVALID_TRANSACTION_ID and changes nothing; after the broker rolled
   * the half back for lack of answers (check-max), ROLLBACK is OK and COMMIT is refused.
   * @throws InvalidTransactionIdError (INVALID_TRANSACTION_ID 40008): blank or unknown id, message id
   *   of another message, contrary resolution, commit after check-max.
   * @throws BadRequestError for a resolution or source outside the enums; the store's errors.
   */
  async end(
    transactionId: string,
    messageId: string,
    resolution: TransactionResolution,
    source: TransactionSource,
  ): Promise<void> {
    this.#assertOpen();
    validateTransactionId(transactionId);
    if (resolution !== 'COMMIT' && resolution !== 'ROLLBACK') {
      throw new BadRequestError(`unknown transaction resolution ${quote(String(resolution))}`);
    }
    if (source !== 'CLIENT' && source !== 'SERVER_CHECK') {
      throw new BadRequestError(`unknown transaction source ${quote(String(source))}`);
    }
    const givenMessageId = typeof messageId === 'string' ? messageId : '';
    return this.#locks.run(transactionId, () => this.#end(transactionId, givenMessageId, resolution, source));
  }

  async #end(
    transactionId: string,
    messageId: string,
    resolution: TransactionResolution,
    source: TransactionSource,
  ): Promise<void> {
    const half = this.#pending.get(transactionId);
    if (half) {
      checkMessageId(transactionId, half.messageId, messageId);
      if (half.verified || !(await this.#verify(half))) {
        if (resolution === 'COMMIT') await this.#commit(half, source);
        else await this.#finishWith(half, 'ROLLBACK', source);
        return;
      }
    }
    const finished = this.#finished.get(transactionId) ?? (await this.#lookupFinished(transactionId));
    if (!finished) {
      throw new InvalidTransactionIdError(transactionId, 'no such transaction');
    }
    checkMessageId(transactionId, finished.messageId, messageId);
    if (finished.kind === resolution) return;
    if (finished.kind === 'DISCARD') {
      if (resolution === 'ROLLBACK') return;
      throw new InvalidTransactionIdError(
        transactionId,
        `rolled back by the broker after its last unanswered check-back (kept in ${TRANS_CHECK_MAX_TIME_TOPIC})`,
      );
    }
    throw new InvalidTransactionIdError(
      transactionId,
      finished.kind === 'COMMIT'
        ? 'already committed, cannot roll back'
        : 'already rolled back, cannot commit',
    );
  }

  async #commit(half: PendingHalf, source: OpSource): Promise<void> {
    const stored = this.#readHalf(half);
    if (!stored) {
      await this.#finishLost(half);
      throw new InvalidTransactionIdError(half.transactionId, 'its half message is no longer in the store');
    }
    try {
      await this.#store.appendBatch([
        committedMessage(stored, half.topic, half.queueId),
        this.#opMessage(half, 'COMMIT', source),
      ]);
    } catch (err) {
      // The batch may have reached the log (e.g. a flush timeout): look before committing again.
      half.verified = false;
      throw err;
    }
    this.#finish(half, 'COMMIT');
  }

  async #finishWith(half: PendingHalf, kind: FinishKind, source: OpSource): Promise<void> {
    await this.#store.append(this.#opMessage(half, kind, source));
    this.#finish(half, kind);
  }

  /** The half's record has gone (retention) or is damaged beyond reading: nothing left to commit. */
  async #finishLost(half: PendingHalf): Promise<void> {
    this.#logger.error(
      `half message of transaction ${half.transactionId} (topic ${half.topic}, message ${half.messageId}) ` +
        `at commit-log offset ${half.physicalOffset} is gone; recording it as discarded`,
    );
    await this.#finishWith(half, 'DISCARD', 'BROKER');
  }

  #finish(half: PendingHalf, kind: FinishKind): void {
    this.#pending.delete(half.transactionId);
    this.#schedule.cancel(half.slot);
    half.slot = undefined;
    this.#remember(half.transactionId, { kind, messageId: half.messageId });
  }

  #remember(transactionId: string, finished: FinishedTransaction): void {
    if (this.#finishedCacheSize === 0) return;
    this.#finished.delete(transactionId);
    this.#finished.set(transactionId, finished);
    if (this.#finished.size > this.#finishedCacheSize) {
      this.#finished.delete(this.#finished.keys().next().value!);
    }
  }

  /** A transaction gone from memory: its finishing op record, through the store's key index. */
  async #lookupFinished(transactionId: string): Promise<FinishedTransaction | undefined> {
    const records = await this.#store.queryByKey(TRANS_OP_HALF_TOPIC, transactionId, LOOKUP_MAX);
    let first: { kind: FinishKind; messageId: string; offset: number } | undefined;
    for (const record of records) {
      const op = parseOpRecord(record);
      if (!op || op.transactionId !== transactionId || !isFinishKind(op.kind)) continue;
      if (!first || record.physicalOffset < first.offset) {
        first = { kind: op.kind, messageId: op.messageId, offset: record.physicalOffset };
      }
    }
    if (!first) return undefined;
    const finished = { kind: first.kind, messageId: first.messageId };
    this.#remember(transactionId, finished);
    return finished;
  }

  /**
   * For a half whose commit may have reached the log without its op record: looks the message up
   * by id for a committed (or check-max) copy of this very half. Found: writes the missing op record,
   * finishes the half and returns true. Not found: marks the half verified and returns false.
   */
  async #verify(half: PendingHalf): Promise<boolean> {
    const copies = await this.#store.queryByMessageId(half.messageId, LOOKUP_MAX);
    const copy = copies.find(
      (m) =>
        m.preparedTransactionOffset === half.physicalOffset &&
        m.systemProperties[PROPERTY_TRANSACTION_ID] === half.transactionId &&
        (m.topic === half.topic || m.topic === TRANS_CHECK_MAX_TIME_TOPIC),
    );
    if (!copy) {
      half.verified = true;
      return false;
    }
    const kind: FinishKind = copy.topic === TRANS_CHECK_MAX_TIME_TOPIC ? 'DISCARD' : 'COMMIT';
    this.#logger.warn(
      `transaction ${half.transactionId}: found its ${kind === 'COMMIT' ? 'committed message' : 'check-max copy'} ` +
        `at commit-log offset ${copy.physicalOffset} without an op record; recording it`,
    );
    await this.#finishWith(half, kind, 'RECOVERY');
    return true;
  }

  // ------------------------------------------------------------------------------------- check-back

  #firstCheckDelay(recoveryMs: number | undefined): number {
    // TransactionalMessageUtil.getImmunityTime: a custom time below transactionTimeOut is raised to it.
    return recoveryMs === undefined ? this.#firstCheckMs : Math.max(recoveryMs, this.#firstCheckMs);
  }

  #scheduleAt(half: PendingHalf, dueAt: number): void {
    this.#schedule.cancel(half.slot);
    half.slot = this.#schedule.add(half, dueAt);
  }

  #onDue(half: PendingHalf): void {
    if (this.#state !== 'open' || this.#pending.get(half.transactionId) !== half) return;
    this.#locks
      .run(half.transactionId, () => this.#check(half))
      .catch((err: unknown) =>
        this.#logger.error(`check-back of transaction ${half.transactionId} failed: ${describe(err)}`),
      );
  }

  /**
   * A due half: check it back, or roll it back into the check-max topic. Runs under the
   * transaction's lock and, when nothing else holds it, synchronously up to the check-back itself,
   * so the next due time is set from the timer's own time.
   */
  async #check(half: PendingHalf): Promise<void> {
    if (this.#state !== 'open' || this.#pending.get(half.transactionId) !== half) return;
    try {
      if (!half.verified && (await this.#verify(half))) return;
      const now = this.#clock.now();
      if (half.checks >= this.#maxChecks) {
        await this.#discard(half, `${half.checks} check-backs went unanswered`);
        return;
      }
      if (now - half.preparedAt >= this.#maxHalfAgeMs) {
        await this.#discard(half, `it is older than ${this.#maxHalfAgeMs} ms`);
        return;
      }
      let stored: StoredMessage | undefined;
      try {
        stored = this.#readHalf(half);
      } catch (err) {
        if (!(err instanceof CorruptRecordError)) throw err;
        // Nothing to show a producer and nothing to commit: asking again every interval would not help.
        await this.#discard(half, `its half message is damaged (${err.message})`);
        return;
      }
      if (!stored) {
        await this.#finishLost(half);
        return;
      }
      const attempt = half.checks + 1;
      const check: TransactionCheck = {
        transactionId: half.transactionId,
        producerGroup: half.producerGroup,
        topic: half.topic,
        attempt,
        message: checkBackMessage(stored, half.topic, half.queueId, attempt),
      };
      let delivered = false;
      try {
        delivered = this.#checkBack(check) === true;
      } catch (err) {
        this.#logger.warn(`check-back of transaction ${half.transactionId} threw: ${describe(err)}`);
      }
      this.#scheduleAt(half, now + this.#checkIntervalMs);
      if (!delivered) return;
      half.checks = attempt;
      half.lastCheckAt = now;
      // Not awaited under the lock: the producer's answer may already be queued behind us, and
      // the order of a CHECK record and the finishing record does not matter.
      this.#track(
        this.#store
          .append(this.#opMessage(half, 'CHECK', undefined, attempt, now))
          .catch((err: unknown) =>
            this.#logger.warn(
              `could not record check-back ${attempt} of ${half.transactionId}: ${describe(err)}`,
            ),
          ),
      );
    } catch (err) {
      this.#logger.error(`check of transaction ${half.transactionId} failed: ${describe(err)}`);
      if (this.#pending.get(half.transactionId) === half && this.#state === 'open') {
        this.#scheduleAt(half, this.#clock.now() + this.#checkIntervalMs);
      }
    }
  }

  /**
   * Rolls a half back for good, keeping a copy in TRANS_CHECK_MAX_TIME_TOPIC queue 0 for inspection
   * (`DefaultTransactionalMessageCheckListener.resolveDiscardMsg`), in one batch with its op record.
   */
  async #discard(half: PendingHalf, reason: string): Promise<void> {
    let stored: StoredMessage | undefined;
    try {
      stored = this.#readHalf(half);
    } catch (err) {
      if (!(err instanceof CorruptRecordError)) throw err;
      this.#logger.error(`half message of ${half.transactionId} is damaged; discarding without a copy`);
    }
    const records: MessageToStore[] = [];
    if (stored) records.push(checkMaxCopy(stored, half.checks));
    records.push(this.#opMessage(half, 'DISCARD', 'BROKER'));
    await this.#store.appendBatch(records);
    this.#logger.warn(
      `transaction ${half.transactionId} (topic ${half.topic}, message ${half.messageId}) rolled back: ` +
        `${reason}; ${stored ? `kept in ${TRANS_CHECK_MAX_TIME_TOPIC}` : 'its half message was gone'}`,
    );
    this.#finish(half, 'DISCARD');
  }

  /** The half's record, or undefined if retention removed it. @throws CorruptRecordError */
  #readHalf(half: PendingHalf): StoredMessage | undefined {
    const stored = this.#store.getMessageByPhysicalOffset(half.physicalOffset);
    if (
      !stored ||
      stored.topic !== TRANS_HALF_TOPIC ||
      stored.systemProperties[PROPERTY_TRANSACTION_ID] !== half.transactionId
    ) {
      return undefined;
    }
    return stored;
  }

  #opMessage(
    half: PendingHalf,
    kind: OpKind,
    source: OpSource | undefined,
    checks?: number,
    at = this.#clock.now(),
  ): MessageToStore {
    return opRecordMessage({
      kind,
      transactionId: half.transactionId,
      messageId: half.messageId,
      halfQueueOffset: half.queueOffset,
      halfPhysicalOffset: half.physicalOffset,
      at,
      checks,
      source,
    });
  }

  // ------------------------------------------------------------------------------------- table

  #addPending(half: PendingHalf): void {
    if (half.queueOffset < this.#lastQueueOffset) this.#outOfOrder = true;
    this.#lastQueueOffset = Math.max(this.#lastQueueOffset, half.queueOffset);
    this.#pending.set(half.transactionId, half);
    if (this.#state === 'open') this.#scheduleAt(half, half.preparedAt + half.firstCheckDelayMs);
  }

  /**
   * Where a restart would have to start now: the oldest pending half (the table is in queue order,
   * and so are op floors), else the oldest prepare in flight (all earlier halves are finished),
   * else the ends of both queues.
   */
  #currentProgress(): TransactionProgress {
    if (this.#pending.size > 0) {
      if (!this.#outOfOrder) {
        const first = this.#pending.values().next().value!;
        return { halfOffset: first.queueOffset, opOffset: first.opFloor };
      }
      let halfOffset = Infinity;
      let opOffset = Infinity;
      for (const half of this.#pending.values()) {
        halfOffset = Math.min(halfOffset, half.queueOffset);
        opOffset = Math.min(opOffset, half.opFloor);
      }
      return { halfOffset, opOffset };
    }
    const preparing = this.#preparing.values().next().value;
    if (preparing) return preparing;
    return {
      halfOffset: this.#store.maxOffset(TRANS_HALF_TOPIC, 0),
      opOffset: this.#store.maxOffset(TRANS_OP_HALF_TOPIC, 0),
    };
  }

  #updateProgress(clean?: boolean): void {
    const stats = this.#store.stats;
    this.#progress.observe(this.#currentProgress(), stats.committedOffset);
    this.#progress.persistDurable(stats.flushedOffset, clean);
  }

  #armProgressTimer(): void {
    this.#progressTimer = this.#clock.setTimeout(() => {
      this.#progressTimer = undefined;
      if (this.#state !== 'open') return;
      try {
        this.#updateProgress();
      } catch (err) {
        this.#logger.error(`could not save the transaction progress: ${describe(err)}`);
      }
      this.#armProgressTimer();
    }, this.#progressIntervalMs);
  }

  // ------------------------------------------------------------------------------------- recovery

  async #recover(): Promise<void> {
    const loaded = this.#progress.loaded;
    const from: TransactionProgress = {
      halfOffset: Math.min(loaded.halfOffset, this.#store.maxOffset(TRANS_HALF_TOPIC, 0)),
      opOffset: Math.min(loaded.opOffset, this.#store.maxOffset(TRANS_OP_HALF_TOPIC, 0)),
    };
    if (from.halfOffset !== loaded.halfOffset || from.opOffset !== loaded.opOffset) {
      this.#logger.warn(
        `transaction progress ${JSON.stringify(loaded)} is beyond the store's queues; using ${JSON.stringify(from)}`,
      );
    }
    const verified = this.#progress.previousRunClean;
    const scan = scanTransactionLog(this.#store, from, {
      pending: (half) => this.#addPending(this.#recovered(half, from, verified)),
      finished: (transactionId, kind, messageId) => this.#remember(transactionId, { kind, messageId }),
    });
    if (scan.unreadableOps + scan.unreadableHalves > 0) {
      this.#logger.warn(
        `skipped ${scan.unreadableOps} unreadable record(s) of ${TRANS_OP_HALF_TOPIC} and ` +
          `${scan.unreadableHalves} of ${TRANS_HALF_TOPIC}`,
      );
    }
    // From here until a clean close, a crash must make the next start verify pending commits.
    this.#progress.write(from, false);
    if (!this.#progress.previousRunClean && this.#pending.size > 0) await this.#verifyAll();
    this.#state = 'open';
    const now = this.#clock.now();
    for (const half of this.#pending.values()) {
      const due =
        half.lastCheckAt === undefined
          ? half.preparedAt + half.firstCheckDelayMs
          : half.lastCheckAt + this.#checkIntervalMs;
      // Overdue ones fire at once; a clock that went back does not postpone a check beyond one period.
      const latest = now + Math.max(half.firstCheckDelayMs, this.#checkIntervalMs);
      this.#scheduleAt(half, Math.min(Math.max(due, now), latest));
    }
    this.#armProgressTimer();
    if (scan.pending > 0 || scan.finished > 0) {
      this.#logger.log(
        `recovered ${this.#pending.size} pending transaction(s) and ${scan.finished} finished one(s) ` +
          `from half offset ${from.halfOffset}, op offset ${from.opOffset}`,
      );
    }
  }

  #recovered(half: RecoveredHalf, from: TransactionProgress, verified: boolean): PendingHalf {
    return {
      transactionId: half.info.transactionId,
      messageId: half.messageId,
      topic: half.info.realTopic,
      queueId: half.info.realQueueId,
      producerGroup: half.info.producerGroup,
      physicalOffset: half.physicalOffset,
      queueOffset: half.queueOffset,
      opFloor: half.info.opFloor ?? from.opOffset,
      preparedAt: half.info.preparedAt,
      firstCheckDelayMs: this.#firstCheckDelay(half.info.recoveryMs),
      checks: half.checks,
      lastCheckAt: half.lastCheckAt,
      verified,
      slot: undefined,
    };
  }

  /** After an unclean stop: looks for commits whose op record the crash tore off. */
  async #verifyAll(): Promise<void> {
    const halves = [...this.#pending.values()];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < halves.length) {
        const half = halves[next++]!;
        try {
          await this.#verify(half);
        } catch (err) {
          this.#logger.error(`could not verify transaction ${half.transactionId}: ${describe(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(VERIFY_CONCURRENCY, halves.length) }, worker));
  }

  // ------------------------------------------------------------------------------------- lifecycle

  /** Resolves once no operation is in flight (tests; `close` uses it). */
  async whenIdle(): Promise<void> {
    for (;;) {
      if (this.#locks.size === 0 && this.#inFlight.size === 0) return;
      await Promise.all([this.#locks.settled(), ...this.#inFlight]);
    }
  }

  /**
   * Stops check-backs, waits for operations in flight and saves the progress. Close it before the
   * store. Later calls fail with TransactionServiceClosedError.
   */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#state = 'closing';
    this.#schedule.stop();
    this.#clock.clearTimeout(this.#progressTimer);
    this.#progressTimer = undefined;
    await this.whenIdle();
    try {
      let clean = true;
      for (const half of this.#pending.values()) if (!half.verified) clean = false;
      this.#updateProgress(clean);
    } catch (err) {
      this.#logger.error(`could not save the transaction progress: ${describe(err)}`);
    }
    this.#state = 'closed';
  }

  #assertOpen(): void {
    if (this.#state !== 'open') throw new TransactionServiceClosedError();
  }

  #track(work: Promise<unknown>): void {
    const settled = work.then(noop, noop);
    this.#inFlight.add(settled);
    void settled.then(() => this.#inFlight.delete(settled));
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

function checkMessageId(transactionId: string, actual: string, given: string): void {
  if (given === '' || actual === '' || given === actual) return;
  throw new InvalidTransactionIdError(
    transactionId,
    `it belongs to message ${quote(actual)}, not ${quote(given)}`,
  );
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

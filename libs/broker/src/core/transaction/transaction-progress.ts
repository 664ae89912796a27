/**
 * How far the transaction log is settled: where a restart starts scanning the half and op topics.
 * The counterpart of the consume offsets RocketMQ keeps for its system group `CID_SYS_RMQ_TRANS`
 * on the half and op queues (`TransactionalMessageBridge.fetchConsumeOffset/updateConsumeOffset`).
 *
 * Invariant of a persisted progress `{ halfOffset, opOffset }`:
 * - every half below `halfOffset` is finished (its COMMIT/ROLLBACK/DISCARD op record is durable);
 * - every op record about a half at or above `halfOffset` lies at or above `opOffset`.
 * An older progress stays true forever (halves only get finished; op records only get appended), so
 * persisting lazily is always safe: a stale file only makes the next start scan more.
 *
 * `clean` says the previous run closed with every commit accounted for; when false, the next start
 * looks for commits whose op record a crash tore off (see TransactionService).
 */
import { join } from 'node:path';
import { CorruptJsonFileError, readJsonFile, writeJsonFileAtomic } from '../json-file.js';
import type { StoreLogger } from '../../store/index.js';

export const PROGRESS_FILE_NAME = 'transaction-progress.json';

export interface TransactionProgress {
  /** Queue offset in `RMQ_SYS_TRANS_HALF_TOPIC` queue 0. */
  readonly halfOffset: number;
  /** Queue offset in `RMQ_SYS_TRANS_OP_HALF_TOPIC` queue 0. */
  readonly opOffset: number;
}

interface ProgressFileContent extends TransactionProgress {
  readonly version: 1;
  readonly clean: boolean;
}

export const NO_PROGRESS: TransactionProgress = Object.freeze({ halfOffset: 0, opOffset: 0 });

function offset(raw: unknown, name: string): number {
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 0) {
    throw new TypeError(`${name} is not a non-negative integer`);
  }
  return raw;
}

function validate(raw: unknown): ProgressFileContent {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TypeError('not a JSON object');
  const o = raw as Record<string, unknown>;
  if (o.version !== 1) throw new TypeError(`unknown version ${String(o.version)}`);
  return {
    version: 1,
    halfOffset: offset(o.halfOffset, 'halfOffset'),
    opOffset: offset(o.opOffset, 'opOffset'),
    clean: o.clean === true,
  };
}

/** A progress observed at some moment, persistable once the store has flushed what it relies on. */
interface Candidate extends TransactionProgress {
  /** Commit-log end when observed: its op records are durable once the store flushed this far. */
  readonly needsFlushedTo: number;
}

/** Most candidates waiting for a flush; older ones are dropped (the newest safe one wins anyway). */
const MAX_CANDIDATES = 8;

/**
 * The progress file, written atomically (`core/json-file.ts`). A progress only reaches the disk
 * after the store's flushed offset covers the op records it counts as finished: in async-flush mode
 * a crash can take back the last half-second of the log, and a progress vouching for lost op
 * records would make the next start skip halves that are still open (never checked back again).
 */
export class ProgressFile {
  readonly path: string;
  #written: TransactionProgress;
  #writtenClean: boolean;
  #candidates: Candidate[] = [];

  private constructor(
    path: string,
    readonly loaded: TransactionProgress,
    readonly previousRunClean: boolean,
  ) {
    this.path = path;
    this.#written = loaded;
    this.#writtenClean = previousRunClean;
  }

  /** Reads the file; a missing or unreadable one means "scan everything" (only slower, never wrong). */
  static load(stateDir: string, logger: StoreLogger): ProgressFile {
    const path = join(stateDir, PROGRESS_FILE_NAME);
    let content: ProgressFileContent | undefined;
    try {
      content = readJsonFile(path, validate);
    } catch (err) {
      if (!(err instanceof CorruptJsonFileError)) throw err;
      logger.warn(`${err.message}; rescanning the transaction topics from the start`);
    }
    if (!content) return new ProgressFile(path, NO_PROGRESS, false);
    return new ProgressFile(
      path,
      { halfOffset: content.halfOffset, opOffset: content.opOffset },
      content.clean,
    );
  }

  /** The last progress written (or loaded). */
  get written(): TransactionProgress {
    return this.#written;
  }

  /** Writes `progress` now, marking the run clean or not. Callers vouch that it is durable. */
  write(progress: TransactionProgress, clean: boolean): void {
    const content: ProgressFileContent = {
      version: 1,
      halfOffset: progress.halfOffset,
      opOffset: progress.opOffset,
      clean,
    };
    writeJsonFileAtomic(this.path, content);
    this.#written = progress;
    this.#writtenClean = clean;
    this.#candidates = this.#candidates.filter((c) => isAhead(c, progress));
  }

  /** Notes a progress observed now, when the commit log ended at `committedOffset`. */
  observe(progress: TransactionProgress, committedOffset: number): void {
    const last = this.#candidates[this.#candidates.length - 1] ?? this.#written;
    if (!isAhead(progress, last)) return;
    if (this.#candidates.length >= MAX_CANDIDATES) this.#candidates.shift();
    this.#candidates.push({ ...progress, needsFlushedTo: committedOffset });
  }

  /** Writes the newest observed progress that the store has made durable, if any is new. */
  persistDurable(flushedOffset: number, clean = false): void {
    let best: Candidate | undefined;
    for (const c of this.#candidates) if (c.needsFlushedTo <= flushedOffset) best = c;
    if (best) this.write(best, clean);
    else if (clean !== this.#writtenClean) this.write(this.#written, clean);
  }
}

/** `a` is further than `b` in at least one offset (offsets never go back). */
function isAhead(a: TransactionProgress, b: TransactionProgress): boolean {
  return a.halfOffset > b.halfOffset || a.opOffset > b.opOffset;
}

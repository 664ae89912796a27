/**
 * Deletes expired keys: on one instance at a time (a session-level `pg_try_advisory_lock` per
 * table; instances that do not get it skip the run), in batches of `batchSize` rows until a batch
 * comes back short, so no statement holds many row locks or writes a large WAL burst.
 *
 * Only keys past `expires_at` go, and of those only `done` ones or lease claims whose lease expired
 * too; a key still held is never removed.
 */
import { DEFAULT_RETENTION_BATCH_SIZE, DEFAULT_RETENTION_INTERVAL_MS } from '../constants.js';
import { IdempotencyUsageError } from '../errors.js';
import { type IdempotencyStore } from '../core/idempotency-store.js';
import { describeError } from '../core/pg-errors.js';
import { recordsOf } from '../core/store-call.js';

export interface RetentionOptions {
  /** Run the job periodically (the module's default). `false`: never (run it yourself, or with cron). */
  readonly enabled?: boolean;
  /** Between runs, ms. Default 15 min. */
  readonly intervalMs?: number;
  /** Rows per DELETE. Default 5,000. */
  readonly batchSize?: number;
}

/** What one run did. */
export interface RetentionRun {
  /** Another instance held the lock: nothing was done. */
  readonly skipped: boolean;
  readonly deleted: number;
  readonly batches: number;
}

export class RetentionJob {
  readonly intervalMs: number;
  readonly batchSize: number;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<RetentionRun> | undefined;

  /** @throws IdempotencyUsageError for a non-positive interval or batch size */
  constructor(
    private readonly store: IdempotencyStore,
    options: RetentionOptions = {},
  ) {
    this.intervalMs = positive('intervalMs', options.intervalMs, DEFAULT_RETENTION_INTERVAL_MS);
    this.batchSize = positive('batchSize', options.batchSize, DEFAULT_RETENTION_BATCH_SIZE);
  }

  /** Runs every `intervalMs` (first run after one interval) until `stop()`; the timer keeps no process alive. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      if (this.#running === undefined) void this.runOnce().catch(() => undefined); // logged in runOnce
    }, this.intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a run in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** One run now (a run already in progress on this instance is joined, not doubled). */
  runOnce(): Promise<RetentionRun> {
    this.#running ??= this.#run().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #run(): Promise<RetentionRun> {
    const { store } = this;
    try {
      const run = await store.exclusive(() => this.#deleteExpired());
      store.metrics.recordRetention({ skipped: run.skipped, deleted: run.deleted });
      if (run.deleted > 0)
        store.logger.log(`retention deleted ${run.deleted} expired keys of ${store.table.name}`);
      return run;
    } catch (err) {
      store.metrics.recordRetention({ skipped: false, deleted: 0, failed: true });
      store.logger.error(`retention of ${store.table.name} failed: ${describeError(err)}`);
      throw err;
    }
  }

  async #deleteExpired(): Promise<RetentionRun> {
    const { sql } = this.store;
    // Session-level lock: it must stay on this one connection for the whole run.
    const queryRunner = this.store.dataSource.createQueryRunner();
    try {
      const [lock] = await recordsOf<{ locked: boolean }>(queryRunner, sql.tryRetentionLock, []);
      if (lock?.locked !== true) return { skipped: true, deleted: 0, batches: 0 };
      try {
        let deleted = 0;
        let batches = 0;
        for (;;) {
          const [row] = await recordsOf<{ deleted: number }>(queryRunner, sql.deleteExpiredBatch, [
            this.batchSize,
          ]);
          const n = row?.deleted ?? 0;
          deleted += n;
          batches += 1;
          if (n < this.batchSize) return { skipped: false, deleted, batches };
        }
      } finally {
        await recordsOf(queryRunner, sql.retentionUnlock, []);
      }
    } finally {
      await queryRunner.release();
    }
  }
}

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new IdempotencyUsageError(`retention ${name} must be an integer ≥ 1, got ${String(value)}`);
  }
  return value;
}

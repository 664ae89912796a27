/**
 * Counters of what the idempotency layer decided, per outcome (RELIABILITY.md §(b) metrics):
 * in memory always (`snapshot()`), and as prom-client counters when a registry is given.
 */
import { Counter, type Registry } from 'prom-client';

/** What happened to one delivery. */
export const IDEMPOTENCY_OUTCOMES = [
  /** The handler ran and its key was committed (transaction) or marked done (lease). */
  'processed',
  /** The key was already done: the handler was skipped and the message acknowledged. */
  'duplicate',
  /** Another holder had the key (lock timeout, live lease): nothing ran, retry later. */
  'busy',
  /** Lease mode: an expired lease of a crashed holder was taken over. */
  'takeover',
  /** Lease mode: the handler finished but its lease had been taken over meanwhile. */
  'lost_lease',
  /** The key was seen before with a different payload (then handled by the mismatch policy). */
  'payload_mismatch',
  /** The handler threw: rolled back (transaction) or released (lease), so the retry can run it. */
  'failed',
] as const;

export type IdempotencyOutcome = (typeof IDEMPOTENCY_OUTCOMES)[number];

/** Counts of the retention job. */
export interface RetentionCounts {
  /** Runs that held the lock and deleted. */
  readonly runs: number;
  /** Runs skipped because another instance held the lock. */
  readonly skipped: number;
  /** Expired keys deleted. */
  readonly deleted: number;
  readonly failures: number;
}

export interface IdempotencyMetricsSnapshot {
  readonly outcomes: Readonly<Record<IdempotencyOutcome, number>>;
  readonly retention: RetentionCounts;
}

/** Names of the Prometheus series. */
export const OUTCOME_METRIC = 'rocketnest_idempotency_outcome_total';
export const RETENTION_DELETED_METRIC = 'rocketnest_idempotency_retention_deleted_total';

export class IdempotencyMetrics {
  readonly #outcomes = Object.fromEntries(IDEMPOTENCY_OUTCOMES.map((o) => [o, 0])) as Record<
    IdempotencyOutcome,
    number
  >;
  #retention: RetentionCounts = { runs: 0, skipped: 0, deleted: 0, failures: 0 };
  #outcomeCounter: Counter<'outcome' | 'group'> | undefined;
  #deletedCounter: Counter | undefined;

  /**
   * Also counts into `registry`: `rocketnest_idempotency_outcome_total{outcome, group}` and
   * `rocketnest_idempotency_retention_deleted_total`. Counters already registered there (a second
   * module on the same registry) are shared, not registered twice.
   */
  registerPrometheus(registry: Registry): this {
    this.#outcomeCounter =
      (registry.getSingleMetric(OUTCOME_METRIC) as Counter<'outcome' | 'group'> | undefined) ??
      new Counter({
        name: OUTCOME_METRIC,
        help: 'Deliveries seen by the idempotency layer, by outcome',
        labelNames: ['outcome', 'group'],
        registers: [registry],
      });
    this.#deletedCounter =
      (registry.getSingleMetric(RETENTION_DELETED_METRIC) as Counter | undefined) ??
      new Counter({
        name: RETENTION_DELETED_METRIC,
        help: 'Expired idempotency keys deleted by the retention job',
        registers: [registry],
      });
    return this;
  }

  /** Counts one outcome of `group`. */
  record(outcome: IdempotencyOutcome, group: string): void {
    this.#outcomes[outcome] += 1;
    this.#outcomeCounter?.inc({ outcome, group });
  }

  /** Counts one retention run. */
  recordRetention(run: { skipped: boolean; deleted: number; failed?: boolean }): void {
    const r = this.#retention;
    this.#retention = {
      runs: r.runs + (run.skipped || run.failed === true ? 0 : 1),
      skipped: r.skipped + (run.skipped ? 1 : 0),
      deleted: r.deleted + run.deleted,
      failures: r.failures + (run.failed === true ? 1 : 0),
    };
    if (run.deleted > 0) this.#deletedCounter?.inc(run.deleted);
  }

  /** The counts so far. */
  snapshot(): IdempotencyMetricsSnapshot {
    return { outcomes: { ...this.#outcomes }, retention: this.#retention };
  }
}

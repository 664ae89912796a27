/** Options of `IdempotencyStore`, their defaults and checks. */
import {
  DEFAULT_LEASE_MS,
  DEFAULT_LOCK_TIMEOUT_MS,
  DEFAULT_TABLE,
  DEFAULT_TTL_MS,
  MIN_LEASE_MS,
} from '../constants.js';
import { IdempotencyUsageError } from '../errors.js';
import { type IdempotencyMetrics } from '../metrics/idempotency-metrics.js';
import { type IdempotencyLogger } from './idempotency-logger.js';
import { type IdempotencyMode } from './idempotency-scope.js';

/**
 * What to do when a key comes back with a different payload hash: `'skip'` it as a duplicate
 * (default), `'process'` it again (its effects are added to the first ones'), or `'fail'`: refuse it
 * on every delivery so it ends in the dead-letter queue. All three log and count the mismatch.
 */
export type PayloadMismatchPolicy = 'process' | 'skip' | 'fail';

export interface IdempotencyStoreOptions {
  /** `table` or `schema.table`. Default `mq_idempotency`. */
  readonly table?: string;
  /** Default mode of calls that do not say. Default `'transaction'`. */
  readonly mode?: IdempotencyMode;
  /** How long a done key is remembered, ms. Default 7 days. */
  readonly ttlMs?: number;
  /** Transaction mode: longest wait behind a concurrent holder of the key, ms. Default 5 s. */
  readonly lockTimeoutMs?: number;
  /** Lease mode: lease duration, ms (≥ 1 s; renewed while the handler runs). Default 60 s. */
  readonly leaseMs?: number;
  /** Default `'skip'`. */
  readonly onPayloadMismatch?: PayloadMismatchPolicy;
  /**
   * Run one transaction at a time. Needed when the DataSource has one shared connection (PGlite
   * through typeorm-pglite); detected for that driver when not given. Only the store's own work is
   * serialized: application queries made on the same PGlite DataSource outside an idempotent
   * handler while one runs still share its session (a limit of typeorm-pglite's single session).
   */
  readonly serialize?: boolean;
  /**
   * Let Postgres keep the plans of the store's statements per connection (pg driver): the claim's
   * INSERT and SELECT with SQL `PREPARE`/`EXECUTE`, lease mode's statements as named protocol
   * statements. Default `true` (planning them on every message costs Postgres about a third more
   * CPU per message). `false` behind a pooler that hands one client's statements to several server
   * sessions (PgBouncer in transaction mode: it cannot keep SQL-level `PREPARE`s).
   */
  readonly preparedStatements?: boolean;
  readonly logger?: IdempotencyLogger;
  /** Counters to add to (share one between stores to count them together). */
  readonly metrics?: IdempotencyMetrics;
}

/** Checks a duration option in ms. @throws IdempotencyUsageError */
export function checkDuration(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new IdempotencyUsageError(
      `${name} must be a number of milliseconds ≥ ${min}, got ${String(value)}`,
    );
  }
  return Math.round(value);
}

const POLICIES: readonly PayloadMismatchPolicy[] = ['process', 'skip', 'fail'];
const MODES: readonly IdempotencyMode[] = ['transaction', 'lease'];

/** @throws IdempotencyUsageError */
export function checkPolicy(
  value: PayloadMismatchPolicy | undefined,
  fallback: PayloadMismatchPolicy,
): PayloadMismatchPolicy {
  if (value === undefined) return fallback;
  if (!POLICIES.includes(value)) {
    throw new IdempotencyUsageError(
      `onPayloadMismatch must be one of ${POLICIES.join(', ')}, got ${String(value)}`,
    );
  }
  return value;
}

/** @throws IdempotencyUsageError */
export function checkMode(value: IdempotencyMode | undefined, fallback: IdempotencyMode): IdempotencyMode {
  if (value === undefined) return fallback;
  if (!MODES.includes(value)) {
    throw new IdempotencyUsageError(`mode must be one of ${MODES.join(', ')}, got ${String(value)}`);
  }
  return value;
}

export const STORE_DEFAULTS = {
  table: DEFAULT_TABLE,
  mode: 'transaction' as IdempotencyMode,
  ttlMs: DEFAULT_TTL_MS,
  lockTimeoutMs: DEFAULT_LOCK_TIMEOUT_MS,
  leaseMs: DEFAULT_LEASE_MS,
  minLeaseMs: MIN_LEASE_MS,
  onPayloadMismatch: 'skip' as PayloadMismatchPolicy,
};

/**
 * Every default and limit of `@rocketnest/idempotency`, named once, with where its value comes from
 * (RELIABILITY.md §(b) unless said otherwise).
 */

/** Table used when none is given. */
export const DEFAULT_TABLE = 'mq_idempotency';

/** Longest key the table accepts (its CHECK constraint); longer business keys are refused, never cut. */
export const MAX_KEY_LENGTH = 255;

/**
 * How long a done key is kept: 7 days. RocketMQ's 16 retries over its delay levels span ≈ 4 h 46 m,
 * and a message replayed from the DLQ days later must still be recognised (MassTransit's 30 min is
 * too short for that; NServiceBus keeps 7 d).
 */
export const DEFAULT_TTL_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * How long a transaction-mode claim waits behind a concurrent holder of the same key before giving
 * up with `IdempotencyBusyError` (the message is then retried later, never handled twice).
 */
export const DEFAULT_LOCK_TIMEOUT_MS = 5_000;

/** Lease of a lease-mode claim; a holder that crashed is taken over only after it expires. */
export const DEFAULT_LEASE_MS = 60_000;

/** Shortest lease accepted: below this a heartbeat could not keep up with a loaded Postgres. */
export const MIN_LEASE_MS = 1_000;

/** A live holder renews its lease this many times per lease duration. */
export const LEASE_RENEWALS_PER_LEASE = 3;

/** Rows one retention statement deletes at most (the design's 5,000: short locks, bounded WAL bursts). */
export const DEFAULT_RETENTION_BATCH_SIZE = 5_000;

/** How often the retention job runs. Keys live for days, so a quarter of an hour is plenty. */
export const DEFAULT_RETENTION_INTERVAL_MS = 15 * 60 * 1000;

/**
 * First half of the advisory lock key of the retention job (`'RNID'`); the second half is
 * `hashtext(<table>)`, so two tables are cleaned independently.
 */
export const ADVISORY_LOCK_NAMESPACE = 0x524e4944;

/** Second namespace, for the schema setup (`ensureIdempotencySchema`), so it never waits on a cleanup. */
export const SCHEMA_LOCK_NAMESPACE = 0x524e4953;

/**
 * The statements of both modes and of the retention job, for one table. Kept together so that the
 * whole protocol (RELIABILITY.md §(b)) can be read in one place.
 *
 * Durations are bound as milliseconds (`$n::float8 * interval '1 millisecond'`), times are always
 * the database's `now()` (one clock for every consumer instance).
 */
import { hash } from 'node:crypto';
import { ADVISORY_LOCK_NAMESPACE, SCHEMA_LOCK_NAMESPACE } from '../constants.js';
import { type TableName } from '../table-name.js';

export interface IdempotencySql {
  /**
   * Transaction mode: `$1` group, `$2` key, `$3` payload hash, `$4` ttl ms, `$5` lock_timeout
   * (e.g. `'5000ms'`). Answers one row: `claimed` 1 when the key was inserted; else 0 with the
   * existing key's `status` and `payload_hash` when this statement's snapshot sees it (a
   * redelivery: one round trip for both outcomes), or null ones when the key was committed by a
   * concurrent transaction this insert waited for (read it with `readExisting`).
   *
   * The lock timeout is set transaction-locally by the same statement (a materialized CTE runs
   * before the insert can wait on a concurrent holder of the key), which saves a round trip per
   * message over a separate `SET LOCAL`. It also bounds the handler's own lock waits in this
   * transaction, as `SET LOCAL lock_timeout` would.
   */
  readonly claimInTransaction: string;
  /**
   * The same claim as three statements for one simple-protocol query (`beginWithClaim`), cut at
   * its values (same numbering) to be rendered with literals:
   * `SET LOCAL lock_timeout; EXECUTE` the prepared `INSERT … ON CONFLICT DO NOTHING RETURNING 1`;
   * `EXECUTE` the prepared `SELECT status, payload_hash` of the key. The INSERT answers whether
   * the key was claimed; the SELECT, a statement of its own with a fresh READ COMMITTED snapshot,
   * sees the key of a redelivery and also one committed by a concurrent transaction the INSERT
   * waited for. Prepared once per connection (`prepareClaim`), the two are planned once instead
   * of on every message: Postgres spends about 40% less CPU on the claim than on planning the
   * single-statement CTE form each time.
   */
  readonly claimTemplate: ClaimTemplate;
  /** `PREPARE`s of the two statements `claimTemplate` executes, each run once per connection (session-level). */
  readonly prepareClaim: readonly string[];
  /** `claimTemplate` with the INSERT and SELECT written out instead of executed (no `PREPARE`). */
  readonly claimTemplateUnprepared: ClaimTemplate;
  /** `$1` group, `$2` key: status, payload hash, whether a lease is live. */
  readonly readExisting: string;
  /**
   * Transaction mode, `'process'` policy: `$1` group, `$2` key, `$3` new hash, `$4` ttl ms. Takes a
   * done key whose hash differs; a concurrent re-claim makes this wait, then re-check the hash
   * (so two deliveries of one new payload re-process it once).
   */
  readonly reclaimDoneInTransaction: string;
  /**
   * Lease mode: `$1` group, `$2` key, `$3` hash, `$4` owner, `$5` lease ms, `$6` ttl ms. A new key
   * is inserted; an existing one is taken over only when it is `processing` and its lease expired
   * (a conditional upsert: two claimants can never both win, CAMEL-23294). Returns `attempts` when
   * claimed (1 = first claim, more = takeover), no row otherwise.
   */
  readonly claimLease: string;
  /** Lease mode, `'process'` policy: takes a `done` key whose hash differs. Same parameters as claimLease. */
  readonly reclaimDoneLease: string;
  /** `$1` group, `$2` key, `$3` owner, `$4` lease ms: one row while the lease is still ours. */
  readonly renewLease: string;
  /** `$1` group, `$2` key, `$3` owner, `$4` ttl ms: one row when marked done, none when the lease was lost. */
  readonly completeLease: string;
  /** `$1` group, `$2` key, `$3` owner: removes our claim so the retry can take it at once. */
  readonly releaseLease: string;
  /** `$1` batch size: deletes up to that many expired rows, returns how many. */
  readonly deleteExpiredBatch: string;
  /** Session-level advisory lock of the retention job for this table (`locked` boolean). */
  readonly tryRetentionLock: string;
  readonly retentionUnlock: string;
  /** Transaction-level advisory lock serializing schema setup of this table. */
  readonly schemaLock: string;
}

const MS = `* interval '1 millisecond'`;

/** A statement as text pieces around numbered values: `text[0] v[0] text[1] … v[n-1] text[n]`. */
export interface ClaimTemplate {
  readonly text: readonly string[];
  readonly values: ReadonlyArray<1 | 2 | 3 | 4 | 5>;
}

/** Marks a value's place while cutting the template (never in a checked table name). */
const VALUE_MARK = '\u0000';

/** Hex digits of a statement's hash in its prepared-statement name (well under the 63-byte limit). */
const STATEMENT_NAME_HEX = 24;

/** A stable name for a prepared statement of `text` (same text, same name, on any connection). */
function preparedName(text: string): string {
  return `rocketnest_idem_p_${hash('sha256', text, 'hex').slice(0, STATEMENT_NAME_HEX)}`;
}

function cutAtValues(statements: string): ClaimTemplate {
  const pieces = statements.split(VALUE_MARK);
  return {
    text: pieces.filter((_, i) => i % 2 === 0),
    values: pieces.filter((_, i) => i % 2 === 1).map((n) => Number(n) as 1 | 2 | 3 | 4 | 5),
  };
}

function claimStatements(t: string): {
  template: ClaimTemplate;
  prepare: readonly string[];
  unprepared: ClaimTemplate;
} {
  const insert =
    `INSERT INTO ${t} (consumer_group, idem_key, status, payload_hash, done_at, expires_at) ` +
    `VALUES ($1, $2, 'done', $3, now(), now() + $4::float8 ${MS}) ON CONFLICT DO NOTHING RETURNING 1`;
  const select = `SELECT status, payload_hash FROM ${t} WHERE consumer_group = $1 AND idem_key = $2`;
  const insertName = preparedName(insert);
  const selectName = preparedName(select);
  const value = (n: 1 | 2 | 3 | 4 | 5): string => `${VALUE_MARK}${n}${VALUE_MARK}`;
  const statements =
    `SET LOCAL lock_timeout = ${value(5)}; ` +
    `EXECUTE ${insertName}(${value(1)}, ${value(2)}, ${value(3)}, ${value(4)}); ` +
    `EXECUTE ${selectName}(${value(1)}, ${value(2)})`;
  const inline = (sql: string): string =>
    sql.replace(/\$([1-4])/g, (_, n: string) => value(Number(n) as 1 | 2 | 3 | 4));
  return {
    template: cutAtValues(statements),
    unprepared: cutAtValues(`SET LOCAL lock_timeout = ${value(5)}; ${inline(insert)}; ${inline(select)}`),
    prepare: [
      `PREPARE ${insertName}(text, text, bytea, float8) AS ${insert}`,
      `PREPARE ${selectName}(text, text) AS ${select}`,
    ],
  };
}

/**
 * The transaction-mode claim with its values rendered by `value(n)`: `$n` placeholders, or
 * literals for the one-round-trip start (`beginWithClaim`).
 */
export function claimInTransaction(t: string, value: (n: 1 | 2 | 3 | 4 | 5) => string): string {
  return (
    `WITH settings AS MATERIALIZED (SELECT set_config('lock_timeout', ${value(5)}::text, true)), ` +
    `inserted AS (INSERT INTO ${t} (consumer_group, idem_key, status, payload_hash, done_at, expires_at) ` +
    `SELECT ${value(1)}::text, ${value(2)}::text, 'done', ${value(3)}::bytea, now(), now() + ${value(4)}::float8 ${MS} ` +
    `FROM settings ON CONFLICT DO NOTHING RETURNING 1) ` +
    `SELECT (SELECT count(*) FROM inserted)::int AS claimed, e.status, e.payload_hash ` +
    `FROM (SELECT 1) AS one LEFT JOIN ${t} AS e ON e.consumer_group = ${value(1)}::text AND e.idem_key = ${value(2)}::text`
  );
}

export function idempotencySql(table: TableName): IdempotencySql {
  const t = table.quoted;
  const pk = `consumer_group = $1 AND idem_key = $2`;
  const lockKey = (ns: number): string => `${ns}, hashtext(${literal(table.name)})`;
  const claim = claimStatements(t);
  return {
    claimInTransaction: claimInTransaction(t, (n) => `$${n}`),
    claimTemplate: claim.template,
    prepareClaim: claim.prepare,
    claimTemplateUnprepared: claim.unprepared,
    readExisting: `SELECT status, payload_hash, lease_until > now() AS lease_live FROM ${t} WHERE ${pk}`,
    reclaimDoneInTransaction:
      `UPDATE ${t} SET payload_hash = $3, attempts = attempts + 1, done_at = now(), ` +
      `expires_at = now() + $4::float8 ${MS} WHERE ${pk} AND status = 'done' AND payload_hash IS DISTINCT FROM $3 ` +
      `RETURNING attempts`,
    claimLease:
      `INSERT INTO ${t} AS existing (consumer_group, idem_key, status, payload_hash, lease_owner, lease_until, expires_at) ` +
      `VALUES ($1, $2, 'processing', $3, $4, now() + $5::float8 ${MS}, now() + $6::float8 ${MS}) ` +
      `ON CONFLICT (consumer_group, idem_key) DO UPDATE SET lease_owner = EXCLUDED.lease_owner, ` +
      `lease_until = EXCLUDED.lease_until, payload_hash = EXCLUDED.payload_hash, ` +
      `expires_at = EXCLUDED.expires_at, attempts = existing.attempts + 1 ` +
      `WHERE existing.status = 'processing' AND existing.lease_until < now() RETURNING attempts`,
    reclaimDoneLease:
      `UPDATE ${t} SET status = 'processing', payload_hash = $3, lease_owner = $4, ` +
      `lease_until = now() + $5::float8 ${MS}, expires_at = now() + $6::float8 ${MS}, ` +
      `attempts = attempts + 1, done_at = NULL ` +
      `WHERE ${pk} AND status = 'done' AND payload_hash IS DISTINCT FROM $3 RETURNING attempts`,
    renewLease:
      `UPDATE ${t} SET lease_until = now() + $4::float8 ${MS} ` +
      `WHERE ${pk} AND lease_owner = $3 AND status = 'processing' RETURNING 1 AS renewed`,
    completeLease:
      `UPDATE ${t} SET status = 'done', done_at = now(), lease_until = NULL, expires_at = now() + $4::float8 ${MS} ` +
      `WHERE ${pk} AND lease_owner = $3 AND status = 'processing' RETURNING 1 AS completed`,
    releaseLease: `DELETE FROM ${t} WHERE ${pk} AND lease_owner = $3 AND status = 'processing'`,
    // ctid batches as the design says; the outer condition is checked again on the row actually
    // deleted, so a key renewed between the two (a 'process' re-claim) is never removed.
    deleteExpiredBatch:
      `WITH gone AS (DELETE FROM ${t} WHERE ctid = ANY(ARRAY(` +
      `SELECT ctid FROM ${t} WHERE expires_at < now() AND (status = 'done' OR lease_until < now()) LIMIT $1)) ` +
      `AND expires_at < now() AND (status = 'done' OR lease_until < now()) RETURNING 1) ` +
      `SELECT count(*)::int AS deleted FROM gone`,
    tryRetentionLock: `SELECT pg_try_advisory_lock(${lockKey(ADVISORY_LOCK_NAMESPACE)}) AS locked`,
    retentionUnlock: `SELECT pg_advisory_unlock(${lockKey(ADVISORY_LOCK_NAMESPACE)}) AS unlocked`,
    schemaLock: `SELECT pg_advisory_xact_lock(${lockKey(SCHEMA_LOCK_NAMESPACE)})`,
  };
}

/** A SQL string literal of a checked table name (letters, digits, `_`, `.`: nothing to escape). */
function literal(value: string): string {
  return `'${value.replaceAll("'", "''")}'`;
}

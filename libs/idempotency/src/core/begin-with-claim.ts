/**
 * Starting the claim transaction and claiming the key in one round trip instead of two.
 *
 * On a loaded two-core machine the cost of a message is mostly its round trips to Postgres (each
 * is a socket write and a wake-up of the backend), and `queryRunner.startTransaction()` spends
 * one on `START TRANSACTION` alone. Here `START TRANSACTION; <claim>` go as one simple-protocol
 * query (values as escaped literals: the simple protocol takes no parameters), and the query
 * runner is then marked as inside a transaction exactly as `startTransaction()` would leave it
 * (`isTransactionActive`, depth 1), so the handler's `manager.save()` / `manager.transaction()`
 * nest as savepoints and `commitTransaction()` / `rollbackTransaction()` end it as usual.
 *
 * Used only where that is exactly equivalent: the pg driver (not PGlite's single session), no
 * TypeORM subscribers (they would miss the transaction-start events), and a query runner whose
 * transaction fields look as this TypeORM version keeps them. Otherwise `startTransaction()`.
 *
 * The claim's INSERT and SELECT are prepared once per connection (`PREPARE`, session-level) and
 * run with `EXECUTE`, so Postgres does not plan them again for every message.
 *
 * The COMMIT of such a transaction goes straight to the same pg client too (`commitOnClient`):
 * `commitTransaction()` would send the same `COMMIT` after two subscriber broadcasts and TypeORM's
 * query wrapping, a few µs of CPU per message with nothing listening.
 */
import { type QueryRunner } from 'typeorm';
import { type ClaimTemplate } from './idempotency-sql.js';
import { DUPLICATE_PREPARED_STATEMENT, INVALID_SQL_STATEMENT_NAME, sqlStateOf } from './pg-errors.js';
import { type ResolvedCall } from './idempotent-call.js';
import { type IdempotencyStore } from './idempotency-store.js';

/** The raw pg client's part this needs. */
interface PgClient {
  query(text: string): Promise<PgResult | PgResult[]>;
  escapeLiteral(value: string): string;
}

interface PgResult {
  readonly rows: unknown[];
}

/** TypeORM's own fields of a query runner's transaction state (`transactionDepth` is protected). */
interface TransactionState {
  isTransactionActive: boolean;
  transactionDepth: number;
}

/** Whether `beginWithClaim` may replace `startTransaction()` + claim for this store and runner. */
export function canBeginWithClaim(store: IdempotencyStore, queryRunner: QueryRunner): boolean {
  const state = queryRunner as unknown as Partial<TransactionState>;
  return (
    !store.serialized &&
    store.dataSource.subscribers.length === 0 &&
    state.isTransactionActive === false &&
    state.transactionDepth === 0
  );
}

/** What the claim answered: inserted, or the key as a fresh snapshot saw it (nulls: not seen). */
export interface ClaimAnswer {
  readonly claimed: number;
  readonly status: 'processing' | 'done' | null;
  readonly payload_hash: Uint8Array | null;
}

/** The results of `START TRANSACTION; SET LOCAL; EXECUTE insert; EXECUTE select`, in that order. */
const INSERT_RESULT = 2;
const SELECT_RESULT = 3;

/**
 * Starts the transaction and runs the claim (see `idempotencySql.claimTemplate`); resolves with
 * its answer, or undefined when the connection is not a pg client (the caller then takes the
 * usual path; nothing was sent).
 */
export async function beginWithClaim(
  store: IdempotencyStore,
  queryRunner: QueryRunner,
  call: ResolvedCall,
): Promise<ClaimAnswer | undefined> {
  const client = (await queryRunner.connect()) as Partial<PgClient>;
  if (typeof client.escapeLiteral !== 'function' || typeof client.query !== 'function') return undefined;
  const pgClient = client as PgClient;
  if (store.preparedStatements) await preparedOnClient(pgClient, store.sql.prepareClaim);
  const template = store.preparedStatements ? store.sql.claimTemplate : store.sql.claimTemplateUnprepared;
  const text = renderClaim(template, {
    1: pgClient.escapeLiteral(call.group),
    2: pgClient.escapeLiteral(call.key),
    3: call.payloadHash === null ? 'NULL' : `'\\x${call.payloadHash.toString('hex')}'`,
    4: String(call.ttlMs), // checked integers
    5: `'${call.lockTimeoutMs}ms'`,
  });
  // Marked before sending, as startTransaction() does: whatever happens next, the caller's
  // rollback ends the transaction block this query may have opened.
  const state = queryRunner as unknown as TransactionState;
  state.isTransactionActive = true;
  state.transactionDepth = 1;
  let results: PgResult | PgResult[];
  try {
    results = await pgClient.query(text);
  } catch (err) {
    // Someone DEALLOCATEd our statements on this session: prepare them again for the retry.
    if (sqlStateOf(err) === INVALID_SQL_STATEMENT_NAME) preparedOn.delete(pgClient);
    throw err;
  }
  if (!Array.isArray(results) || results.length !== SELECT_RESULT + 1) {
    throw new Error(`the claim answered ${Array.isArray(results) ? results.length : 1} results, not 4`);
  }
  if (results[INSERT_RESULT]!.rows.length === 1) return { claimed: 1, status: null, payload_hash: null };
  const existing = results[SELECT_RESULT]!.rows[0] as Omit<ClaimAnswer, 'claimed'> | undefined;
  return { claimed: 0, status: existing?.status ?? null, payload_hash: existing?.payload_hash ?? null };
}

/** `START TRANSACTION …; <claim>` with the literals in place (the template is split once per store). */
function renderClaim(template: ClaimTemplate, literals: Record<1 | 2 | 3 | 4 | 5, string>): string {
  let text = `START TRANSACTION ISOLATION LEVEL READ COMMITTED; ${template.text[0]!}`;
  for (let i = 0; i < template.values.length; i++)
    text += literals[template.values[i]!] + template.text[i + 1]!;
  return text;
}

/**
 * Commits a transaction `beginWithClaim` started (same conditions), on its pg client, when nothing
 * has nested deeper since (depth 1); resolves false without sending anything otherwise (the
 * caller then uses `commitTransaction()`). The query runner is left as `commitTransaction()` leaves it; a failed
 * COMMIT leaves it inside the transaction, for the caller's rollback.
 */
export async function commitOnClient(store: IdempotencyStore, queryRunner: QueryRunner): Promise<boolean> {
  const state = queryRunner as unknown as TransactionState & { databaseConnection?: Partial<PgClient> };
  const client = state.databaseConnection;
  if (
    store.serialized ||
    store.dataSource.subscribers.length > 0 || // they expect the commit broadcasts
    !state.isTransactionActive ||
    state.transactionDepth !== 1 ||
    queryRunner.isReleased ||
    typeof client?.query !== 'function'
  ) {
    return false;
  }
  await (client as PgClient).query('COMMIT');
  state.isTransactionActive = false;
  state.transactionDepth = 0;
  return true;
}

/** The PREPAREs already run on each pg client (one client is one server session). */
const preparedOn = new WeakMap<object, Set<string>>();

/**
 * Runs the `PREPARE`s this session has not had yet (one round trip each, once per connection, and
 * outside any transaction). One already there under the same name has the same text (names are
 * hashes of their statement), e.g. prepared by another store on the same table.
 */
async function preparedOnClient(client: PgClient, prepares: readonly string[]): Promise<void> {
  let done = preparedOn.get(client);
  if (done === undefined) {
    done = new Set();
    preparedOn.set(client, done);
  }
  for (const prepare of prepares) {
    if (done.has(prepare)) continue;
    try {
      await client.query(prepare);
    } catch (err) {
      if (sqlStateOf(err) !== DUPLICATE_PREPARED_STATEMENT) throw err;
    }
    done.add(prepare);
  }
}

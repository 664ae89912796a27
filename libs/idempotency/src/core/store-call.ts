/** Running the store's statements and turning driver failures into the library's errors. */
import { createHash } from 'node:crypto';
import { type QueryRunner } from 'typeorm';
import { IdempotencyStoreError } from '../errors.js';
import { type IdempotencyStore } from './idempotency-store.js';
import { describeError } from './pg-errors.js';

/**
 * The rows of a statement, the same for pg and PGlite (TypeORM's plain `query` answers UPDATE and
 * DELETE as `[rows, count]` on pg but as rows on PGlite; its structured result does not differ).
 */
export async function recordsOf<R>(
  queryRunner: QueryRunner,
  sql: string,
  parameters: unknown[],
): Promise<R[]> {
  const result = await queryRunner.query(sql, parameters, true);
  return result.records as R[];
}

/** Hex digits of a statement's hash in its prepared-statement name (well under the 63-byte limit). */
const STATEMENT_NAME_HEX = 24;

/** The part of pg's Pool this needs. */
interface PgPool {
  query(config: { name?: string; text: string; values: unknown[] }): Promise<{ rows: unknown[] }>;
  connect: unknown;
}

/** Prepared-statement names per statement text (the same text gets the same name on every connection). */
const statementNames = new Map<string, string>();

/**
 * One statement on a connection of its own (autocommit), alone when the driver has one connection.
 *
 * On pg it goes straight to the DataSource's pool, as a named prepared statement unless the store
 * says otherwise: Postgres plans each of the store's few statements once per connection instead
 * of on every call, and no TypeORM
 * QueryRunner is created and released per statement (lease mode runs two or three of these per
 * message). Same connection pool, same parameters, same rows.
 */
export function autocommit<R>(store: IdempotencyStore, sql: string, parameters: unknown[]): Promise<R[]> {
  const pool = pgPoolOf(store);
  if (pool !== undefined) {
    const query = store.preparedStatements
      ? { name: statementName(sql), text: sql, values: parameters }
      : { text: sql, values: parameters };
    return pool.query(query).then((result) => result.rows as R[]);
  }
  return store.exclusive(async () => {
    const queryRunner = store.dataSource.createQueryRunner();
    try {
      return await recordsOf<R>(queryRunner, sql, parameters);
    } finally {
      await queryRunner.release();
    }
  });
}

/** Runs `run`; any failure becomes `IdempotencyStoreError` naming what was being done. */
export async function storeCall<R>(what: string, run: () => Promise<R>): Promise<R> {
  try {
    return await run();
  } catch (err) {
    throw new IdempotencyStoreError(`${what} failed: ${describeError(err)}`, { cause: err });
  }
}

/** The pg pool under a pg DataSource; undefined for PGlite (serialized) or another driver shape. */
function pgPoolOf(store: IdempotencyStore): PgPool | undefined {
  if (store.serialized || !store.dataSource.isInitialized) return undefined;
  const master = (store.dataSource.driver as { master?: Partial<PgPool> }).master;
  return typeof master?.query === 'function' && typeof master.connect === 'function'
    ? (master as PgPool)
    : undefined;
}

function statementName(sql: string): string {
  let name = statementNames.get(sql);
  if (name === undefined) {
    name = `rocketnest_idem_${createHash('sha256').update(sql).digest('hex').slice(0, STATEMENT_NAME_HEX)}`;
    statementNames.set(sql, name);
  }
  return name;
}

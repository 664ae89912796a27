/**
 * Creates the idempotency table when it is missing, without TypeORM's `synchronize` and without a
 * migration pipeline. Safe to call from every instance at startup: a transaction-level advisory
 * lock serializes concurrent callers (concurrent `CREATE TABLE IF NOT EXISTS` can otherwise fail
 * on the catalog's unique index).
 */
import { type DataSource } from 'typeorm';
import { DEFAULT_TABLE } from '../constants.js';
import { idempotencySql } from '../core/idempotency-sql.js';
import { parseTableName } from '../table-name.js';
import { createTableStatements } from './idempotency-ddl.js';

export interface EnsureIdempotencySchemaOptions {
  /** `table` or `schema.table`. Default `mq_idempotency`. */
  readonly table?: string;
}

/** Creates the table (and its schema, index) if needed; the DataSource must be initialized. */
export async function ensureIdempotencySchema(
  dataSource: DataSource,
  options: EnsureIdempotencySchemaOptions = {},
): Promise<void> {
  const table = parseTableName(options.table ?? DEFAULT_TABLE);
  await dataSource.transaction(async (manager) => {
    await manager.query(idempotencySql(table).schemaLock);
    for (const statement of createTableStatements(table)) await manager.query(statement);
  });
}

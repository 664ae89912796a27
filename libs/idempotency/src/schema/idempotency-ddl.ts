/**
 * DDL of the idempotency table (RELIABILITY.md §(b)): primary key (consumer group, key), status,
 * payload hash, lease owner/until, attempts, timestamps, expiry, and an index on expiry for the
 * retention job. Every statement is `IF NOT EXISTS`, so running it again is harmless.
 */
import { MAX_KEY_LENGTH } from '../constants.js';
import { quoteIdentifier, type TableName } from '../table-name.js';

/** Statements creating the table (and its schema, when the name has one). */
export function createTableStatements(table: TableName): string[] {
  const statements: string[] = [];
  if (table.schema !== undefined) {
    statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(table.schema)}`);
  }
  statements.push(
    `CREATE TABLE IF NOT EXISTS ${table.quoted} (
  consumer_group text NOT NULL CHECK (length(consumer_group) >= 1),
  idem_key text NOT NULL CHECK (length(idem_key) BETWEEN 1 AND ${MAX_KEY_LENGTH}),
  status text NOT NULL CHECK (status IN ('processing', 'done')),
  payload_hash bytea,
  lease_owner uuid,
  lease_until timestamptz,
  attempts int NOT NULL DEFAULT 1,
  created_at timestamptz NOT NULL DEFAULT now(),
  done_at timestamptz,
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (consumer_group, idem_key)
)`,
    `CREATE INDEX IF NOT EXISTS ${expiryIndexName(table)} ON ${table.quoted} (expires_at)`,
  );
  return statements;
}

/** Statements dropping the table (the migration's `down`); a schema the table lived in is kept. */
export function dropTableStatements(table: TableName): string[] {
  return [`DROP TABLE IF EXISTS ${table.quoted}`];
}

function expiryIndexName(table: TableName): string {
  return quoteIdentifier(`${table.table}_expires_at_idx`);
}

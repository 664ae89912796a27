/**
 * The table name is spliced into SQL (identifiers cannot be bound parameters), so it is checked
 * against a strict pattern and quoted, never passed through as given.
 */
import { IdempotencyUsageError } from './errors.js';

/** `table` or `schema.table`: lower-case letters, digits and `_`, each part ≤ 63 bytes (Postgres' NAMEDATALEN - 1). */
const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** A checked table name and its quoted forms. */
export interface TableName {
  /** As given: `table` or `schema.table`. */
  readonly name: string;
  readonly schema: string | undefined;
  readonly table: string;
  /** `"schema"."table"` or `"table"`, for SQL. */
  readonly quoted: string;
}

/** @throws IdempotencyUsageError when the name is not `table` or `schema.table` of lower-case identifiers */
export function parseTableName(name: string): TableName {
  if (typeof name !== 'string') throw new IdempotencyUsageError('table must be a string');
  const parts = name.split('.');
  if (parts.length > 2 || !parts.every((p) => IDENTIFIER.test(p))) {
    throw new IdempotencyUsageError(
      `table must be "table" or "schema.table" of lower-case letters, digits and _, got ${JSON.stringify(name)}`,
    );
  }
  const [schema, table] = parts.length === 2 ? [parts[0], parts[1]!] : [undefined, parts[0]!];
  return {
    name,
    schema,
    table,
    quoted: schema === undefined ? `"${table}"` : `"${schema}"."${table}"`,
  };
}

/** Quotes one checked identifier part (index and constraint names derived from the table's). */
export function quoteIdentifier(part: string): string {
  return `"${part}"`;
}

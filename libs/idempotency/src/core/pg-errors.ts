/** Reading what Postgres said from an error that went through pg and TypeORM. */

/** `lock_not_available`: `lock_timeout` expired while waiting for a concurrent holder. */
export const LOCK_NOT_AVAILABLE = '55P03';

/** `duplicate_prepared_statement`: a PREPARE of a name this session already has. */
export const DUPLICATE_PREPARED_STATEMENT = '42P05';

/** `invalid_sql_statement_name`: EXECUTE of a name this session does not have (DEALLOCATEd). */
export const INVALID_SQL_STATEMENT_NAME = '26000';

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * The SQLSTATE of an error Postgres answered with; undefined when the server did not answer (a
 * refused or dropped connection, a pool timeout), which is what "outcome unknown" means for a COMMIT.
 */
export function sqlStateOf(err: unknown): string | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' && SQLSTATE.test(code) ? code : undefined;
}

/** A short description for logs and wrapped errors. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

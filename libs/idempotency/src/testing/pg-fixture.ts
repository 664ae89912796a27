/**
 * Tests against the real PostgreSQL (127.0.0.1:5432, db `test`, trust auth; `DATABASE_URL`
 * overrides). Each test file works in a schema of its own, so files running in parallel never
 * see each other's keys.
 */
import { randomBytes } from 'node:crypto';
import { DataSource } from 'typeorm';

export const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** An initialized DataSource on the test database (`poolSize` connections). */
export async function openDataSource(poolSize = 10): Promise<DataSource> {
  const dataSource = new DataSource({ type: 'postgres', url: DATABASE_URL, poolSize });
  return dataSource.initialize();
}

/** A new, empty schema named after `prefix` plus a random suffix. */
export async function createTestSchema(dataSource: DataSource, prefix: string): Promise<string> {
  const schema = `${prefix}_${randomBytes(4).toString('hex')}`;
  await dataSource.query(`CREATE SCHEMA "${schema}"`);
  return schema;
}

export async function dropTestSchema(dataSource: DataSource, schema: string): Promise<void> {
  await dataSource.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

/** Polls `condition` until it holds (no fixed sleeps: the machine is shared and slow at times). */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * A fresh PostgreSQL database per test file, on the real server (127.0.0.1:5432, trust auth;
 * `DATABASE_URL` names the server and the database used to create the others). The services under
 * test create their own tables in it, exactly as they do in the compose stack on an empty volume.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

/** The server and the maintenance database the fresh databases are created from. */
export const SERVER_DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface FreshDatabase {
  readonly name: string;
  /** `DATABASE_URL` for the services. */
  readonly url: string;
  /** A pool on it for the test's own queries. */
  readonly pool: pg.Pool;
  /** Closes the pool and drops the database (its open sessions are ended first). */
  drop(): Promise<void>;
}

/** Connections the test itself needs: a few polling queries, never the services' load. */
const TEST_POOL_SIZE = 3;

async function onServer<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_DATABASE_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Creates `<prefix>_<random>` (lower case, a legal unquoted identifier). */
export async function createFreshDatabase(prefix: string): Promise<FreshDatabase> {
  const name = `${prefix}_${randomBytes(4).toString('hex')}`.toLowerCase();
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`not a database name: ${name}`);
  await onServer((client) => client.query(`CREATE DATABASE ${name}`));
  const url = new URL(SERVER_DATABASE_URL);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: TEST_POOL_SIZE });
  let dropped = false;
  return {
    name,
    url: url.toString(),
    pool,
    async drop() {
      if (dropped) return;
      dropped = true;
      await pool.end();
      // FORCE (PostgreSQL 13+): a service that was SIGKILLed may leave a session behind for a moment.
      await onServer((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

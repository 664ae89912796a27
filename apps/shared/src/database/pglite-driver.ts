/**
 * A `pg`-shaped driver for TypeORM over PGlite (embedded Postgres in WebAssembly), used when a
 * service runs without `DATABASE_URL`.
 *
 * Why not typeorm-pglite's driver as it is: it keeps **one PGlite instance per process** (a static
 * singleton) and hands the **same session to every query runner at once**. The one-process demo
 * runs three services, each with its own database, and each service runs transactions
 * concurrently (an HTTP request, several listeners): two `BEGIN`s on one session would mix their
 * statements. This pool gives each PGlite data directory one instance and lends its only session
 * to one query runner at a time (a pool of size one, as `pg` with `max: 1` behaves), so every
 * TypeORM transaction runs alone. The rule that follows, as with any pool of one: inside a
 * transaction, use its EntityManager, never the DataSource (that would wait for itself).
 */
import { EventEmitter } from 'node:events';
import { PGlite } from '@electric-sql/pglite';

/** What TypeORM's postgres driver reads of a result (as `pg` returns it). */
interface PgResult {
  readonly rows: unknown[];
  readonly rowCount: number;
  readonly command: string | undefined;
}

type Release = (err?: unknown) => void;
type ConnectCallback = (err: Error | null, client: PGliteSession | null, release: Release) => void;

/** One PGlite database and the queue of query runners waiting for its session. */
class SharedDatabase {
  readonly #dataDir: string;
  #db: Promise<PGlite> | undefined;
  #users = 0;
  #tail: Promise<void> = Promise.resolve();

  constructor(dataDir: string) {
    this.#dataDir = dataDir;
  }

  open(): void {
    this.#users++;
  }

  instance(): Promise<PGlite> {
    this.#db ??= PGlite.create({ dataDir: this.#dataDir });
    return this.#db;
  }

  /** Resolves with a release function once the session is this caller's alone. */
  lease(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const granted = this.#tail.then(() => once(release));
    this.#tail = this.#tail.then(() => released);
    return granted;
  }

  /** Closes the database when its last pool ends. */
  async close(): Promise<void> {
    if (--this.#users > 0) return;
    const db = this.#db;
    this.#db = undefined;
    databases.delete(this.#dataDir);
    if (db !== undefined) await (await db).close();
  }
}

function once(fn: () => void): () => void {
  let called = false;
  return () => {
    if (called) return;
    called = true;
    fn();
  };
}

const databases = new Map<string, SharedDatabase>();

/** The session lent to one query runner: `pg.Client`'s `query` as TypeORM calls it. */
class PGliteSession extends EventEmitter {
  constructor(private readonly db: PGlite) {
    super();
  }

  async query(sql: string, params?: unknown[]): Promise<PgResult> {
    if (params !== undefined && params.length > 0) {
      const result = await this.db.query(sql, params);
      return resultOf(result);
    }
    // Without parameters a text may hold several statements (migrations): TypeORM, like pg,
    // expects the last statement's result.
    const results = await this.db.exec(sql);
    const last = results[results.length - 1];
    return last === undefined ? { rows: [], rowCount: 0, command: undefined } : resultOf(last);
  }
}

function resultOf(result: {
  rows: unknown[];
  affectedRows?: number;
  rowCount?: number;
  command?: string;
}): PgResult {
  return {
    rows: result.rows,
    rowCount: result.rowCount ?? result.affectedRows ?? result.rows.length,
    command: result.command,
  };
}

/** `pg.Pool` as TypeORM uses it, over the shared database of one data directory. */
function poolClassFor(dataDir: string): new () => EventEmitter {
  return class ExclusivePGlitePool extends EventEmitter {
    readonly #database: SharedDatabase;
    #ended = false;

    constructor() {
      super();
      let database = databases.get(dataDir);
      if (database === undefined) {
        database = new SharedDatabase(dataDir);
        databases.set(dataDir, database);
      }
      database.open();
      this.#database = database;
    }

    connect(callback: ConnectCallback): void {
      const database = this.#database;
      database.lease().then(
        async (release) => {
          try {
            const session = new PGliteSession(await database.instance());
            callback(null, session, () => release());
          } catch (err) {
            release();
            callback(err instanceof Error ? err : new Error(String(err)), null, () => undefined);
          }
        },
        (err: unknown) =>
          callback(err instanceof Error ? err : new Error(String(err)), null, () => undefined),
      );
    }

    end(callback?: (err: Error | null) => void): void {
      if (this.#ended) {
        callback?.(null);
        return;
      }
      this.#ended = true;
      this.#database.close().then(
        () => callback?.(null),
        (err: unknown) => callback?.(err instanceof Error ? err : new Error(String(err))),
      );
    }
  };
}

/**
 * The `driver` option of a TypeORM postgres DataSource on the PGlite database in `dataDir`
 * (created on first use; DataSources of one directory in one process share it).
 */
export function pgliteDriver(dataDir: string): { Pool: new () => EventEmitter } {
  return { Pool: poolClassFor(dataDir) };
}

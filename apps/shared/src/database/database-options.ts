/**
 * TypeORM options of a sample service: Postgres at `DATABASE_URL`, else PGlite in a data directory.
 * Schema by migrations at startup (`migrationsRun`), never `synchronize`; each service records its
 * migrations in a table of its own, so services may share one database.
 */
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { type DataSourceOptions, type MigrationInterface } from 'typeorm';
import { pgliteDriver } from './pglite-driver.js';

/** Connections per service on a Postgres server. */
export const POSTGRES_POOL_SIZE = 10;
/** Root of the PGlite directories when PGLITE_DATA_DIR is unset. */
export const DEFAULT_PGLITE_ROOT = './data/sample';

export interface ServiceDatabase {
  /** Postgres URL; undefined = PGlite. */
  readonly url: string | undefined;
  /** PGlite's data directory (used when `url` is undefined). */
  readonly pgliteDataDir: string;
}

/** Where a service's data lives, from `DATABASE_URL` / `PGLITE_DATA_DIR`. */
export function serviceDatabaseOf(env: NodeJS.ProcessEnv, service: string): ServiceDatabase {
  const url = env.DATABASE_URL?.trim() || undefined;
  const dir = env.PGLITE_DATA_DIR?.trim() || `${DEFAULT_PGLITE_ROOT}/${service}`;
  return { url, pgliteDataDir: resolve(dir) };
}

/** The DataSource options of a service. */
export function typeOrmOptionsOf(
  database: ServiceDatabase,
  service: string,
  entities: NonNullable<DataSourceOptions['entities']>,
  migrations: ReadonlyArray<new () => MigrationInterface>,
): DataSourceOptions {
  const common = {
    type: 'postgres' as const,
    entities,
    migrations: [...migrations],
    migrationsRun: true,
    migrationsTableName: `${service.replace(/-/g, '_')}_migrations`,
    synchronize: false,
  };
  if (database.url !== undefined) {
    return { ...common, url: database.url, poolSize: POSTGRES_POOL_SIZE };
  }
  mkdirSync(database.pgliteDataDir, { recursive: true });
  return { ...common, driver: pgliteDriver(database.pgliteDataDir) };
}

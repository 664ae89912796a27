/**
 * The idempotency table of one DataSource, with the defaults its calls use. `runIdempotent` (and the
 * Nest interceptor on top of it) run handlers against a store; the retention job cleans its table.
 */
import { type DataSource } from 'typeorm';
import { IdempotencyUsageError } from '../errors.js';
import { IdempotencyMetrics } from '../metrics/idempotency-metrics.js';
import { parseTableName, type TableName } from '../table-name.js';
import { Exclusive } from './exclusive.js';
import { consoleIdempotencyLogger, type IdempotencyLogger } from './idempotency-logger.js';
import { type IdempotencyMode } from './idempotency-scope.js';
import { idempotencySql, type IdempotencySql } from './idempotency-sql.js';
import {
  checkDuration,
  checkMode,
  checkPolicy,
  STORE_DEFAULTS,
  type IdempotencyStoreOptions,
  type PayloadMismatchPolicy,
} from './idempotency-store-options.js';

/** The defaults of a store's calls, checked. */
export interface IdempotencyDefaults {
  readonly mode: IdempotencyMode;
  readonly ttlMs: number;
  readonly lockTimeoutMs: number;
  readonly leaseMs: number;
  readonly onPayloadMismatch: PayloadMismatchPolicy;
}

/** The isolation the claim transaction needs; READ COMMITTED, never RR/SERIALIZABLE (40001 on conflict). */
const READ_COMMITTED = 'READ COMMITTED';

export class IdempotencyStore {
  readonly table: TableName;
  /** @internal the statements of this table */
  readonly sql: IdempotencySql;
  readonly metrics: IdempotencyMetrics;
  readonly logger: IdempotencyLogger;
  readonly defaults: IdempotencyDefaults;
  /** Whether the store's statements are prepared per connection (`IdempotencyStoreOptions.preparedStatements`). */
  readonly preparedStatements: boolean;
  readonly #exclusive: Exclusive | undefined;
  #isolation: Promise<typeof READ_COMMITTED | undefined> | undefined;
  #isolationKnown: { readonly level: typeof READ_COMMITTED | undefined } | undefined;

  /**
   * @param dataSource a Postgres DataSource (pg, or PGlite through typeorm-pglite); it may be
   *   initialized later, before the first call
   * @throws IdempotencyUsageError for another database type or bad options
   */
  constructor(
    readonly dataSource: DataSource,
    options: IdempotencyStoreOptions = {},
  ) {
    if (dataSource.options.type !== 'postgres') {
      throw new IdempotencyUsageError(`the idempotency store needs Postgres, got ${dataSource.options.type}`);
    }
    this.table = parseTableName(options.table ?? STORE_DEFAULTS.table);
    this.sql = idempotencySql(this.table);
    this.metrics = options.metrics ?? new IdempotencyMetrics();
    this.logger = options.logger ?? consoleIdempotencyLogger;
    this.defaults = {
      mode: checkMode(options.mode, STORE_DEFAULTS.mode),
      ttlMs: checkDuration('ttlMs', options.ttlMs, STORE_DEFAULTS.ttlMs),
      lockTimeoutMs: checkDuration('lockTimeoutMs', options.lockTimeoutMs, STORE_DEFAULTS.lockTimeoutMs),
      leaseMs: checkDuration('leaseMs', options.leaseMs, STORE_DEFAULTS.leaseMs, STORE_DEFAULTS.minLeaseMs),
      onPayloadMismatch: checkPolicy(options.onPayloadMismatch, STORE_DEFAULTS.onPayloadMismatch),
    };
    this.preparedStatements = options.preparedStatements ?? true;
    this.#exclusive = (options.serialize ?? isSingleConnection(dataSource)) ? new Exclusive() : undefined;
  }

  /** Whether this store runs one transaction at a time (single-connection drivers). */
  get serialized(): boolean {
    return this.#exclusive !== undefined;
  }

  /** @internal runs `fn` alone when the driver has one connection, else at once */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    return this.#exclusive === undefined ? fn() : this.#exclusive.run(fn);
  }

  /**
   * @internal The isolation level to start claim transactions with: none when the DataSource and
   * the server already default to READ COMMITTED (saves a round trip per message), else explicit.
   * Asked once; call outside `exclusive`.
   */
  isolationLevel(): Promise<typeof READ_COMMITTED | undefined> {
    this.#isolation ??= this.#detectIsolation().then(
      (level) => {
        this.#isolationKnown = { level };
        return level;
      },
      (err: unknown) => {
        this.#isolation = undefined; // ask again next time (Postgres may have been down)
        throw err;
      },
    );
    return this.#isolation;
  }

  /** @internal `isolationLevel()`'s answer once it has one, without a promise per message. */
  get knownIsolationLevel(): { readonly level: typeof READ_COMMITTED | undefined } | undefined {
    return this.#isolationKnown;
  }

  async #detectIsolation(): Promise<typeof READ_COMMITTED | undefined> {
    if (this.dataSource.options.isolationLevel !== undefined) return READ_COMMITTED;
    const rows = await this.exclusive(
      () =>
        this.dataSource.query(`SELECT current_setting('default_transaction_isolation') AS level`) as Promise<
          Array<{ level: string }>
        >,
    );
    return rows[0]?.level === 'read committed' ? undefined : READ_COMMITTED;
  }
}

/** typeorm-pglite hands TypeORM a pool whose every "connection" is the same PGlite session. */
function isSingleConnection(dataSource: DataSource): boolean {
  const library = (dataSource.options as { driver?: { Pool?: { name?: unknown } } }).driver;
  return library?.Pool?.name === 'PGlitePool';
}

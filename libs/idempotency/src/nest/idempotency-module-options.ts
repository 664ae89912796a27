/** Options of `IdempotencyModule.forRoot` / `forRootAsync`. */
import { type InjectionToken, type ModuleMetadata, type OptionalFactoryDependency } from '@nestjs/common';
import { type Registry } from 'prom-client';
import { type DataSource } from 'typeorm';
import { type IdempotencyLogger } from '../core/idempotency-logger.js';
import { type IdempotencyStoreOptions } from '../core/idempotency-store-options.js';
import { type RetentionOptions } from '../retention/retention-job.js';

export interface IdempotencyModuleOptions extends Omit<IdempotencyStoreOptions, 'metrics' | 'logger'> {
  /**
   * The Postgres DataSource holding the table (and the handlers' writes): an instance, or the name
   * of a `@nestjs/typeorm` connection. Default: `TypeOrmModule`'s default DataSource.
   */
  readonly dataSource?: DataSource | string;
  /** The retention job (one instance at a time cleans). Default: on, every 15 min. `false`: off. */
  readonly retention?: RetentionOptions | false;
  /**
   * Create the table at startup if it is missing (`ensureIdempotencySchema`). Default `true`;
   * `false` when the application's TypeORM migrations include `CreateIdempotencyTable…`.
   */
  readonly ensureSchema?: boolean;
  /** A prom-client registry to count outcomes into (`rocketnest_idempotency_outcome_total`). */
  readonly registry?: Registry;
  /** Default: Nest's `Logger` with context `Idempotency`. */
  readonly logger?: IdempotencyLogger;
}

export interface IdempotencyModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  readonly inject?: Array<InjectionToken | OptionalFactoryDependency>;
  readonly useFactory: (...args: never[]) => IdempotencyModuleOptions | Promise<IdempotencyModuleOptions>;
  /**
   * The `@nestjs/typeorm` connection to use when the factory's options give no DataSource
   * instance (its name; default: the default connection).
   */
  readonly dataSourceName?: string;
}

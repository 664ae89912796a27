/**
 * `IdempotencyModule.forRoot()`: a global module providing the store, the interceptor behind
 * `@Idempotent()`, `IdempotencyContext`, the counters and the retention job.
 *
 * ```ts
 * @Module({
 *   imports: [
 *     TypeOrmModule.forRoot({ type: 'postgres', url: process.env.DATABASE_URL, autoLoadEntities: true }),
 *     RocketMQModule.forRoot({}),
 *     IdempotencyModule.forRoot({ retention: { intervalMs: 600_000 } }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
import {
  Inject,
  Logger,
  Module,
  type DynamicModule,
  type OnModuleDestroy,
  type OnModuleInit,
  type Provider,
} from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { IdempotencyStore } from '../core/idempotency-store.js';
import { IdempotencyUsageError } from '../errors.js';
import { IdempotencyMetrics } from '../metrics/idempotency-metrics.js';
import { RetentionJob } from '../retention/retention-job.js';
import { ensureIdempotencySchema } from '../schema/ensure-idempotency-schema.js';
import { IdempotencyContext } from './idempotency-context.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { IDEMPOTENCY_MODULE_OPTIONS } from './idempotency.tokens.js';
import {
  type IdempotencyModuleAsyncOptions,
  type IdempotencyModuleOptions,
} from './idempotency-module-options.js';

@Module({})
export class IdempotencyModule implements OnModuleInit, OnModuleDestroy {
  readonly #retention: RetentionJob | undefined;

  constructor(
    @Inject(IDEMPOTENCY_MODULE_OPTIONS) private readonly options: IdempotencyModuleOptions,
    @Inject(IdempotencyStore) private readonly store: IdempotencyStore,
  ) {
    this.#retention =
      options.retention === false ? undefined : new RetentionJob(store, options.retention ?? {});
    if (options.registry !== undefined) store.metrics.registerPrometheus(options.registry);
  }

  /** Table first (listeners start consuming at bootstrap, after every module's init), then the cleanup timer. */
  async onModuleInit(): Promise<void> {
    if (this.options.ensureSchema !== false) {
      await ensureIdempotencySchema(this.store.dataSource, { table: this.store.table.name });
    }
    this.#retention?.start();
  }

  async onModuleDestroy(): Promise<void> {
    await this.#retention?.stop();
  }

  static forRoot(options: IdempotencyModuleOptions = {}): DynamicModule {
    const dataSource = options.dataSource;
    return IdempotencyModule.build(
      [{ provide: IDEMPOTENCY_MODULE_OPTIONS, useValue: options }],
      typeof dataSource === 'object' ? undefined : dataSource,
      [],
    );
  }

  static forRootAsync(options: IdempotencyModuleAsyncOptions): DynamicModule {
    return IdempotencyModule.build(
      [
        {
          provide: IDEMPOTENCY_MODULE_OPTIONS,
          useFactory: options.useFactory,
          inject: options.inject ?? [],
        },
      ],
      options.dataSourceName,
      options.imports ?? [],
    );
  }

  private static build(
    optionProviders: Provider[],
    dataSourceName: string | undefined,
    imports: NonNullable<DynamicModule['imports']>,
  ): DynamicModule {
    const storeProvider: Provider = {
      provide: IdempotencyStore,
      // The TypeORM DataSource is optional here: the options may carry an instance instead.
      inject: [
        IDEMPOTENCY_MODULE_OPTIONS,
        IdempotencyMetrics,
        { token: getDataSourceToken(dataSourceName), optional: true },
      ],
      useFactory: (options: IdempotencyModuleOptions, metrics: IdempotencyMetrics, injected?: DataSource) => {
        const dataSource = options.dataSource instanceof DataSource ? options.dataSource : injected;
        if (dataSource === undefined) {
          throw new IdempotencyUsageError(
            'IdempotencyModule needs a DataSource: import TypeOrmModule.forRoot(...) or pass { dataSource }',
          );
        }
        return new IdempotencyStore(dataSource, {
          ...options,
          metrics,
          logger: options.logger ?? new Logger('Idempotency'),
        });
      },
    };
    return {
      module: IdempotencyModule,
      global: true,
      imports,
      providers: [
        ...optionProviders,
        { provide: IdempotencyMetrics, useValue: new IdempotencyMetrics() },
        storeProvider,
        IdempotencyInterceptor,
        IdempotencyContext,
      ],
      exports: [IdempotencyStore, IdempotencyMetrics, IdempotencyInterceptor, IdempotencyContext],
    };
  }
}

/**
 * `@rocketnest/idempotency`: each message handled once per consumer group, with the key claimed in
 * Postgres in the same transaction as the handler's writes (RELIABILITY.md §(b)).
 *
 * Without Nest: `new IdempotencyStore(dataSource)` + `runIdempotent(store, { group, key }, handler)`.
 * With Nest: `IdempotencyModule.forRoot()` and `@Idempotent()` on a listener or `@EventPattern`.
 */
export * from './constants.js';
export * from './errors.js';
export { type TableName, parseTableName } from './table-name.js';
export { runIdempotent } from './core/run-idempotent.js';
export { IdempotencyStore, type IdempotencyDefaults } from './core/idempotency-store.js';
export {
  type IdempotencyStoreOptions,
  type PayloadMismatchPolicy,
} from './core/idempotency-store-options.js';
export { type IdempotentCall } from './core/idempotent-call.js';
export { type IdempotentResult } from './core/idempotent-result.js';
export {
  currentIdempotencyScope,
  type IdempotencyMode,
  type IdempotencyScope,
} from './core/idempotency-scope.js';
export {
  consoleIdempotencyLogger,
  silentIdempotencyLogger,
  type IdempotencyLogger,
} from './core/idempotency-logger.js';
export { payloadHashOf } from './core/payload-hash.js';
export {
  IDEMPOTENCY_OUTCOMES,
  IdempotencyMetrics,
  OUTCOME_METRIC,
  RETENTION_DELETED_METRIC,
  type IdempotencyMetricsSnapshot,
  type IdempotencyOutcome,
  type RetentionCounts,
} from './metrics/idempotency-metrics.js';
export { RetentionJob, type RetentionOptions, type RetentionRun } from './retention/retention-job.js';
export {
  CreateIdempotencyTable1767225600000,
  createIdempotencyMigration,
} from './schema/create-idempotency-table.migration.js';
export {
  ensureIdempotencySchema,
  type EnsureIdempotencySchemaOptions,
} from './schema/ensure-idempotency-schema.js';
export { IdempotencyRecord, type IdempotencyStatus } from './schema/idempotency-record.entity.js';
export { IdempotencyModule } from './nest/idempotency.module.js';
export {
  type IdempotencyModuleAsyncOptions,
  type IdempotencyModuleOptions,
} from './nest/idempotency-module-options.js';
export { Idempotent, type IdempotentOptions } from './nest/idempotent.decorator.js';
export { IdempotencyInterceptor } from './nest/idempotency.interceptor.js';
export { IdempotencyContext, IdempotentManager } from './nest/idempotency-context.js';
export {
  isIdempotentMessageContext,
  type IdempotentMessageContext,
} from './nest/idempotent-message-context.js';
export { IDEMPOTENCY_MODULE_OPTIONS, IDEMPOTENT_METADATA } from './nest/idempotency.tokens.js';

/** Injection tokens and metadata keys of the Nest layer. */

/** The module's options (after `forRoot` / `forRootAsync`). */
export const IDEMPOTENCY_MODULE_OPTIONS = Symbol('rocketnest:idempotency:options');

/** Metadata key under which `@Idempotent()` keeps its options on the handler. */
export const IDEMPOTENT_METADATA = 'rocketnest:idempotency:idempotent';

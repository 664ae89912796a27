/**
 * What a handler running under the idempotency layer can reach: its key, and in transaction mode
 * the `EntityManager` of the transaction its key was claimed in. Carried by AsyncLocalStorage, so
 * that Nest providers deep below the handler (`IdempotencyContext`) see the same transaction
 * without it being passed along.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { type EntityManager } from 'typeorm';

export type IdempotencyMode = 'transaction' | 'lease';

export interface IdempotencyScope {
  readonly group: string;
  readonly key: string;
  readonly mode: IdempotencyMode;
  /**
   * Transaction mode: the manager of the transaction holding the key. Every write made through it
   * commits together with the key, or not at all. Undefined in lease mode.
   */
  readonly manager: EntityManager | undefined;
  /** Claims of this key: 1, more after a lease takeover or a `'process'` re-claim. */
  readonly attempt: number;
  /** Lease mode: this claim's owner id (pass it downstream as an idempotency token). */
  readonly leaseOwner: string | undefined;
}

const storage = new AsyncLocalStorage<IdempotencyScope>();

/** The scope of the idempotent handler running in this async context, if any. */
export function currentIdempotencyScope(): IdempotencyScope | undefined {
  return storage.getStore();
}

/** Runs `fn` (and everything it awaits) inside `scope`. */
export function runInIdempotencyScope<T>(scope: IdempotencyScope, fn: () => T): T {
  return storage.run(scope, fn);
}

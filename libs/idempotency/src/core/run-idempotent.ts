/**
 * The core of the library, usable without Nest:
 *
 * ```ts
 * const store = new IdempotencyStore(dataSource);
 * const result = await runIdempotent(store, { group, key: `${topic}:${messageId}`, payloadHash: payloadHashOf(body) },
 *   async ({ manager }) => { await manager!.insert(Order, order); });
 * // resolved (processed or duplicate): ack; thrown: do not ack (retried)
 * ```
 */
import { type IdempotentCall, resolveCall } from './idempotent-call.js';
import { type IdempotentResult } from './idempotent-result.js';
import { type IdempotencyScope } from './idempotency-scope.js';
import { type IdempotencyStore } from './idempotency-store.js';
import { runWithLease } from './lease-mode.js';
import { runInTransaction } from './transaction-mode.js';

/**
 * Runs `handler` at most once per (group, key) to completion: a duplicate resolves with
 * `{ status: 'duplicate' }` without running it. Acknowledge the message when this resolves, never
 * before.
 *
 * @throws IdempotencyBusyError (retryable) when a concurrent holder kept the key; nothing ran
 * @throws IdempotencyStoreError (retryable) when Postgres failed or a COMMIT's outcome is unknown
 * @throws PayloadMismatchError (not retryable) for a reused key under the `'fail'` policy
 * @throws InvalidIdempotencyKeyError (not retryable) for an empty or too long key or group
 * @throws whatever `handler` threw, after its transaction was rolled back (or its lease released)
 */
export function runIdempotent<T>(
  store: IdempotencyStore,
  call: IdempotentCall,
  handler: (scope: IdempotencyScope) => T | Promise<T>,
): Promise<IdempotentResult<T>> {
  let resolved;
  try {
    resolved = resolveCall(store, call);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  return resolved.mode === 'lease'
    ? runWithLease(store, resolved, handler)
    : runInTransaction(store, resolved, handler);
}

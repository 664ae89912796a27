/**
 * Transaction mode (RELIABILITY.md §(b), mode A): the key is inserted in the same READ COMMITTED
 * transaction as the handler's own writes.
 *
 *   START TRANSACTION
 *   INSERT key 'done' ON CONFLICT DO NOTHING   -- waits while a concurrent holder's tx is open
 *     1 row  → run the handler with this transaction's EntityManager → COMMIT → (caller acks)
 *     0 rows → duplicate: nothing ran → ROLLBACK → (caller acks)
 *   handler throws → ROLLBACK: the key goes with the effects, the retry runs again
 *
 * A concurrent duplicate blocks on the unique index until the first transaction ends: commit → it
 * skips, abort → it proceeds. Waiting longer than the lock timeout (55P03) is `IdempotencyBusyError`:
 * retry later, never a double effect. A COMMIT without an answer is `IdempotencyStoreError`: the
 * message must not be acked, and its redelivery finds the key if the commit did happen.
 */
import { type QueryRunner } from 'typeorm';
import { IdempotencyStoreError } from '../errors.js';
import { busyError, CLAIM_ROUNDS, judgeDoneKey, type Claim } from './claim-verdict.js';
import { type ResolvedCall } from './idempotent-call.js';
import { type IdempotentResult } from './idempotent-result.js';
import { runInIdempotencyScope, type IdempotencyScope } from './idempotency-scope.js';
import { type IdempotencyStore } from './idempotency-store.js';
import { describeError, LOCK_NOT_AVAILABLE, sqlStateOf } from './pg-errors.js';
import { recordsOf, storeCall } from './store-call.js';
import { beginWithClaim, canBeginWithClaim, commitOnClient, type ClaimAnswer } from './begin-with-claim.js';

interface ExistingRow {
  readonly status: 'processing' | 'done';
  readonly payload_hash: Uint8Array | null;
}

export async function runInTransaction<T>(
  store: IdempotencyStore,
  call: ResolvedCall,
  handler: (scope: IdempotencyScope) => T | Promise<T>,
): Promise<IdempotentResult<T>> {
  const known = store.knownIsolationLevel;
  const isolation =
    known !== undefined
      ? known.level
      : await storeCall(`reading the isolation level for ${call.group}/${call.key}`, () =>
          store.isolationLevel(),
        );
  return store.exclusive(async () => {
    const queryRunner = store.dataSource.createQueryRunner();
    try {
      let claim: Claim;
      try {
        claim = await claimKey(store, queryRunner, call, isolation);
      } catch (err) {
        await rollback(store, queryRunner, call);
        throw err;
      }
      if (!claim.claimed) {
        await rollback(store, queryRunner, call);
        return claim.result;
      }
      const scope: IdempotencyScope = {
        group: call.group,
        key: call.key,
        mode: 'transaction',
        manager: queryRunner.manager,
        attempt: claim.attempt,
        leaseOwner: undefined,
      };
      let value: T;
      try {
        value = await runInIdempotencyScope(scope, () => handler(scope));
      } catch (err) {
        store.metrics.record('failed', call.group);
        await rollback(store, queryRunner, call);
        throw err;
      }
      await commit(store, queryRunner, call);
      store.metrics.record('processed', call.group);
      return { status: 'processed', value, attempt: claim.attempt, leaseLost: false };
    } finally {
      await queryRunner.release();
    }
  });
}

/** Starts the transaction and inserts the key; a duplicate is read and judged. */
async function claimKey(
  store: IdempotencyStore,
  queryRunner: QueryRunner,
  call: ResolvedCall,
  isolation: 'READ COMMITTED' | undefined,
): Promise<Claim> {
  const { sql } = store;
  const claimParams = [call.group, call.key, call.payloadHash, call.ttlMs, `${call.lockTimeoutMs}ms`];
  for (let round = 0; round < CLAIM_ROUNDS; round++) {
    const [answer] = await claimQuery(store, call, async () => {
      if (round === 0) {
        const fast = canBeginWithClaim(store, queryRunner)
          ? await beginWithClaim(store, queryRunner, call)
          : undefined;
        if (fast !== undefined) return [fast];
        await queryRunner.startTransaction(isolation);
      }
      return recordsOf<ClaimAnswer>(queryRunner, sql.claimInTransaction, claimParams);
    });
    if (answer?.claimed === 1) return { claimed: true, attempt: 1 };

    // Not inserted. A redelivery's key is in the answer. The single-statement (CTE) claim's
    // snapshot misses a key committed by a concurrent transaction it waited for: read it then.
    let existing: ExistingRow | undefined =
      answer?.status == null ? undefined : { status: answer.status, payload_hash: answer.payload_hash };
    if (existing === undefined) {
      const rows = await claimQuery(store, call, () =>
        recordsOf<ExistingRow>(queryRunner, sql.readExisting, [call.group, call.key]),
      );
      existing = rows[0];
    }
    if (existing === undefined) continue; // gone since the insert looked: claim again
    if (existing.status === 'processing') {
      // A lease-mode claim of the same key (a listener switched modes): its holder is still at it.
      throw busyError(store, call, 'a lease-mode claim holds it');
    }
    const verdict = judgeDoneKey(store, call, existing.payload_hash);
    if (verdict !== 'process') return { claimed: false, result: verdict };
    const reclaimed = await claimQuery(store, call, () =>
      recordsOf<{ attempts: number }>(queryRunner, sql.reclaimDoneInTransaction, [
        call.group,
        call.key,
        call.payloadHash,
        call.ttlMs,
      ]),
    );
    if (reclaimed[0] !== undefined) return { claimed: true, attempt: reclaimed[0].attempts };
    // A concurrent re-claim got there first: look again (now probably a plain duplicate).
  }
  throw busyError(store, call, `the key changed under ${CLAIM_ROUNDS} claims in a row`);
}

/** A statement of the claim: a lock timeout is "busy", anything else a store failure. */
async function claimQuery<R>(store: IdempotencyStore, call: ResolvedCall, run: () => Promise<R>): Promise<R> {
  try {
    return await run();
  } catch (err) {
    if (sqlStateOf(err) === LOCK_NOT_AVAILABLE) {
      throw busyError(store, call, 'a concurrent transaction held it past the lock timeout', { cause: err });
    }
    throw new IdempotencyStoreError(`claiming ${call.group}/${call.key} failed: ${describeError(err)}`, {
      cause: err,
    });
  }
}

/**
 * COMMIT. Postgres refusing it (a deferred constraint, …) is a clean rollback: its error is
 * rethrown as is, like the handler's. No answer at all means the outcome is unknown.
 */
async function commit(store: IdempotencyStore, queryRunner: QueryRunner, call: ResolvedCall): Promise<void> {
  try {
    if (!(await commitOnClient(store, queryRunner))) await queryRunner.commitTransaction();
  } catch (err) {
    store.metrics.record('failed', call.group);
    if (sqlStateOf(err) !== undefined) {
      await rollback(store, queryRunner, call);
      throw err;
    }
    throw new IdempotencyStoreError(
      `COMMIT of ${call.group}/${call.key} got no answer (${describeError(err)}); outcome unknown, not acknowledging`,
      { cause: err },
    );
  }
}

/** ROLLBACK, best effort: a broken connection rolls back by itself when Postgres notices. */
async function rollback(
  store: IdempotencyStore,
  queryRunner: QueryRunner,
  call: ResolvedCall,
): Promise<void> {
  if (!queryRunner.isTransactionActive) return;
  try {
    await queryRunner.rollbackTransaction();
  } catch (err) {
    store.logger.warn(`ROLLBACK of ${call.group}/${call.key} failed: ${describeError(err)}`);
  }
}

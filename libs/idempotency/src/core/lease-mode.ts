/**
 * Lease mode (RELIABILITY.md §(b), mode B), for handlers whose effects live outside this Postgres
 * (an HTTP call, another database): the key is claimed with a lease in its own autocommit
 * statement, the handler runs, the key is marked done.
 *
 * - claim: insert `processing` with `lease_until = now() + lease`, or take over an existing key
 *   only when it is `processing` and its lease expired (one conditional upsert: two claimants can
 *   never both win, and a live holder is never taken over);
 * - not claimed: `done` → duplicate (ack); `processing` with a live lease → busy (retry later);
 * - while the handler runs its lease is renewed (a long handler is not taken over);
 * - done: `UPDATE … WHERE lease_owner = me` (0 rows: the lease was lost to a takeover; the handler's
 *   effects may then happen twice, which is logged and counted as `lost_lease`);
 * - handler throws: `DELETE … WHERE lease_owner = me`, so the retry can claim at once.
 *
 * Fails closed: when Postgres cannot be reached the handler does not run.
 */
import { randomUUID } from 'node:crypto';
import { LEASE_RENEWALS_PER_LEASE } from '../constants.js';
import { type ResolvedCall } from './idempotent-call.js';
import { type IdempotentResult } from './idempotent-result.js';
import { runInIdempotencyScope, type IdempotencyScope } from './idempotency-scope.js';
import { type IdempotencyStore } from './idempotency-store.js';
import { describeError } from './pg-errors.js';
import { autocommit, storeCall } from './store-call.js';
import { busyError, CLAIM_ROUNDS, judgeDoneKey, type Claim } from './claim-verdict.js';

interface ExistingRow {
  readonly status: 'processing' | 'done';
  readonly payload_hash: Uint8Array | null;
  readonly lease_live: boolean | null;
}

export async function runWithLease<T>(
  store: IdempotencyStore,
  call: ResolvedCall,
  handler: (scope: IdempotencyScope) => T | Promise<T>,
): Promise<IdempotentResult<T>> {
  const owner = randomUUID();
  const claim = await claimLease(store, call, owner);
  if (!claim.claimed) return claim.result;
  if (claim.attempt > 1) {
    store.metrics.record('takeover', call.group);
    store.logger.warn(`took over the expired lease of ${call.group}/${call.key} (claim ${claim.attempt})`);
  }
  const scope: IdempotencyScope = {
    group: call.group,
    key: call.key,
    mode: 'lease',
    manager: undefined,
    attempt: claim.attempt,
    leaseOwner: owner,
  };
  const keeper = new LeaseKeeper(store, call, owner);
  let value: T;
  try {
    value = await runInIdempotencyScope(scope, () => handler(scope));
  } catch (err) {
    keeper.stop();
    store.metrics.record('failed', call.group);
    await release(store, call, owner);
    throw err;
  }
  keeper.stop();
  const completed = await storeCall(`marking ${call.group}/${call.key} done`, () =>
    autocommit(store, store.sql.completeLease, [call.group, call.key, owner, call.ttlMs]),
  );
  const leaseLost = completed.length === 0;
  if (leaseLost) {
    store.metrics.record('lost_lease', call.group);
    store.logger.error(
      `the lease of ${call.group}/${call.key} was taken over while its handler ran; its effects may have happened twice`,
    );
  }
  store.metrics.record('processed', call.group);
  return { status: 'processed', value, attempt: claim.attempt, leaseLost };
}

async function claimLease(store: IdempotencyStore, call: ResolvedCall, owner: string): Promise<Claim> {
  const { sql } = store;
  const what = `claiming the lease of ${call.group}/${call.key}`;
  const params = [call.group, call.key, call.payloadHash, owner, call.leaseMs, call.ttlMs];
  for (let round = 0; round < CLAIM_ROUNDS; round++) {
    const claimed = await storeCall(what, () =>
      autocommit<{ attempts: number }>(store, sql.claimLease, params),
    );
    if (claimed[0] !== undefined) return { claimed: true, attempt: claimed[0].attempts };

    const rows = await storeCall(what, () =>
      autocommit<ExistingRow>(store, sql.readExisting, [call.group, call.key]),
    );
    const existing = rows[0];
    if (existing === undefined) continue; // released since: claim again
    if (existing.status === 'processing') {
      if (existing.lease_live === false) continue; // expired since the claim looked: take it over
      throw busyError(store, call, 'another consumer holds a live lease');
    }
    const verdict = judgeDoneKey(store, call, existing.payload_hash);
    if (verdict !== 'process') return { claimed: false, result: verdict };
    const reclaimed = await storeCall(what, () =>
      autocommit<{ attempts: number }>(store, sql.reclaimDoneLease, params),
    );
    if (reclaimed[0] !== undefined) return { claimed: true, attempt: reclaimed[0].attempts };
  }
  throw busyError(store, call, `the key changed under ${CLAIM_ROUNDS} claims in a row`);
}

/** Frees our claim after a failed handler; if that fails too, the lease simply expires. */
async function release(store: IdempotencyStore, call: ResolvedCall, owner: string): Promise<void> {
  try {
    await autocommit(store, store.sql.releaseLease, [call.group, call.key, owner]);
  } catch (err) {
    store.logger.warn(
      `releasing the lease of ${call.group}/${call.key} failed (${describeError(err)}); the retry waits for it to expire`,
    );
  }
}

/** Renews the lease while the handler runs, `LEASE_RENEWALS_PER_LEASE` times per lease. */
class LeaseKeeper {
  readonly #timer: NodeJS.Timeout;
  #renewing = false;

  constructor(
    private readonly store: IdempotencyStore,
    private readonly call: ResolvedCall,
    private readonly owner: string,
  ) {
    this.#timer = setInterval(() => void this.#renew(), Math.floor(call.leaseMs / LEASE_RENEWALS_PER_LEASE));
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #renew(): Promise<void> {
    if (this.#renewing) return; // the previous renewal is still waiting on Postgres
    this.#renewing = true;
    const { store, call, owner } = this;
    try {
      const renewed = await autocommit(store, store.sql.renewLease, [
        call.group,
        call.key,
        owner,
        call.leaseMs,
      ]);
      if (renewed.length === 0) {
        store.logger.warn(`the lease of ${call.group}/${call.key} is no longer ours; stopping its renewal`);
        this.stop();
      }
    } catch (err) {
      store.logger.warn(`renewing the lease of ${call.group}/${call.key} failed: ${describeError(err)}`);
    } finally {
      this.#renewing = false;
    }
  }
}

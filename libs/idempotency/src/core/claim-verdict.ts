/**
 * What both modes decide the same way about a claim that did not simply insert the key: how many
 * times to try again, when the key counts as busy, and what a key already done means for this
 * delivery (duplicate, or another payload and the mismatch policy).
 */
import { IdempotencyBusyError, PayloadMismatchError } from '../errors.js';
import { hashesDiffer, type ResolvedCall } from './idempotent-call.js';
import { type IdempotentResult } from './idempotent-result.js';
import { type IdempotencyStore } from './idempotency-store.js';

/**
 * Claims tried, in either mode, when the key exists but is gone by the time it is read (deleted by
 * retention or released by a failing lease holder in between): each round sees newer data.
 */
export const CLAIM_ROUNDS = 3;

/** A claim's answer in either mode: the key is ours (with its attempt number), or the result to return. */
export type Claim =
  | { readonly claimed: true; readonly attempt: number }
  | { readonly claimed: false; readonly result: IdempotentResult<never> };

/** A key that cannot be claimed now, in either mode: counted as busy; the message is retried later. */
export function busyError(
  store: IdempotencyStore,
  call: ResolvedCall,
  why: string,
  options?: ErrorOptions,
): IdempotencyBusyError {
  store.metrics.record('busy', call.group);
  return new IdempotencyBusyError(call.group, call.key, why, options);
}

/**
 * Judges a key already done, for both modes: the same payload (hash) is a counted duplicate;
 * another payload is logged and counted as a mismatch and the policy applies: `'skip'` answers a
 * duplicate, `'fail'` throws, `'process'` tells the caller to re-claim.
 */
export function judgeDoneKey(
  store: IdempotencyStore,
  call: ResolvedCall,
  storedHash: Uint8Array | null | undefined,
): 'process' | IdempotentResult<never> {
  if (!hashesDiffer(storedHash, call.payloadHash)) {
    store.metrics.record('duplicate', call.group);
    return { status: 'duplicate', payloadMismatch: false };
  }
  store.metrics.record('payload_mismatch', call.group);
  store.logger.warn(
    `key ${call.group}/${call.key} came back with a different payload hash; policy '${call.onPayloadMismatch}'`,
  );
  if (call.onPayloadMismatch === 'fail') throw new PayloadMismatchError(call.group, call.key);
  if (call.onPayloadMismatch === 'skip') {
    store.metrics.record('duplicate', call.group);
    return { status: 'duplicate', payloadMismatch: true };
  }
  return 'process';
}

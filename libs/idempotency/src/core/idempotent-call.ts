/** One idempotent call: which key, how, and the checks of what the caller gave. */
import { MAX_KEY_LENGTH } from '../constants.js';
import { InvalidIdempotencyKeyError } from '../errors.js';
import { type IdempotencyMode } from './idempotency-scope.js';
import { type IdempotencyStore } from './idempotency-store.js';
import {
  checkDuration,
  checkMode,
  checkPolicy,
  STORE_DEFAULTS,
  type PayloadMismatchPolicy,
} from './idempotency-store-options.js';

export interface IdempotentCall {
  /** Consumer group: keys are per group, so two groups of one topic each handle every message once. */
  readonly group: string;
  /** `topic:messageId` (stable across redeliveries) or a business key; 1..255 characters. */
  readonly key: string;
  /** Hash of the payload (e.g. `payloadHashOf(body)`), to notice a key reused with another body. */
  readonly payloadHash?: Uint8Array | null;
  /** Default: the store's (`'transaction'`). */
  readonly mode?: IdempotencyMode;
  /** How long the done key is remembered, ms. Default: the store's (7 d). */
  readonly ttlMs?: number;
  /** Lease mode: lease duration, ms. Default: the store's (60 s). */
  readonly leaseMs?: number;
  /** Default: the store's (`'skip'`). */
  readonly onPayloadMismatch?: PayloadMismatchPolicy;
}

/** A call with every default applied. */
export interface ResolvedCall {
  readonly group: string;
  readonly key: string;
  readonly payloadHash: Buffer | null;
  readonly mode: IdempotencyMode;
  readonly ttlMs: number;
  readonly leaseMs: number;
  readonly lockTimeoutMs: number;
  readonly onPayloadMismatch: PayloadMismatchPolicy;
}

/** @throws InvalidIdempotencyKeyError for an empty or too long key or group; IdempotencyUsageError for bad options */
export function resolveCall(store: IdempotencyStore, call: IdempotentCall): ResolvedCall {
  checkKeyPart('group', call.group);
  checkKeyPart('key', call.key);
  const d = store.defaults;
  return {
    group: call.group,
    key: call.key,
    payloadHash:
      call.payloadHash === undefined || call.payloadHash === null ? null : Buffer.from(call.payloadHash),
    mode: checkMode(call.mode, d.mode),
    ttlMs: checkDuration('ttlMs', call.ttlMs, d.ttlMs),
    leaseMs: checkDuration('leaseMs', call.leaseMs, d.leaseMs, STORE_DEFAULTS.minLeaseMs),
    lockTimeoutMs: d.lockTimeoutMs,
    onPayloadMismatch: checkPolicy(call.onPayloadMismatch, d.onPayloadMismatch),
  };
}

function checkKeyPart(name: string, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidIdempotencyKeyError(
      `idempotency ${name} must be a non-empty string, got ${JSON.stringify(value)}`,
    );
  }
  if (value.length > MAX_KEY_LENGTH) {
    throw new InvalidIdempotencyKeyError(
      `idempotency ${name} is ${value.length} characters long; at most ${MAX_KEY_LENGTH} are kept (hash a longer business key)`,
    );
  }
}

/** Whether a stored hash and the call's differ (an unknown hash on either side never differs). */
export function hashesDiffer(stored: Uint8Array | null | undefined, given: Buffer | null): boolean {
  if (stored === null || stored === undefined || given === null) return false;
  return !given.equals(Buffer.from(stored));
}

import { DataSource } from 'typeorm';
import { IdempotencyUsageError, InvalidIdempotencyKeyError } from '../errors.js';
import { hashesDiffer, resolveCall } from './idempotent-call.js';
import { IdempotencyStore } from './idempotency-store.js';

// Never initialized: resolving a call touches no database.
const store = new IdempotencyStore(new DataSource({ type: 'postgres', url: 'postgres://nowhere/none' }), {
  ttlMs: 1_000,
  leaseMs: 2_000,
  onPayloadMismatch: 'fail',
});

describe('resolveCall', () => {
  it("applies the store's defaults, and the call's own values over them", () => {
    expect(resolveCall(store, { group: 'g', key: 'k' })).toMatchObject({
      mode: 'transaction',
      ttlMs: 1_000,
      leaseMs: 2_000,
      lockTimeoutMs: 5_000,
      onPayloadMismatch: 'fail',
      payloadHash: null,
    });
    expect(
      resolveCall(store, { group: 'g', key: 'k', mode: 'lease', ttlMs: 5, onPayloadMismatch: 'skip' }),
    ).toMatchObject({
      mode: 'lease',
      ttlMs: 5,
      onPayloadMismatch: 'skip',
    });
  });

  it('refuses bad keys (not retryable) and bad options', () => {
    expect(() => resolveCall(store, { group: 'g', key: 'x'.repeat(256) })).toThrow(
      InvalidIdempotencyKeyError,
    );
    expect(() => resolveCall(store, { group: 'g', key: 42 as unknown as string })).toThrow(
      InvalidIdempotencyKeyError,
    );
    expect(() => resolveCall(store, { group: 'g', key: 'k', leaseMs: 10 })).toThrow(IdempotencyUsageError);
    expect(() => resolveCall(store, { group: 'g', key: 'k', mode: 'x' as 'lease' })).toThrow(
      IdempotencyUsageError,
    );
    expect(() => resolveCall(store, { group: 'g', key: 'k', ttlMs: Number.NaN })).toThrow(
      IdempotencyUsageError,
    );
  });
});

describe('IdempotencyStore', () => {
  it('refuses another database type', () => {
    expect(
      () =>
        new IdempotencyStore(
          new DataSource({ type: 'cockroachdb', url: 'postgres://nowhere/none', timeTravelQueries: false }),
        ),
    ).toThrow(IdempotencyUsageError);
  });
});

describe('hashesDiffer', () => {
  it('never reports a difference when either side has no hash', () => {
    expect(hashesDiffer(null, Buffer.from([1]))).toBe(false);
    expect(hashesDiffer(new Uint8Array([1]), null)).toBe(false);
    expect(hashesDiffer(new Uint8Array([1]), Buffer.from([1]))).toBe(false);
    expect(hashesDiffer(new Uint8Array([1]), Buffer.from([2]))).toBe(true);
  });
});

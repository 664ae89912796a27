/** SHA-256 of a payload, to notice a key reused with a different body. */
import { hash } from 'node:crypto';

/**
 * Bytes and strings are hashed as they are; anything else as JSON with object keys sorted (so
 * that two equal objects hash equally whatever order their keys were built in). `undefined` has
 * no hash.
 */
export function payloadHashOf(payload: unknown): Buffer | null {
  if (payload === undefined) return null;
  // One-shot `crypto.hash` (Node ≥ 20.12): a third of `createHash().update().digest()`'s cost,
  // which is paid on every delivery. Strings are hashed as UTF-8.
  if (payload instanceof Uint8Array || typeof payload === 'string') return hash('sha256', payload, 'buffer');
  return hash('sha256', canonicalJson(payload), 'buffer');
}

function canonicalJson(value: unknown): string {
  return (
    JSON.stringify(value, (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
      return Object.fromEntries(
        Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
      );
    }) ?? 'undefined'
  );
}

import { FNV_PRIME, fnvUpdate } from './index-hash.js';

/**
 * UTF-8 length and write for the short strings of a record (ids, tags, keys, property names).
 * Buffer.byteLength / buf.write cross into C++ for each call (~60–100 ns); for the ASCII strings
 * that make up nearly every header, a JS loop is several times cheaper. Anything non-ASCII or long
 * takes the native path, so the result is always exactly Buffer's UTF-8.
 */
const SHORT = 64;

export function utf8Length(s: string): number {
  const n = s.length;
  if (n > SHORT) return Buffer.byteLength(s);
  for (let i = 0; i < n; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s);
  return n;
}

/** Writes `s` at `pos`; returns the bytes written. The caller reserved `utf8Length(s)` bytes. */
export function writeUtf8(buf: Buffer, s: string, pos: number): number {
  const n = s.length;
  if (n > SHORT) return buf.write(s, pos);
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c > 0x7f) return buf.write(s, pos);
    buf[pos + i] = c;
  }
  return n;
}

/**
 * `writeUtf8` that also folds the string's UTF-16 code units into an FNV-1a hash (index-hash.ts):
 * the record encoder hashes a message's id and keys for the index while it copies them, instead
 * of the dispatcher reading every string a second time. `hash` holds the result of the last write.
 */
export class HashingUtf8Writer {
  hash = 0;

  /** Writes `s` at `pos` (as `writeUtf8`) and sets `hash` to `fnvUpdate(seed, s)`; returns the bytes written. */
  write(buf: Buffer, s: string, pos: number, seed: number): number {
    const n = s.length;
    if (n <= SHORT) {
      let h = seed;
      for (let i = 0; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) return this.writeSlow(buf, s, pos, seed);
        buf[pos + i] = c;
        h = Math.imul(h ^ c, FNV_PRIME);
      }
      this.hash = h;
      return n;
    }
    return this.writeSlow(buf, s, pos, seed);
  }

  private writeSlow(buf: Buffer, s: string, pos: number, seed: number): number {
    this.hash = fnvUpdate(seed, s);
    return buf.write(s, pos);
  }
}

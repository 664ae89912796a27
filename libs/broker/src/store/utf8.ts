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

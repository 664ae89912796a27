/**
 * 64-bit fields as JS numbers. Offsets and timestamps stay far below 2^53, so a number is exact and
 * avoids BigInt's allocation on the hot path; values are written as two 32-bit big-endian halves.
 */
const TWO_32 = 0x1_0000_0000;

export function writeUInt64(buf: Buffer, value: number, pos: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeUInt32BE(hi >>> 0, pos);
  buf.writeUInt32BE(value >>> 0, pos + 4);
}

export function readUInt64(buf: Buffer, pos: number): number {
  return buf.readUInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

/** Signed variant, for tag hashes (Java sign-extends the 32-bit hash to a long). */
export function writeInt64(buf: Buffer, value: number, pos: number): void {
  const hi = Math.floor(value / TWO_32);
  buf.writeInt32BE(hi | 0, pos);
  buf.writeUInt32BE(value >>> 0, pos + 4);
}

export function readInt64(buf: Buffer, pos: number): number {
  return buf.readInt32BE(pos) * TWO_32 + buf.readUInt32BE(pos + 4);
}

/** DataView variant of writeUInt64 for encoders (see RecordBuffer). */
export function setUint64(view: DataView, pos: number, value: number): void {
  view.setUint32(pos, Math.floor(value / TWO_32));
  view.setUint32(pos + 4, value >>> 0);
}

/** DataView variant of writeInt64. */
export function setInt64(view: DataView, pos: number, value: number): void {
  view.setInt32(pos, Math.floor(value / TWO_32));
  view.setUint32(pos + 4, value >>> 0);
}

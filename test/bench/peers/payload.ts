/**
 * The bench's message bodies: `size` bytes carrying the message's index and the time it was (or
 * was scheduled to be) sent, so that a consumer can check every message arrived whole and measure
 * end-to-end latency on the same clock (producer and consumer share the child process).
 */

/** index (u32) + send time (f64, ms on `nowMs`'s clock). */
export const PAYLOAD_HEADER_BYTES = 12;
const FILL = 0x61;

export function encodePayload(index: number, sentAtMs: number, size: number): Buffer {
  const body = Buffer.alloc(size, FILL);
  body.writeUInt32BE(index, 0);
  body.writeDoubleBE(sentAtMs, 4);
  return body;
}

export interface DecodedPayload {
  readonly index: number;
  readonly sentAtMs: number;
}

/** The header of a body, or undefined when the body is not one of ours of `size` bytes. */
export function decodePayload(body: Uint8Array, size: number): DecodedPayload | undefined {
  if (body.byteLength !== size || size < PAYLOAD_HEADER_BYTES) return undefined;
  const view = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  // The tail must be the fill: a body cut, padded or mixed with another's is not accepted.
  if (view[size - 1] !== FILL) return undefined;
  return { index: view.readUInt32BE(0), sentAtMs: view.readDoubleBE(4) };
}

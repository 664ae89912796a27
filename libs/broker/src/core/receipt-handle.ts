/**
 * Receipt handles for pop-style receive: the token a consumer gets with each delivery and hands back
 * to ack, nack (ChangeInvisibleDuration) or forward to the DLQ.
 *
 * A handle carries everything the broker needs to find the message and its lease without a lookup
 * table keyed by strings, and it is unforgeable and tamper-evident: a fixed binary layout,
 * authenticated with HMAC-SHA256 (truncated to 16 bytes) under a per-broker secret, as base64url
 * (printable ASCII, as the client requires; PROTOCOL.md §3).
 *
 * Layout, version 1, big-endian:
 * ```
 *  0 version u8        1 epoch u32          5 queueId u16        7 queueOffset u64
 * 15 physicalOffset u64                    23 groupHash u32     27 deliveryAttempt u32
 * 31 leaseId u64      39 invisibleUntil u64 47 topicLength u8   48 topic (UTF-8)
 * 48+n MAC (16 bytes) = HMAC-SHA256(key, bytes 0 .. 48+n)[0..16]
 * ```
 * 64 + n bytes; a 255-byte topic gives 319 bytes = 426 characters, under the 512 accepted.
 *
 * The MAC proves the broker issued the handle; it does not prove the lease is still current. The
 * caller compares `leaseId`, `deliveryAttempt` and `invisibleUntil` with its lease table to tell a
 * stale or already-acked handle (INVALID_RECEIPT_HANDLE) from a live one. Lease ids must be unique
 * per delivery within one broker epoch; a per-broker counter is enough, since nobody can forge one.
 *
 * Issued handles are remembered (text → fields) until they come back once, up to
 * `ISSUED_MEMO_ENTRIES`, oldest forgotten first: the ack of a handle this codec issued then skips
 * parsing and the HMAC (an HMAC is about 5 µs, a map lookup well under one). A handle that is not
 * remembered (presented a second time, too old, from before a restart) is decoded and checked in
 * full, so every answer is the same as without the memo: the text is exactly the one issued with
 * those fields, and its MAC would hold.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { InvalidReceiptHandleError } from './errors.js';

/** The fields a handle carries (the version and broker epoch are added by the codec). */
export interface ReceiptHandleData {
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: number;
  /** Commit-log offset of the message: read it back without consulting the consume queue. */
  readonly physicalOffset: number;
  /** `groupHash(group)`: the ack's group must hash to it. */
  readonly groupHash: number;
  /** 1 on first delivery. */
  readonly deliveryAttempt: number;
  readonly leaseId: number;
  /** Epoch ms at which the lease ran out when this handle was issued. */
  readonly invisibleUntil: number;
}

export const RECEIPT_HANDLE_VERSION = 1;
/** Longest text `decode` looks at. */
export const RECEIPT_HANDLE_MAX_CHARS = 512;
/** Bytes of the truncated HMAC-SHA256. */
export const RECEIPT_HANDLE_MAC_BYTES = 16;
/** Shortest secret the codec accepts. */
export const RECEIPT_HANDLE_MIN_SECRET_BYTES = 16;

const Offset = {
  VERSION: 0,
  EPOCH: 1,
  QUEUE_ID: 5,
  QUEUE_OFFSET: 7,
  PHYSICAL_OFFSET: 15,
  GROUP_HASH: 23,
  DELIVERY_ATTEMPT: 27,
  LEASE_ID: 31,
  INVISIBLE_UNTIL: 39,
  TOPIC_LENGTH: 47,
  TOPIC: 48,
} as const;
const FIXED_BYTES = Offset.TOPIC + RECEIPT_HANDLE_MAC_BYTES;
const MAX_TOPIC_BYTES = 255;
const BASE64URL = /^[A-Za-z0-9_-]+$/;
const KEY_LABEL = 'rocketnest/receipt-handle/v1';
const TWO_32 = 0x1_0000_0000;
/** Issued handles remembered for a fast decode (about 250 bytes each: some 4 MB at most). */
export const ISSUED_MEMO_ENTRIES = 16_384;

/**
 * A consumer group's 32-bit hash as a handle stores it: the first four bytes of SHA-256 of its
 * UTF-8 name. It only has to tell groups apart; the MAC already rules out forgery.
 */
export function groupHash(group: string): number {
  return createHash('sha256').update(group, 'utf8').digest().readUInt32BE(0);
}

export class ReceiptHandleCodec {
  readonly #key: Buffer;
  /** Issued and not yet presented (see the file comment); insertion order = age. */
  readonly #issued = new Map<string, ReceiptHandleData>();

  /**
   * @param secret per-broker secret, at least 16 bytes (32 random bytes: `generateSecret()`). Keep it
   *   across restarts only if leases survive restarts too; otherwise a new one is as good as a new epoch.
   * @param epoch this broker run (u32). Handles of another epoch are rejected: their leases are gone.
   */
  constructor(
    secret: Buffer,
    readonly epoch = 0,
  ) {
    if (!Buffer.isBuffer(secret) || secret.length < RECEIPT_HANDLE_MIN_SECRET_BYTES) {
      throw new RangeError(`receipt handle secret must be at least ${RECEIPT_HANDLE_MIN_SECRET_BYTES} bytes`);
    }
    checkInteger('epoch', epoch, 0, TWO_32 - 1);
    // A key of its own, so the same secret may safely serve other purposes.
    this.#key = createHmac('sha256', secret).update(KEY_LABEL).digest();
  }

  static generateSecret(): Buffer {
    return randomBytes(32);
  }

  /** @throws RangeError when a field is out of range: a broker bug, never a client's fault. */
  encode(h: ReceiptHandleData): string {
    if (typeof h.topic !== 'string') throw new RangeError('receipt handle topic must be a string');
    const topicBytes = Buffer.byteLength(h.topic, 'utf8');
    if (topicBytes < 1 || topicBytes > MAX_TOPIC_BYTES) {
      throw new RangeError(
        `receipt handle topic must be 1..${MAX_TOPIC_BYTES} UTF-8 bytes, got ${topicBytes}`,
      );
    }
    checkInteger('queueId', h.queueId, 0, 0xffff);
    checkInteger('queueOffset', h.queueOffset, 0, Number.MAX_SAFE_INTEGER);
    checkInteger('physicalOffset', h.physicalOffset, 0, Number.MAX_SAFE_INTEGER);
    checkInteger('groupHash', h.groupHash, 0, TWO_32 - 1);
    checkInteger('deliveryAttempt', h.deliveryAttempt, 1, TWO_32 - 1);
    checkInteger('leaseId', h.leaseId, 0, Number.MAX_SAFE_INTEGER);
    checkInteger('invisibleUntil', h.invisibleUntil, 0, Number.MAX_SAFE_INTEGER);

    const buf = Buffer.allocUnsafe(FIXED_BYTES + topicBytes);
    buf.writeUInt8(RECEIPT_HANDLE_VERSION, Offset.VERSION);
    buf.writeUInt32BE(this.epoch, Offset.EPOCH);
    buf.writeUInt16BE(h.queueId, Offset.QUEUE_ID);
    writeUint53(buf, h.queueOffset, Offset.QUEUE_OFFSET);
    writeUint53(buf, h.physicalOffset, Offset.PHYSICAL_OFFSET);
    buf.writeUInt32BE(h.groupHash, Offset.GROUP_HASH);
    buf.writeUInt32BE(h.deliveryAttempt, Offset.DELIVERY_ATTEMPT);
    writeUint53(buf, h.leaseId, Offset.LEASE_ID);
    writeUint53(buf, h.invisibleUntil, Offset.INVISIBLE_UNTIL);
    buf.writeUInt8(topicBytes, Offset.TOPIC_LENGTH);
    buf.write(h.topic, Offset.TOPIC, 'utf8');
    const macAt = Offset.TOPIC + topicBytes;
    this.#mac(buf.subarray(0, macAt)).copy(buf, macAt);
    const text = buf.toString('base64url');
    this.#remember(text, h);
    return text;
  }

  #remember(text: string, h: ReceiptHandleData): void {
    if (this.#issued.size >= ISSUED_MEMO_ENTRIES) {
      const oldest = this.#issued.keys().next();
      if (!oldest.done) this.#issued.delete(oldest.value);
    }
    this.#issued.set(text, {
      topic: h.topic,
      queueId: h.queueId,
      queueOffset: h.queueOffset,
      physicalOffset: h.physicalOffset,
      groupHash: h.groupHash,
      deliveryAttempt: h.deliveryAttempt,
      leaseId: h.leaseId,
      invisibleUntil: h.invisibleUntil,
    });
  }

  /**
   * @throws InvalidReceiptHandleError for anything but a handle this codec issued: not a string, too
   *   long, not canonical base64url, wrong length, bad MAC, unknown version, another broker epoch.
   */
  decode(text: string): ReceiptHandleData {
    if (typeof text !== 'string') throw new InvalidReceiptHandleError('not a string');
    const issued = this.#issued.get(text);
    if (issued !== undefined) {
      this.#issued.delete(text);
      return issued;
    }
    if (text.length === 0) throw new InvalidReceiptHandleError('empty');
    if (text.length > RECEIPT_HANDLE_MAX_CHARS) {
      throw new InvalidReceiptHandleError(`${text.length} characters, at most ${RECEIPT_HANDLE_MAX_CHARS}`);
    }
    if (!BASE64URL.test(text)) throw new InvalidReceiptHandleError('not base64url');
    const buf = Buffer.from(text, 'base64url');
    // Base64 leaves spare bits in the last character: only the canonical spelling is accepted, so
    // that every character of a handle counts.
    if (buf.toString('base64url') !== text) throw new InvalidReceiptHandleError('not canonical base64url');
    if (buf.length < FIXED_BYTES + 1) throw new InvalidReceiptHandleError(`${buf.length} bytes, too short`);

    const macAt = buf.length - RECEIPT_HANDLE_MAC_BYTES;
    if (!timingSafeEqual(this.#mac(buf.subarray(0, macAt)), buf.subarray(macAt))) {
      throw new InvalidReceiptHandleError('authentication failed');
    }
    const version = buf.readUInt8(Offset.VERSION);
    if (version !== RECEIPT_HANDLE_VERSION) throw new InvalidReceiptHandleError(`unknown version ${version}`);
    const topicBytes = buf.readUInt8(Offset.TOPIC_LENGTH);
    if (topicBytes === 0 || Offset.TOPIC + topicBytes !== macAt) {
      throw new InvalidReceiptHandleError('inconsistent length');
    }
    const epoch = buf.readUInt32BE(Offset.EPOCH);
    if (epoch !== this.epoch) throw new InvalidReceiptHandleError(`issued by broker epoch ${epoch}`);
    const deliveryAttempt = buf.readUInt32BE(Offset.DELIVERY_ATTEMPT);
    if (deliveryAttempt === 0) throw new InvalidReceiptHandleError('delivery attempt 0');
    return {
      topic: buf.toString('utf8', Offset.TOPIC, macAt),
      queueId: buf.readUInt16BE(Offset.QUEUE_ID),
      queueOffset: readUint53(buf, Offset.QUEUE_OFFSET),
      physicalOffset: readUint53(buf, Offset.PHYSICAL_OFFSET),
      groupHash: buf.readUInt32BE(Offset.GROUP_HASH),
      deliveryAttempt,
      leaseId: readUint53(buf, Offset.LEASE_ID),
      invisibleUntil: readUint53(buf, Offset.INVISIBLE_UNTIL),
    };
  }

  #mac(data: Buffer): Buffer {
    return createHmac('sha256', this.#key).update(data).digest().subarray(0, RECEIPT_HANDLE_MAC_BYTES);
  }
}

function checkInteger(name: string, value: number, min: number, max: number): void {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `receipt handle ${name} must be an integer in [${min}, ${max}], got ${String(value)}`,
    );
  }
}

function writeUint53(buf: Buffer, value: number, at: number): void {
  buf.writeUInt32BE(Math.floor(value / TWO_32), at);
  buf.writeUInt32BE(value % TWO_32, at + 4);
}

function readUint53(buf: Buffer, at: number): number {
  const high = buf.readUInt32BE(at);
  // Only a handle we issued gets here (the MAC held), so this is a guard against our own bugs.
  if (high > 0x1f_ffff) throw new InvalidReceiptHandleError('a 64-bit field exceeds 2^53 - 1');
  return high * TWO_32 + buf.readUInt32BE(at + 4);
}

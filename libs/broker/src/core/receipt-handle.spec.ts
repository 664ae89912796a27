import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { StatusCode } from '../status-code.js';
import { InvalidReceiptHandleError } from './errors.js';
import {
  ISSUED_MEMO_ENTRIES,
  RECEIPT_HANDLE_MAC_BYTES,
  RECEIPT_HANDLE_MAX_CHARS,
  ReceiptHandleCodec,
  groupHash,
  type ReceiptHandleData,
} from './receipt-handle.js';

const SECRET = Buffer.alloc(32, 7);

const sample: ReceiptHandleData = {
  topic: 'orders',
  queueId: 3,
  queueOffset: 12_345,
  physicalOffset: 9_876_543_210,
  groupHash: groupHash('GID_orders'),
  deliveryAttempt: 1,
  leaseId: 42,
  invisibleUntil: 1_700_000_060_000,
};

function expectInvalid(fn: () => unknown, fragment?: string): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(InvalidReceiptHandleError);
  expect((thrown as InvalidReceiptHandleError).code).toBe(StatusCode.INVALID_RECEIPT_HANDLE);
  if (fragment !== undefined) expect((thrown as Error).message).toContain(fragment);
}

/** Signs arbitrary bytes the way the codec does, to build well-authenticated odd handles. */
function sign(body: Buffer, secret = SECRET): string {
  const key = createHmac('sha256', secret).update('rocketnest/receipt-handle/v1').digest();
  const mac = createHmac('sha256', key).update(body).digest().subarray(0, RECEIPT_HANDLE_MAC_BYTES);
  return Buffer.concat([body, mac]).toString('base64url');
}

const validData: fc.Arbitrary<ReceiptHandleData> = fc.record({
  topic: fc.oneof(
    fc.stringMatching(/^[%|a-zA-Z0-9_-]{1,255}$/),
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }),
  ),
  queueId: fc.integer({ min: 0, max: 0xffff }),
  queueOffset: fc.maxSafeNat(),
  physicalOffset: fc.maxSafeNat(),
  groupHash: fc.integer({ min: 0, max: 0xffff_ffff }),
  deliveryAttempt: fc.integer({ min: 1, max: 0xffff_ffff }),
  leaseId: fc.maxSafeNat(),
  invisibleUntil: fc.maxSafeNat(),
});

describe('ReceiptHandleCodec', () => {
  const codec = new ReceiptHandleCodec(SECRET, 5);

  it('round-trips a handle as compact printable ASCII', () => {
    const text = codec.encode(sample);
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(text.length).toBeLessThan(100);
    expect(codec.decode(text)).toEqual(sample);
  });

  it('round-trips any valid data (property)', () => {
    fc.assert(
      fc.property(validData, fc.integer({ min: 0, max: 0xffff_ffff }), (data, epoch) => {
        if (Buffer.byteLength(data.topic) > 255) return;
        const c = new ReceiptHandleCodec(SECRET, epoch);
        const text = c.encode(data);
        expect(text.length).toBeLessThanOrEqual(RECEIPT_HANDLE_MAX_CHARS);
        expect(c.decode(text)).toEqual(data);
      }),
      { numRuns: 500 },
    );
  });

  it('authenticates with standard HMAC-SHA256 under the derived key (property)', () => {
    const codec = new ReceiptHandleCodec(SECRET);
    fc.assert(
      fc.property(validData, (data) => {
        const bytes = Buffer.from(codec.encode(data), 'base64url');
        expect(sign(bytes.subarray(0, bytes.length - RECEIPT_HANDLE_MAC_BYTES))).toBe(
          bytes.toString('base64url'),
        );
      }),
    );
  });

  it('fits the longest topic under the length bound', () => {
    const text = codec.encode({ ...sample, topic: '%RETRY%' + 'g'.repeat(248) });
    expect(text.length).toBeLessThanOrEqual(RECEIPT_HANDLE_MAX_CHARS);
  });

  it('rejects random strings with InvalidReceiptHandleError and nothing else (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 600 }),
          fc.string({ unit: 'binary', maxLength: 100 }),
          fc.stringMatching(/^[A-Za-z0-9_-]{0,600}$/),
          fc.uint8Array({ minLength: 0, maxLength: 400 }).map((b) => Buffer.from(b).toString('base64url')),
        ),
        (text) => {
          expectInvalid(() => codec.decode(text));
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('rejects every single-character change of a valid handle', () => {
    const text = codec.encode(sample);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    for (let i = 0; i < text.length; i++) {
      for (const c of alphabet) {
        if (c === text[i]) continue;
        expectInvalid(() => codec.decode(text.slice(0, i) + c + text.slice(i + 1)));
      }
    }
  });

  it('rejects truncated and extended handles', () => {
    const text = codec.encode(sample);
    for (let n = 0; n < text.length; n++) expectInvalid(() => codec.decode(text.slice(0, n)));
    expectInvalid(() => codec.decode(text + 'A'));
    expectInvalid(() => codec.decode(text + 'AAAA'));
    expectInvalid(() => codec.decode(text + '='));
  });

  it('rejects handles of another secret or another epoch', () => {
    const text = codec.encode(sample);
    expectInvalid(() => new ReceiptHandleCodec(Buffer.alloc(32, 8), 5).decode(text), 'authentication failed');
    expectInvalid(() => new ReceiptHandleCodec(SECRET, 6).decode(text), 'epoch 5');
  });

  it('rejects an authenticated handle of an unknown version', () => {
    const body = Buffer.from(codec.encode(sample), 'base64url').subarray(0, -RECEIPT_HANDLE_MAC_BYTES);
    const other = Buffer.from(body);
    other[0] = 2;
    expectInvalid(() => codec.decode(sign(other)), 'unknown version 2');
    expect(codec.decode(sign(Buffer.from(body)))).toEqual(sample);
  });

  it('rejects authenticated but inconsistent handles', () => {
    const body = Buffer.from(codec.encode(sample), 'base64url').subarray(0, -RECEIPT_HANDLE_MAC_BYTES);
    const badLength = Buffer.from(body);
    badLength[47] = badLength[47]! + 1;
    expectInvalid(() => codec.decode(sign(badLength)), 'inconsistent length');
    const hugeOffset = Buffer.from(body);
    hugeOffset.writeUInt32BE(0xffff_ffff, 7);
    expectInvalid(() => codec.decode(sign(hugeOffset)), '2^53');
    const attemptZero = Buffer.from(body);
    attemptZero.writeUInt32BE(0, 27);
    expectInvalid(() => codec.decode(sign(attemptZero)), 'delivery attempt 0');
  });

  it('bounds the input before decoding it', () => {
    expectInvalid(() => codec.decode('A'.repeat(RECEIPT_HANDLE_MAX_CHARS + 1)), '513 characters');
    expectInvalid(() => codec.decode('x'.repeat(10_000_000)), 'at most 512');
    expectInvalid(() => codec.decode(''), 'empty');
    expectInvalid(() => codec.decode(undefined as unknown as string), 'not a string');
    expectInvalid(() => codec.decode('abc def'), 'not base64url');
    expectInvalid(() => codec.decode('abc+/'), 'not base64url');
  });

  it('refuses to encode out-of-range fields', () => {
    const bad: Array<Partial<ReceiptHandleData>> = [
      { topic: '' },
      { topic: 'x'.repeat(256) },
      { queueId: -1 },
      { queueId: 0x10000 },
      { queueOffset: 1.5 },
      { physicalOffset: Number.MAX_SAFE_INTEGER + 1 },
      { groupHash: 0x1_0000_0000 },
      { deliveryAttempt: 0 },
      { leaseId: -1 },
      { invisibleUntil: NaN },
    ];
    for (const patch of bad) expect(() => codec.encode({ ...sample, ...patch })).toThrow(RangeError);
  });

  it('refuses a short secret or a bad epoch', () => {
    expect(() => new ReceiptHandleCodec(Buffer.alloc(15))).toThrow(RangeError);
    expect(() => new ReceiptHandleCodec(SECRET, -1)).toThrow(RangeError);
    expect(() => new ReceiptHandleCodec(SECRET, 2 ** 32)).toThrow(RangeError);
    expect(ReceiptHandleCodec.generateSecret()).toHaveLength(32);
  });

  it('issues different handles for different leases', () => {
    const a = codec.encode(sample);
    const b = codec.encode({ ...sample, leaseId: 43 });
    const c = codec.encode({ ...sample, deliveryAttempt: 2 });
    expect(new Set([a, b, c]).size).toBe(3);
  });

  it('answers an issued handle from memory with exactly what a full decode gives, once', () => {
    const issuer = new ReceiptHandleCodec(SECRET, 5);
    const verifier = new ReceiptHandleCodec(SECRET, 5); // never issued it: decodes in full
    const text = issuer.encode(sample);
    expect(issuer.decode(text)).toEqual(verifier.decode(text));
    // A second presentation is decoded and checked in full, with the same answer.
    expect(issuer.decode(text)).toEqual(sample);
    const tampered = `${text.slice(0, 10)}${text[10] === 'A' ? 'B' : 'A'}${text.slice(11)}`;
    expectInvalid(() => issuer.decode(tampered));
  });

  it('keeps at most ISSUED_MEMO_ENTRIES issued handles; older ones still decode in full', () => {
    const codec = new ReceiptHandleCodec(SECRET);
    const first = codec.encode(sample);
    for (let i = 1; i <= ISSUED_MEMO_ENTRIES; i++) codec.encode({ ...sample, leaseId: 100 + i });
    expect(codec.decode(first)).toEqual(sample);
  });

  it('hashes groups to stable 32-bit values', () => {
    expect(groupHash('GID_orders')).toBe(groupHash('GID_orders'));
    expect(groupHash('GID_orders')).not.toBe(groupHash('GID_orders2'));
    expect(Number.isInteger(groupHash('x'))).toBe(true);
    expect(groupHash('x')).toBeGreaterThanOrEqual(0);
    expect(groupHash('x')).toBeLessThan(2 ** 32);
  });
});

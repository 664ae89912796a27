import { crc32 } from 'node:zlib';
import { StatusCode } from '../status-code.js';
import {
  checkRecord,
  decodeRecord,
  encodeRecord,
  encodeHost,
  Field,
  measureRecord,
  MIN_RECORD_SIZE,
  SysFlag,
  writeBlank,
  recordBuffer,
  recordSizeBound,
  type MessageToStore,
} from './message-record.js';
import { hashIndexKey, hashTopicKey } from './index-hash.js';
import { forEachIndexHash } from './index-service.js';
import { MAX_BODY_SIZE, MAX_PROPERTIES_COUNT, MAX_PROPERTIES_SIZE } from './limits.js';
import { tagHash } from './tag-hash.js';

const storeHost = encodeHost('10.0.0.7:8081');

const placement = (physicalOffset: number, queueOffset: number) => ({
  physicalOffset,
  queueOffset,
  storeTimestamp: 1_700_000_000_123,
  storeHost,
});

/** Encodes with encodeRecord (which validates as it writes) into a buffer of the bound's size. */
function encode(message: MessageToStore, physicalOffset = 4096, queueOffset = 7): Buffer {
  const buf = Buffer.alloc(recordSizeBound(message, storeHost.length));
  const size = encodeRecord(recordBuffer(buf), 0, message, placement(physicalOffset, queueOffset));
  expect(size).toBe(measureRecord(message, storeHost.length).totalSize);
  return Buffer.from(buf.subarray(0, size));
}

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('did not throw');
}

/** measureRecord and encodeRecord reject the message alike: same error class, code and message. */
function expectRejected(message: MessageToStore, code: number): void {
  const measured = thrownBy(() => measureRecord(message, storeHost.length));
  const encoded = thrownBy(() => encode(message));
  expect(measured).toEqual(expect.objectContaining({ code }));
  expect(encoded).toBeInstanceOf((measured as object).constructor);
  expect((encoded as Error).message).toBe((measured as Error).message);
}

function expectedFor(message: MessageToStore): number[] {
  const hashes: number[] = [];
  forEachIndexHash({ ...message, keys: message.keys ?? [] }, (h) => hashes.push(h));
  return hashes;
}

function expectAccepted(message: MessageToStore): void {
  expect(() => encode(message)).not.toThrow();
}

const full: MessageToStore = {
  topic: 'order-created',
  queueId: 3,
  body: Buffer.from('{"orderId":42,"amount":"9.99"}'),
  messageId: '01AABBCCDDEEFF000100000001',
  tag: 'paid',
  keys: ['order-42', 'user 7'],
  userProperties: { region: 'eu', 'trace-id': 'abc', emoji: '🚀' },
  systemProperties: { __SHARDINGKEY: 'order-42', TIMER_DELIVER_MS: '1700000001000' },
  flag: 5,
  sysFlag: SysFlag.TRANSACTION_PREPARED,
  bornTimestamp: 1_700_000_000_000,
  bornHost: '192.168.1.20:53412',
  reconsumeTimes: 2,
  preparedTransactionOffset: 2 ** 40 + 17,
};

describe('commit-log record codec', () => {
  it('round-trips every field, including properties, keys and 64-bit offsets', () => {
    const buf = encode(full, 2 ** 41 + 8, 2 ** 33 + 1);
    expect(checkRecord(buf, 0, buf.length, 2 ** 41 + 8)).toEqual({ kind: 'message', size: buf.length });
    const m = decodeRecord(buf, 0);
    expect(m).toMatchObject({
      topic: 'order-created',
      queueId: 3,
      queueOffset: 2 ** 33 + 1,
      physicalOffset: 2 ** 41 + 8,
      size: buf.length,
      messageId: full.messageId,
      tag: 'paid',
      keys: ['order-42', 'user 7'],
      userProperties: full.userProperties,
      systemProperties: full.systemProperties,
      flag: 5,
      sysFlag: SysFlag.TRANSACTION_PREPARED,
      bornTimestamp: 1_700_000_000_000,
      bornHost: '192.168.1.20:53412',
      storeTimestamp: 1_700_000_000_123,
      storeHost: '10.0.0.7:8081',
      reconsumeTimes: 2,
      preparedTransactionOffset: 2 ** 40 + 17,
    });
    expect(m.body.equals(full.body)).toBe(true);
    expect(m.bodyCrc).toBe(crc32(full.body));
  });

  it('hands out the index hashes of id and keys exactly as forEachIndexHash computes them', () => {
    const long = 'k'.repeat(100);
    for (const message of [
      full,
      { ...full, keys: ['a', 'b', 'a', 'c', 'b'] },
      { ...full, topic: 'Ω-topic', messageId: 'id-é', keys: ['ключ', long, `${long}é`] },
      { ...full, messageId: '', keys: undefined },
      { ...full, messageId: 'x'.repeat(65), tag: undefined, keys: [] },
    ]) {
      const expected = expectedFor(message);
      const hashes = new Array<number>(1 + (message.keys?.length ?? 0));
      const buf = Buffer.alloc(recordSizeBound(message, storeHost.length));
      encodeRecord(recordBuffer(buf), 0, message, placement(0, 0), hashes);
      expect(hashes).toEqual(expected);
    }
    expect(expectedFor(full)).toEqual([
      hashIndexKey(full.messageId),
      ...full.keys!.map((k) => hashTopicKey(full.topic, k)),
    ]);
  });

  it('bounds the encoded size from string lengths, multi-byte UTF-8 included', () => {
    for (const message of [
      full,
      { ...full, topic: 'Ω', messageId: '🚀'.repeat(40), keys: ['ключ', '鍵'], tag: 'ü' },
      { ...full, userProperties: { ['\u{1F600}'.repeat(3)]: 'é'.repeat(500) } },
      { topic: 't', queueId: 0, body: Buffer.alloc(0), messageId: '' },
    ]) {
      expect(encode(message).length).toBeLessThanOrEqual(recordSizeBound(message, storeHost.length));
    }
  });

  it('keeps IPv6 born hosts with the RocketMQ sysflag bit', () => {
    const buf = encode({ ...full, bornHost: '[fe80::1:2]:9000' });
    const m = decodeRecord(buf, 0);
    expect(m.sysFlag & SysFlag.BORN_HOST_V6).toBeTruthy();
    expect(m.bornHost).toBe('[fe80:0:0:0:0:0:1:2]:9000');
    expect(checkRecord(buf, 0, buf.length, 4096).kind).toBe('message');
  });

  it('stores a minimal message: no tag, no keys, empty body', () => {
    const buf = encode({ topic: 't', queueId: 0, body: Buffer.alloc(0), messageId: 'id' });
    const m = decodeRecord(buf, 0);
    expect(m.tag).toBeUndefined();
    expect(m.keys).toEqual([]);
    expect(m.body.length).toBe(0);
    expect(buf.length).toBe(MIN_RECORD_SIZE + 1 + 4 + 4 + 'UNIQ_KEY'.length + 2);
  });

  it('accepts a 4 MiB body and rejects one byte more with MESSAGE_BODY_TOO_LARGE', () => {
    expectAccepted({ ...full, body: Buffer.alloc(MAX_BODY_SIZE) });
    expectRejected({ ...full, body: Buffer.alloc(MAX_BODY_SIZE + 1) }, StatusCode.MESSAGE_BODY_TOO_LARGE);
  });

  it('rejects user properties over 16 KiB or over 128 entries with MESSAGE_PROPERTIES_TOO_LARGE', () => {
    const big = { k: 'v'.repeat(MAX_PROPERTIES_SIZE) };
    expectRejected({ ...full, userProperties: big }, StatusCode.MESSAGE_PROPERTIES_TOO_LARGE);
    const many = Object.fromEntries(
      Array.from({ length: MAX_PROPERTIES_COUNT + 1 }, (_, i) => [`k${i}`, 'v']),
    );
    expectRejected({ ...full, userProperties: many }, StatusCode.MESSAGE_PROPERTIES_TOO_LARGE);
    const exactly = Object.fromEntries(
      Array.from({ length: MAX_PROPERTIES_COUNT }, (_, i) => [`k${i}`, 'v']),
    );
    expectAccepted({ ...full, userProperties: exactly });
  });

  it('rejects a properties section over 64 KiB (system properties) with MESSAGE_PROPERTIES_TOO_LARGE', () => {
    const system = { a: 'x'.repeat(40_000), b: 'y'.repeat(30_000) };
    expectRejected({ ...full, systemProperties: system }, StatusCode.MESSAGE_PROPERTIES_TOO_LARGE);
    expectAccepted({ ...full, systemProperties: { a: 'x'.repeat(40_000), b: 'y'.repeat(20_000) } });
  });

  it('rejects a blank topic, an over-long topic, a bad queue id and a blank key', () => {
    expectRejected({ ...full, topic: '' }, StatusCode.ILLEGAL_TOPIC);
    expectRejected({ ...full, topic: 'x'.repeat(256) }, StatusCode.ILLEGAL_TOPIC);
    expectRejected({ ...full, queueId: -1 }, StatusCode.BAD_REQUEST);
    expectRejected({ ...full, queueId: 1.5 }, StatusCode.BAD_REQUEST);
    expectRejected({ ...full, keys: ['ok', ''] }, StatusCode.ILLEGAL_MESSAGE_KEY);
  });

  it('detects a flipped bit anywhere in the record', () => {
    const clean = encode(full);
    for (let byte = 0; byte < clean.length; byte++) {
      const bad = Buffer.from(clean);
      bad[byte]! ^= 1 << (byte % 8);
      const check = checkRecord(bad, 0, bad.length, 4096);
      expect(check.kind).not.toBe('message');
    }
  });

  it('rejects a record that claims another position (stale or misplaced bytes)', () => {
    const buf = encode(full, 4096);
    expect(checkRecord(buf, 0, buf.length, 8192)).toMatchObject({
      kind: 'corrupt',
      reason: expect.stringMatching(/physical offset/),
    });
  });

  it('tells the end of the log, a cut-short record, garbage and a blank record apart', () => {
    const buf = encode(full);
    expect(checkRecord(Buffer.alloc(64), 0, 64, 0)).toEqual({ kind: 'end' });
    expect(checkRecord(buf, 0, 0, 4096)).toEqual({ kind: 'end' });
    expect(checkRecord(buf, 0, buf.length - 1, 4096)).toMatchObject({ kind: 'corrupt', size: buf.length });
    expect(checkRecord(Buffer.from('garbage garbage garbage'), 0, 23, 0).kind).toBe('corrupt');
    const blank = Buffer.alloc(100);
    writeBlank(blank, 0, 100);
    expect(checkRecord(blank, 0, 100, 0)).toEqual({ kind: 'blank', size: 100 });
    expect(buf.readUInt32BE(Field.TOTAL_SIZE)).toBe(buf.length);
  });

  it('hashes tags exactly like Java String.hashCode()', () => {
    expect(tagHash(undefined)).toBe(0);
    expect(tagHash('')).toBe(0);
    expect(tagHash('TagA')).toBe(2598919); // "TagA".hashCode() in Java
    // Values printed by a JVM (javac + java on this machine); overflow and UTF-16 units must match.
    expect(tagHash('hello world, this is long')).toBe(2047144808);
    expect(tagHash('payment-result-failed')).toBe(-1062212506);
    expect(tagHash('订单已支付')).toBe(-688090072);
  });
});

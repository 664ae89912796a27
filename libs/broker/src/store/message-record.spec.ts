import { crc32 } from 'node:zlib';
import { StatusCode } from '../status-code.js';
import {
  checkRecord,
  crc32MemoryRecordBuffer,
  decodeRecord,
  encodeHost,
  Field,
  measureRecord,
  MIN_RECORD_SIZE,
  SysFlag,
  writeBlank,
  writeRecord,
  recordBuffer,
  type MessageToStore,
} from './message-record.js';
import { Crc32Memory } from './crc32-memory.js';
import { MAX_BODY_SIZE, MAX_PROPERTIES_COUNT, MAX_PROPERTIES_SIZE } from './limits.js';
import { tagHash } from './tag-hash.js';

const storeHost = encodeHost('10.0.0.7:8081');

function encode(message: MessageToStore, physicalOffset = 4096, queueOffset = 7): Buffer {
  const measured = measureRecord(message, storeHost.length);
  const buf = Buffer.alloc(measured.totalSize);
  writeRecord(recordBuffer(buf), 0, measured, {
    physicalOffset,
    queueOffset,
    storeTimestamp: 1_700_000_000_123,
    storeHost,
  });
  return buf;
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

  it('encodes byte for byte the same in the commit log staging memory (WebAssembly CRCs) as with zlib', () => {
    const expected = encode(full, 2 ** 41 + 8, 2 ** 33 + 1);
    const memory = Crc32Memory.create(expected.length + 100);
    memory.bytes.fill(0xee);
    const measured = measureRecord(full, storeHost.length);
    writeRecord(crc32MemoryRecordBuffer(memory), 37, measured, {
      physicalOffset: 2 ** 41 + 8,
      queueOffset: 2 ** 33 + 1,
      storeTimestamp: 1_700_000_000_123,
      storeHost,
    });
    expect(memory.bytes.subarray(37, 37 + expected.length).equals(expected)).toBe(true);
    expect(memory.bytes[36]).toBe(0xee);
    expect(memory.bytes[37 + expected.length]).toBe(0xee);
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
    expect(() => measureRecord({ ...full, body: Buffer.alloc(MAX_BODY_SIZE) }, 8)).not.toThrow();
    expect(() => measureRecord({ ...full, body: Buffer.alloc(MAX_BODY_SIZE + 1) }, 8)).toThrow(
      expect.objectContaining({ code: StatusCode.MESSAGE_BODY_TOO_LARGE }),
    );
  });

  it('rejects user properties over 16 KiB or over 128 entries with MESSAGE_PROPERTIES_TOO_LARGE', () => {
    const big = { k: 'v'.repeat(MAX_PROPERTIES_SIZE) };
    expect(() => measureRecord({ ...full, userProperties: big }, 8)).toThrow(
      expect.objectContaining({ code: StatusCode.MESSAGE_PROPERTIES_TOO_LARGE }),
    );
    const many = Object.fromEntries(
      Array.from({ length: MAX_PROPERTIES_COUNT + 1 }, (_, i) => [`k${i}`, 'v']),
    );
    expect(() => measureRecord({ ...full, userProperties: many }, 8)).toThrow(
      expect.objectContaining({ code: StatusCode.MESSAGE_PROPERTIES_TOO_LARGE }),
    );
    const exactly = Object.fromEntries(
      Array.from({ length: MAX_PROPERTIES_COUNT }, (_, i) => [`k${i}`, 'v']),
    );
    expect(() => measureRecord({ ...full, userProperties: exactly }, 8)).not.toThrow();
  });

  it('rejects a blank topic, an over-long topic, a bad queue id and a blank key', () => {
    expect(() => measureRecord({ ...full, topic: '' }, 8)).toThrow(
      expect.objectContaining({ code: StatusCode.ILLEGAL_TOPIC }),
    );
    expect(() => measureRecord({ ...full, topic: 'x'.repeat(256) }, 8)).toThrow(
      expect.objectContaining({ code: StatusCode.ILLEGAL_TOPIC }),
    );
    expect(() => measureRecord({ ...full, queueId: -1 }, 8)).toThrow(
      expect.objectContaining({ code: StatusCode.BAD_REQUEST }),
    );
    expect(() => measureRecord({ ...full, queueId: 1.5 }, 8)).toThrow(
      expect.objectContaining({ code: StatusCode.BAD_REQUEST }),
    );
    expect(() => measureRecord({ ...full, keys: ['ok', ''] }, 8)).toThrow(
      expect.objectContaining({ code: StatusCode.ILLEGAL_MESSAGE_KEY }),
    );
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

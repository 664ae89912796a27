import { createHash } from 'node:crypto';
import { crc32, gzipSync } from 'node:zlib';
import { DigestType, Encoding, ProtoMessageType, type Message } from '@rocketnest/broker/grpc/proto-types.js';
import { decodeDelivery } from './received-message.js';

function message(
  body: Buffer,
  digest: { type: number; checksum: string },
  extra: Partial<Message['system_properties']> = {},
): Message {
  return {
    topic: { name: 'orders' },
    body,
    user_properties: { a: '1' },
    system_properties: {
      message_id: 'MID',
      receipt_handle: 'RH',
      delivery_attempt: 2,
      body_digest: digest,
      body_encoding: Encoding.IDENTITY,
      message_type: ProtoMessageType.FIFO,
      message_group: 'grp',
      born_timestamp: { seconds: 1_700_000_000, nanos: 5_000_000 },
      tag: 'TagA',
      keys: ['k1', 'k2'],
      queue_id: 3,
      queue_offset: 42,
      ...extra,
    },
  };
}

const body = Buffer.from('payload');
const md5 = createHash('md5').update(body).digest('hex').toUpperCase();

test('a delivered message reads into the view a handler sees', () => {
  const { view, receiptHandle, corruption } = decodeDelivery(
    message(body, { type: DigestType.MD5, checksum: md5 }),
  );
  expect(corruption).toBeUndefined();
  expect(receiptHandle).toBe('RH');
  expect(view).toMatchObject({
    messageId: 'MID',
    topic: 'orders',
    tag: 'TagA',
    keys: ['k1', 'k2'],
    properties: { a: '1' },
    messageGroup: 'grp',
    messageType: 'FIFO',
    deliveryAttempt: 2,
    bornTimestamp: 1_700_000_000_005,
    queueId: 3,
    queueOffset: 42,
  });
  expect(view.body.toString()).toBe('payload');
  expect(Object.isFrozen(view)).toBe(true);
});

test('MD5, SHA1 (upper or lower hex) and CRC32 digests are checked; a mismatch marks the delivery corrupted', () => {
  const sha1 = createHash('sha1').update(body).digest('hex');
  expect(decodeDelivery(message(body, { type: DigestType.SHA1, checksum: sha1 })).corruption).toBeUndefined();
  expect(
    decodeDelivery(message(body, { type: DigestType.CRC32, checksum: String(crc32(body)) })).corruption,
  ).toBeUndefined();
  expect(
    decodeDelivery(message(body, { type: DigestType.MD5, checksum: md5.toLowerCase() })).corruption,
  ).toBeUndefined();
  expect(decodeDelivery(message(body, { type: DigestType.MD5, checksum: '00' })).corruption).toMatch(
    /digest mismatch/,
  );
  // Nothing to check is not a corruption (as in the Java client).
  expect(decodeDelivery(message(body, { type: 99, checksum: 'x' })).corruption).toBeUndefined();
});

test('a GZIP body is checked as sent, then decompressed; one that does not decompress is corrupted', () => {
  const zipped = gzipSync(body);
  const digest = { type: DigestType.MD5, checksum: createHash('md5').update(zipped).digest('hex') };
  const ok = decodeDelivery(message(zipped, digest, { body_encoding: Encoding.GZIP }));
  expect(ok.corruption).toBeUndefined();
  expect(ok.view.body.toString()).toBe('payload');
  const junk = Buffer.from('not gzip');
  const bad = decodeDelivery(
    message(
      junk,
      { type: DigestType.MD5, checksum: createHash('md5').update(junk).digest('hex') },
      { body_encoding: Encoding.GZIP },
    ),
  );
  expect(bad.corruption).toMatch(/does not decompress/);
});

test('a delivery without message id, receipt handle or topic cannot be settled and is refused', () => {
  const digest = { type: DigestType.MD5, checksum: md5 };
  expect(() => decodeDelivery(message(body, digest, { message_id: '' }))).toThrow(/message_id/);
  expect(() => decodeDelivery(message(body, digest, { receipt_handle: '' }))).toThrow(/receipt_handle/);
  expect(() => decodeDelivery({ ...message(body, digest), topic: null })).toThrow(/topic/);
  // The queue received from names the topic when the message does not.
  expect(
    decodeDelivery({ ...message(body, digest), topic: null }, { topic: { name: 'q-topic' } }).view.topic,
  ).toBe('q-topic');
});

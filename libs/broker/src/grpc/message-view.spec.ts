import { crc32 } from 'node:zlib';
import { type ReceivedMessage } from '../core/consume/types.js';
import { type StoredMessage } from '../store/index.js';
import { SysFlag } from '../store/message-record.js';
import { isReceivedMessage, messageTypeOf, toProtoMessage } from './message-view.js';
import { messagingServiceDefinition } from './proto.js';
import { DigestType, Encoding, ProtoMessageType, type ReceiveMessageResponse } from './proto-types.js';

const BORN = Date.UTC(2025, 0, 1, 10, 0, 0, 123);
const STORED = BORN + 5;

function stored(overrides: Partial<StoredMessage> = {}): StoredMessage {
  const body = overrides.body ?? Buffer.from('order created');
  return {
    topic: 'orders',
    queueId: 3,
    queueOffset: 41,
    physicalOffset: 9_000,
    size: 200,
    body,
    bodyCrc: crc32(body),
    messageId: '01ABCDEF0123456789ABCDEF0123456789',
    tag: 'created',
    keys: ['order-1'],
    userProperties: { region: 'eu' },
    systemProperties: {},
    flag: 0,
    sysFlag: 0,
    bornTimestamp: BORN,
    bornHost: '10.0.0.5:40000',
    storeTimestamp: STORED,
    storeHost: '127.0.0.1:0',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    ...overrides,
  };
}

function received(message: StoredMessage, attempt = 1): ReceivedMessage {
  return {
    receiptHandle: 'handle-1',
    deliveryAttempt: attempt,
    invisibleUntil: STORED + 30_000,
    message,
    queue: { topic: message.topic, queueId: message.queueId, queueOffset: message.queueOffset },
  };
}

/** What the client decodes: the view through the real proto encoder and decoder. */
function overTheWire(view: ReturnType<typeof toProtoMessage>): ReceiveMessageResponse {
  const method = messagingServiceDefinition().ReceiveMessage!;
  return method.responseDeserialize(method.responseSerialize({ message: view })) as ReceiveMessageResponse;
}

describe('toProtoMessage', () => {
  it('carries everything the official client needs for a delivery', () => {
    const view = toProtoMessage(received(stored(), 2), {
      storeHost: '192.168.1.2:8081',
      invisibleMs: 30_000,
    });
    const decoded = overTheWire(view).message!;
    expect(decoded.topic).toEqual({ name: 'orders', resource_namespace: '' });
    expect(decoded.body!.toString()).toBe('order created');
    expect(decoded.user_properties).toEqual({ region: 'eu' });
    const sp = decoded.system_properties!;
    expect(sp.message_id).toBe('01ABCDEF0123456789ABCDEF0123456789');
    // CRC-32 of the body, as the commit log stored it (the official clients check it).
    expect(sp.body_digest).toEqual({
      type: DigestType.CRC32,
      checksum: String(crc32(Buffer.from('order created'))),
    });
    expect(sp.body_encoding).toBe(Encoding.IDENTITY);
    expect(sp.message_type).toBe(ProtoMessageType.NORMAL);
    expect(sp.tag).toBe('created');
    expect(sp.keys).toEqual(['order-1']);
    expect(sp.receipt_handle).toBe('handle-1');
    expect(sp.delivery_attempt).toBe(2);
    expect(sp.queue_id).toBe(3);
    expect(sp.queue_offset).toBe(41);
    expect(sp.born_timestamp).toEqual({ seconds: Math.floor(BORN / 1000), nanos: 123_000_000 });
    expect(sp.store_timestamp).toEqual({ seconds: Math.floor(STORED / 1000), nanos: 128_000_000 });
    expect(sp.born_host).toBe('10.0.0.5:40000');
    expect(sp.store_host).toBe('192.168.1.2:8081');
    expect(sp.invisible_duration).toEqual({ seconds: 30, nanos: 0 });
    expect(sp.delivery_timestamp).toBeUndefined();
    expect(sp.message_group).toBeUndefined();
  });

  it('marks a FIFO message with its group', () => {
    const sp = toProtoMessage(
      received(stored({ systemProperties: { __SHARDINGKEY: 'order-42' } })),
    ).system_properties!;
    expect([sp.message_type, sp.message_group]).toEqual([ProtoMessageType.FIFO, 'order-42']);
  });

  it('marks a delayed message with its delivery time', () => {
    const at = BORN + 60_000;
    const sp = toProtoMessage(
      received(stored({ systemProperties: { TIMER_DELIVER_MS: String(at) } })),
    ).system_properties!;
    expect(sp.message_type).toBe(ProtoMessageType.DELAY);
    expect(sp.delivery_timestamp).toEqual({ seconds: Math.floor(at / 1000), nanos: 123_000_000 });
  });

  it('does not call a retry copy DELAY because it waited in the timer', () => {
    const copy = stored({ systemProperties: { TIMER_DELIVER_MS: String(BORN), RETRY_TOPIC: 'orders' } });
    const sp = toProtoMessage(received(copy, 3)).system_properties!;
    expect(sp.message_type).toBe(ProtoMessageType.NORMAL);
    expect(sp.delivery_timestamp).toBeUndefined();
  });

  it('shows a half message (orphan recovery) as TRANSACTION with attempt 1 and no handle', () => {
    const half = stored({ systemProperties: { TRAN_MSG: 'true', __transactionId__: 'tx-1' } });
    expect(isReceivedMessage(half)).toBe(false);
    const sp = overTheWire(toProtoMessage(half)).message!.system_properties!;
    expect(sp.message_type).toBe(ProtoMessageType.TRANSACTION);
    expect(sp.delivery_attempt).toBe(1);
    expect(sp.receipt_handle).toBeUndefined();
    // The official client skips a check-back whose message has no digest (PROTOCOL.md §4).
    expect(sp.body_digest).toEqual({ type: DigestType.CRC32, checksum: String(crc32(half.body)) });
  });

  it('reports a compressed body as GZIP, its digest over the stored bytes', () => {
    const message = stored({ sysFlag: SysFlag.COMPRESSED });
    const sp = toProtoMessage(message).system_properties!;
    expect(sp.body_encoding).toBe(Encoding.GZIP);
    expect(sp.body_digest!.checksum).toBe(String(crc32(message.body)));
  });

  it("names a dead letter's origin", () => {
    const dead = stored({
      topic: '%DLQ%billing',
      systemProperties: { DLQ_ORIGIN_TOPIC: 'orders', DLQ_ORIGIN_MESSAGE_ID: 'orig-id' },
    });
    expect(toProtoMessage(received(dead)).system_properties!.dead_letter_queue).toEqual({
      topic: 'orders',
      message_id: 'orig-id',
    });
  });

  it("shows names without the receiving call's namespace", () => {
    const view = toProtoMessage(received(stored({ topic: 'tenant%orders' })), { namespace: 'tenant' });
    expect(view.topic).toEqual({ name: 'orders', resource_namespace: 'tenant' });
  });

  it('never reports a delivery attempt below 1', () => {
    expect(toProtoMessage(received(stored(), 0)).system_properties!.delivery_attempt).toBe(1);
  });

  it('classifies message types as the Java proxy does', () => {
    expect(messageTypeOf(stored({ systemProperties: { DELAY: '3' } }))).toBe(ProtoMessageType.DELAY);
    expect(messageTypeOf(stored({ systemProperties: { TRAN_MSG: 'false' } }))).toBe(ProtoMessageType.NORMAL);
  });
});

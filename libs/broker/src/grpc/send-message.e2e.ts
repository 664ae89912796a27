import { gzipSync } from 'node:zlib';
import { ManualClock } from '../core/clock.js';
import { MESSAGE_GROUP_PROPERTY } from '../core/consume/names.js';
import { DEFAULT_MAX_BODY_SIZE } from '../core/limits.js';
import { StatusCode } from '../status-code.js';
import { DigestType, Encoding, type Message, type SendMessageResponse } from './proto-types.js';
import {
  newMessageId,
  protoMessage,
  receiveFromCore,
  startHarness,
  TEST_CLIENT_ID,
  type GrpcHarness,
  type ProtoMessageOptions,
} from './testing/grpc-harness.js';

const INVISIBLE_MS = 30_000;

describe('SendMessage', () => {
  let h: GrpcHarness;
  let groupSeq = 0;
  const send = (...messages: Message[]) => h.call<SendMessageResponse>('SendMessage', { messages });
  const sendOne = (options: ProtoMessageOptions) => send(protoMessage(options));
  const receive = (topic: string, count = 1, timeoutMs?: number) =>
    receiveFromCore(h.core, { group: `g${++groupSeq}`, topic, invisibleMs: INVISIBLE_MS }, count, timeoutMs);
  /** Nothing arrives: a short wait is enough, the store dispatches within milliseconds. */
  const receiveNothing = (topic: string) => receive(topic, 1, 300);

  beforeAll(async () => {
    h = await startHarness();
    h.core.createTopic('normal-only', { messageTypes: ['NORMAL'] });
  });
  afterAll(async () => {
    await h.close();
  });

  describe('accepted messages', () => {
    it('stores a NORMAL message with its body, tag, keys and properties and echoes its id', async () => {
      const messageId = newMessageId();
      const res = await sendOne({
        topic: 'send-normal',
        messageId,
        body: Buffer.from('order #1 created'),
        tag: 'created',
        keys: ['order-1', 'customer-7'],
        userProperties: { region: 'eu', priority: 'high' },
      });
      expect(res.status).toEqual({ code: StatusCode.OK, message: 'OK' });
      expect(res.entries).toEqual([
        {
          status: { code: StatusCode.OK, message: 'OK' },
          message_id: messageId,
          transaction_id: '',
          offset: 0,
          recall_handle: '',
        },
      ]);
      const [got] = await receive('send-normal');
      expect(got!.message.messageId).toBe(messageId);
      expect(got!.message.body.toString()).toBe('order #1 created');
      expect(got!.message.tag).toBe('created');
      expect(got!.message.keys).toEqual(['order-1', 'customer-7']);
      expect(got!.message.userProperties).toEqual({ region: 'eu', priority: 'high' });
      expect(got!.message.bornHost).toMatch(/^127\.0\.0\.1:\d+$/);
    });

    it('answers one entry per message, in order, for a batch of one topic', async () => {
      const messages = Array.from({ length: 5 }, (_, i) =>
        protoMessage({ topic: 'send-batch', body: Buffer.from(`m${i}`) }),
      );
      const res = await send(...messages);
      expect(res.status!.code).toBe(StatusCode.OK);
      expect(res.entries!.map((e) => e.message_id)).toEqual(
        messages.map((m) => m.system_properties!.message_id),
      );
      expect(res.entries!.every((e) => e.status!.code === StatusCode.OK)).toBe(true);
      const got = await receive('send-batch', 5);
      expect(got.map((m) => m.message.body.toString()).sort()).toEqual(['m0', 'm1', 'm2', 'm3', 'm4']);
    });

    it('stores a FIFO message with its message group', async () => {
      const res = await sendOne({ topic: 'send-fifo', messageGroup: 'order-42' });
      expect(res.status!.code).toBe(StatusCode.OK);
      const [got] = await receive('send-fifo');
      expect(got!.message.systemProperties[MESSAGE_GROUP_PROPERTY]).toBe('order-42');
    });

    it('tells the client registry who sent each half message (its check-back goes there first)', async () => {
      const clients = h.server.clients;
      const noted: [string, string][] = [];
      const original = clients.noteTransactionSender.bind(clients);
      // An own property shadows the method for this test; deleting it restores the method.
      clients.noteTransactionSender = (transactionId, clientId) => {
        noted.push([transactionId, clientId]);
        original(transactionId, clientId);
      };
      try {
        const res = await sendOne({ topic: 'send-tx-sender', transactional: true });
        expect(noted).toEqual([[res.entries![0]!.transaction_id, TEST_CLIENT_ID]]);
      } finally {
        Reflect.deleteProperty(clients, 'noteTransactionSender');
      }
    });

    it('answers a unique, non-empty transaction id for each TRANSACTION message', async () => {
      const first = await sendOne({ topic: 'send-tx', transactional: true });
      expect(first.status!.code).toBe(StatusCode.OK);
      await h.call('EndTransaction', {
        topic: { name: 'send-tx' },
        message_id: first.entries![0]!.message_id,
        transaction_id: first.entries![0]!.transaction_id,
        resolution: 2,
        source: 1,
      });
      const second = await sendOne({ topic: 'send-tx', transactional: true });
      expect(second.status!.code).toBe(StatusCode.OK);
      expect(first.entries![0]!.transaction_id).not.toBe('');
      expect(second.entries![0]!.transaction_id).not.toBe('');
      expect(second.entries![0]!.transaction_id).not.toBe(first.entries![0]!.transaction_id);
      expect(await receiveNothing('send-tx')).toEqual([]);
    });

    it('inflates a GZIP body and stores the plain bytes', async () => {
      const plain = Buffer.from('compressed payload '.repeat(100));
      const res = await sendOne({
        topic: 'send-gzip',
        body: gzipSync(plain),
        system: { body_encoding: Encoding.GZIP },
      });
      expect(res.status!.code).toBe(StatusCode.OK);
      const [got] = await receive('send-gzip');
      expect(got!.message.body.equals(plain)).toBe(true);
    });

    it('accepts a body digest that matches the body', async () => {
      const body = Buffer.from('digested');
      const md5 = (await import('node:crypto')).createHash('md5').update(body).digest('hex').toUpperCase();
      const res = await sendOne({
        topic: 'send-digest',
        body,
        system: { body_digest: { type: DigestType.MD5, checksum: md5 } },
      });
      expect(res.status!.code).toBe(StatusCode.OK);
    });

    it('stores a body of the advertised maximum size (beyond grpc-js default 4 MiB frame handling)', async () => {
      const res = await sendOne({ topic: 'send-big', body: Buffer.alloc(DEFAULT_MAX_BODY_SIZE, 7) });
      expect(res.status!.code).toBe(StatusCode.OK);
    });

    it('stores a message of a namespaced topic as <namespace>%<topic>', async () => {
      const res = await sendOne({ topic: 'send-ns', namespace: 'tenant2' });
      expect(res.status!.code).toBe(StatusCode.OK);
      expect(await receive('tenant2%send-ns')).toHaveLength(1);
    });
  });

  describe('rejected requests (RELIABILITY.md §(d))', () => {
    const expectRejected = async (res: SendMessageResponse, code: number): Promise<void> => {
      expect(res.status!.code).toBe(code);
      expect(res.entries).toEqual([]);
    };

    it('answers MESSAGE_CORRUPTED for a request without messages', async () => {
      await expectRejected(await send(), StatusCode.MESSAGE_CORRUPTED);
    });

    it('answers MESSAGE_CORRUPTED for a batch of several topics, storing nothing', async () => {
      await expectRejected(
        await send(protoMessage({ topic: 'mixed-a' }), protoMessage({ topic: 'mixed-b' })),
        StatusCode.MESSAGE_CORRUPTED,
      );
      expect(await receiveNothing('mixed-a')).toEqual([]);
    });

    it('stores nothing of a batch with one invalid message', async () => {
      await expectRejected(
        await send(
          protoMessage({ topic: 'all-or-nothing' }),
          protoMessage({ topic: 'all-or-nothing', tag: 'a|b' }),
        ),
        StatusCode.ILLEGAL_MESSAGE_TAG,
      );
      expect(await receiveNothing('all-or-nothing')).toEqual([]);
    });

    it.each([
      ['blank', ''],
      ['with illegal characters', 'orders/created'],
      ['of 128 characters', 'o'.repeat(128)],
      ['TBW102', 'TBW102'],
      ['RMQ_SYS_TRACE_TOPIC', 'RMQ_SYS_TRACE_TOPIC'],
      ['rmq_sys_anything', 'rmq_sys_anything'],
      ['SCHEDULE_TOPIC_XXXX', 'SCHEDULE_TOPIC_XXXX'],
      ['a DLQ topic', '%DLQ%group'],
    ])('answers ILLEGAL_TOPIC for a topic %s', async (_what, topic) => {
      await expectRejected(await sendOne({ topic }), StatusCode.ILLEGAL_TOPIC);
    });

    it('answers MESSAGE_BODY_EMPTY for an empty body', async () => {
      await expectRejected(await sendOne({ body: Buffer.alloc(0) }), StatusCode.MESSAGE_BODY_EMPTY);
    });

    it('answers MESSAGE_BODY_TOO_LARGE for a body one byte over the advertised maximum', async () => {
      await expectRejected(
        await sendOne({ body: Buffer.alloc(DEFAULT_MAX_BODY_SIZE + 1) }),
        StatusCode.MESSAGE_BODY_TOO_LARGE,
      );
    });

    it('answers MESSAGE_BODY_TOO_LARGE for a 4 MiB body', async () => {
      await expectRejected(
        await sendOne({ body: Buffer.alloc(4 * 1024 * 1024) }),
        StatusCode.MESSAGE_BODY_TOO_LARGE,
      );
    });

    it('answers MESSAGE_BODY_TOO_LARGE for a GZIP body that inflates past the maximum', async () => {
      const bomb = gzipSync(Buffer.alloc(DEFAULT_MAX_BODY_SIZE + 1024));
      await expectRejected(
        await sendOne({ body: bomb, system: { body_encoding: Encoding.GZIP } }),
        StatusCode.MESSAGE_BODY_TOO_LARGE,
      );
    });

    it('answers MESSAGE_CORRUPTED for a GZIP body that is not gzip', async () => {
      await expectRejected(
        await sendOne({ body: Buffer.from('plain'), system: { body_encoding: Encoding.GZIP } }),
        StatusCode.MESSAGE_CORRUPTED,
      );
    });

    it('answers MESSAGE_CORRUPTED for an unknown body encoding', async () => {
      await expectRejected(await sendOne({ system: { body_encoding: 9 } }), StatusCode.MESSAGE_CORRUPTED);
    });

    it('answers MESSAGE_CORRUPTED for a body that does not match its digest', async () => {
      await expectRejected(
        await sendOne({ system: { body_digest: { type: DigestType.CRC32, checksum: '12345' } } }),
        StatusCode.MESSAGE_CORRUPTED,
      );
    });

    it.each([
      ['whitespace only', '  '],
      ["with '|'", 'a|b'],
      ['with a control character', 'tag\u0001'],
    ])('answers ILLEGAL_MESSAGE_TAG for a tag %s', async (_what, tag) => {
      await expectRejected(await sendOne({ tag }), StatusCode.ILLEGAL_MESSAGE_TAG);
    });

    it.each([
      ['empty', ''],
      ['whitespace only', ' \t'],
      ['with a control character', 'key\u0000'],
    ])('answers ILLEGAL_MESSAGE_KEY for a key %s', async (_what, key) => {
      await expectRejected(await sendOne({ keys: ['fine', key] }), StatusCode.ILLEGAL_MESSAGE_KEY);
    });

    it.each([
      ['whitespace only', '   '],
      ['of 64 UTF-8 bytes', 'g'.repeat(64)],
      ['with a control character', 'group\u007f'],
    ])('answers ILLEGAL_MESSAGE_GROUP for a message group %s', async (_what, messageGroup) => {
      await expectRejected(await sendOne({ messageGroup }), StatusCode.ILLEGAL_MESSAGE_GROUP);
    });

    it('answers ILLEGAL_DELIVERY_TIME for a delivery more than a day ahead', async () => {
      await expectRejected(
        await sendOne({ deliveryTimestamp: Date.now() + 24 * 3_600_000 + 60_000 }),
        StatusCode.ILLEGAL_DELIVERY_TIME,
      );
    });

    it('answers ILLEGAL_DELIVERY_TIME for a malformed delivery timestamp', async () => {
      await expectRejected(
        await sendOne({ system: { delivery_timestamp: { seconds: 1, nanos: -5 } } }),
        StatusCode.ILLEGAL_DELIVERY_TIME,
      );
    });

    it('answers BAD_REQUEST for a transaction recovery duration over an hour', async () => {
      await expectRejected(
        await sendOne({
          transactional: true,
          system: { orphaned_transaction_recovery_duration: { seconds: 3_601, nanos: 0 } },
        }),
        StatusCode.BAD_REQUEST,
      );
    });

    it('answers MESSAGE_PROPERTIES_TOO_LARGE for 129 user properties', async () => {
      const userProperties = Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v']));
      await expectRejected(await sendOne({ userProperties }), StatusCode.MESSAGE_PROPERTIES_TOO_LARGE);
    });

    it('answers MESSAGE_PROPERTIES_TOO_LARGE for properties over 16 KiB', async () => {
      await expectRejected(
        await sendOne({ userProperties: { big: 'x'.repeat(16 * 1024) } }),
        StatusCode.MESSAGE_PROPERTIES_TOO_LARGE,
      );
    });

    it.each([
      ['the reserved key KEYS', { KEYS: 'a' }],
      ['the reserved key __SHARDINGKEY', { __SHARDINGKEY: 'g' }],
      ['the reserved key TIMER_DELIVER_MS', { TIMER_DELIVER_MS: '1' }],
      ['a key with a control character', { 'a\u0002b': 'v' }],
    ])('answers ILLEGAL_MESSAGE_PROPERTY_KEY for %s', async (_what, userProperties) => {
      await expectRejected(await sendOne({ userProperties }), StatusCode.ILLEGAL_MESSAGE_PROPERTY_KEY);
    });

    it.each([
      ['empty', ''],
      ['blank', '   '],
    ])('answers ILLEGAL_MESSAGE_ID for an %s message id', async (_what, messageId) => {
      await expectRejected(await sendOne({ messageId }), StatusCode.ILLEGAL_MESSAGE_ID);
    });

    it('answers ILLEGAL_MESSAGE_ID for a message without system properties', async () => {
      const message = { ...protoMessage(), system_properties: null };
      await expectRejected(await send(message), StatusCode.ILLEGAL_MESSAGE_ID);
    });

    it('answers MESSAGE_PROPERTY_CONFLICT_WITH_TYPE for a FIFO message to a NORMAL topic', async () => {
      await expectRejected(
        await sendOne({ topic: 'normal-only', messageGroup: 'g' }),
        StatusCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      );
    });

    it('answers MESSAGE_PROPERTY_CONFLICT_WITH_TYPE for a TRANSACTION message to a NORMAL topic', async () => {
      await expectRejected(
        await sendOne({ topic: 'normal-only', transactional: true }),
        StatusCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      );
    });

    it('answers MESSAGE_PROPERTY_CONFLICT_WITH_TYPE for a delayed transactional message', async () => {
      await expectRejected(
        await sendOne({ transactional: true, deliveryTimestamp: Date.now() + 60_000 }),
        StatusCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      );
    });
  });
});

describe('SendMessage with per-message outcomes', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness({ core: { transaction: { maxPending: 1 } } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers MULTIPLE_RESULTS when the messages of one request end differently', async () => {
    // maxPending is 1: the second half message of the request is refused with TOO_MANY_REQUESTS.
    const res = await h.call<SendMessageResponse>('SendMessage', {
      messages: [
        protoMessage({ topic: 'send-multi', transactional: true }),
        protoMessage({ topic: 'send-multi', transactional: true }),
      ],
    });
    expect(res.status!.code).toBe(StatusCode.MULTIPLE_RESULTS);
    expect(res.entries!.map((e) => e.status!.code).sort()).toEqual([
      StatusCode.OK,
      StatusCode.TOO_MANY_REQUESTS,
    ]);
    const refused = res.entries!.find((e) => e.status!.code !== StatusCode.OK)!;
    expect(refused.transaction_id).toBe('');
    expect(refused.status!.message).toContain('too many pending transactions');
  });
});

describe('SendMessage under flow control', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness({ server: { maxInFlightSendBytes: 4096 } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses sends beyond the bytes being stored at once with 42900, stores the rest, and recovers', async () => {
    const body = Buffer.alloc(3000, 7);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        h.call<SendMessageResponse>('SendMessage', {
          messages: [protoMessage({ topic: 'send-flow', messageId: `FLOW-${i}`, body })],
        }),
      ),
    );
    const codes = replies.map((r) => r.status!.code);
    expect(codes).toContain(StatusCode.TOO_MANY_REQUESTS);
    expect(codes.every((c) => c === StatusCode.OK || c === StatusCode.TOO_MANY_REQUESTS)).toBe(true);
    const refused = replies.find((r) => r.status!.code === StatusCode.TOO_MANY_REQUESTS)!;
    expect(refused.status!.message).toMatch(/flow control/);
    expect(refused.entries ?? []).toEqual([]);
    // Exactly the accepted ones were stored.
    const stored = h.core.receive({ group: 'flow-check', topic: 'send-flow', invisibleMs: 60_000 });
    expect(stored.length).toBe(codes.filter((c) => c === StatusCode.OK).length);
    // Once the burst is stored, a send goes through again.
    const after = await h.call<SendMessageResponse>('SendMessage', {
      messages: [protoMessage({ topic: 'send-flow', messageId: 'FLOW-after', body })],
    });
    expect(after.status!.code).toBe(StatusCode.OK);
  });
});

describe('SendMessage without topic auto-creation', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness({ core: { autoCreateTopics: false } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers TOPIC_NOT_FOUND for an unknown topic', async () => {
    const res = await h.call<SendMessageResponse>('SendMessage', {
      messages: [protoMessage({ topic: 'unknown' })],
    });
    expect(res.status!.code).toBe(StatusCode.TOPIC_NOT_FOUND);
    expect(res.entries).toEqual([]);
  });
});

describe('SendMessage of a DELAY message', () => {
  let h: GrpcHarness;
  let clock: ManualClock;

  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    h = await startHarness({ core: { clock }, server: { clock } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('is invisible until its delivery time, then delivered', async () => {
    const res = await h.call<SendMessageResponse>('SendMessage', {
      messages: [protoMessage({ topic: 'send-delay', deliveryTimestamp: clock.now() + 10_000 })],
    });
    expect(res.status!.code).toBe(StatusCode.OK);
    expect(res.entries![0]!.offset).toBeGreaterThanOrEqual(0);
    const request = { group: 'delay-group', topic: 'send-delay', invisibleMs: INVISIBLE_MS };
    expect(await receiveFromCore(h.core, request, 1, 300)).toEqual([]);
    clock.advance(9_000);
    expect(await receiveFromCore(h.core, request, 1, 300)).toEqual([]);
    clock.advance(1_500);
    const got = await receiveFromCore(h.core, request, 1);
    expect(got.map((m) => m.message.messageId)).toEqual([res.entries![0]!.message_id]);
  });
});

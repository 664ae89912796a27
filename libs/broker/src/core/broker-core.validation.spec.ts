/**
 * RELIABILITY.md §(d), items 1–12, as far as they reach the core: every bad input gets its exact
 * RocketMQ status code through the facade, and a request with one bad message stores nothing.
 * (13–15 are the gRPC layer's and the client's: client id and type, authentication, frame size.)
 */
import { StatusCode, type StatusCodeValue } from '../status-code.js';
import { CoreHarness, HOUR, T0 } from './broker-core-testing.js';
import { type SendRequest } from './send-path.js';

let h: CoreHarness;
beforeAll(async () => {
  h = await CoreHarness.open({ autoCreateTopics: false });
  h.core.createTopic('T', { queueCount: 1 });
  h.core.createTopic('Other', { queueCount: 1 });
  h.core.createTopic('NormalOnly', { queueCount: 1, messageTypes: ['NORMAL'] });
  h.core.createTopic('FifoOnly', { queueCount: 1, messageTypes: ['FIFO'] });
});
afterAll(async () => {
  await h.close();
});

function msg(overrides: Record<string, unknown> = {}): SendRequest {
  return { topic: 'T', body: Buffer.from('x'), messageId: 'ID-1', ...overrides } as SendRequest;
}

const send = (overrides: Record<string, unknown>) => () => h.core.send([msg(overrides)]);
const receive = (overrides: Record<string, unknown>) => () =>
  h.core.receive({ group: 'g', topic: 'T', invisibleMs: 30_000, ...overrides });

interface Row {
  readonly item: number;
  readonly what: string;
  readonly code: StatusCodeValue;
  readonly call: () => unknown;
}

const C = StatusCode;
const rows: Row[] = [
  // 1. topics
  { item: 1, what: 'blank topic', code: C.ILLEGAL_TOPIC, call: send({ topic: ' ' }) },
  { item: 1, what: 'empty topic', code: C.ILLEGAL_TOPIC, call: send({ topic: '' }) },
  { item: 1, what: 'illegal characters', code: C.ILLEGAL_TOPIC, call: send({ topic: 'a b' }) },
  { item: 1, what: 'topic of 128 chars', code: C.ILLEGAL_TOPIC, call: send({ topic: 'x'.repeat(128) }) },
  {
    item: 1,
    what: 'RMQ_SYS_ topic',
    code: C.ILLEGAL_TOPIC,
    call: send({ topic: 'RMQ_SYS_TRANS_HALF_TOPIC' }),
  },
  { item: 1, what: 'rmq_sys_ topic', code: C.ILLEGAL_TOPIC, call: send({ topic: 'rmq_sys_wheel' }) },
  { item: 1, what: 'TBW102', code: C.ILLEGAL_TOPIC, call: send({ topic: 'TBW102' }) },
  {
    item: 1,
    what: 'SCHEDULE_TOPIC_XXXX',
    code: C.ILLEGAL_TOPIC,
    call: send({ topic: 'SCHEDULE_TOPIC_XXXX' }),
  },
  { item: 1, what: 'send to a retry topic', code: C.ILLEGAL_TOPIC, call: send({ topic: '%RETRY%g' }) },
  { item: 1, what: 'topic not a string', code: C.ILLEGAL_TOPIC, call: send({ topic: 42 }) },
  { item: 1, what: 'receive from a system topic', code: C.ILLEGAL_TOPIC, call: receive({ topic: 'TBW102' }) },
  { item: 1, what: 'unknown topic', code: C.TOPIC_NOT_FOUND, call: send({ topic: 'Nope' }) },
  { item: 1, what: 'receive unknown topic', code: C.TOPIC_NOT_FOUND, call: receive({ topic: 'Nope' }) },
  // 2. groups
  { item: 2, what: 'blank group', code: C.ILLEGAL_CONSUMER_GROUP, call: receive({ group: ' ' }) },
  { item: 2, what: 'illegal group chars', code: C.ILLEGAL_CONSUMER_GROUP, call: receive({ group: 'a/b' }) },
  {
    item: 2,
    what: 'group of 121 chars',
    code: C.ILLEGAL_CONSUMER_GROUP,
    call: receive({ group: 'g'.repeat(121) }),
  },
  {
    item: 2,
    what: 'system group prefix',
    code: C.ILLEGAL_CONSUMER_GROUP,
    call: receive({ group: 'CID_RMQ_SYS_X' }),
  },
  {
    item: 2,
    what: 'predefined group',
    code: C.ILLEGAL_CONSUMER_GROUP,
    call: receive({ group: 'TOOLS_CONSUMER' }),
  },
  { item: 2, what: 'ack with a bad group', code: C.ILLEGAL_CONSUMER_GROUP, call: () => h.core.ack('', 'x') },
  // 3. request shape
  { item: 3, what: 'no messages', code: C.MESSAGE_CORRUPTED, call: () => h.core.send([]) },
  { item: 3, what: 'not a list', code: C.MESSAGE_CORRUPTED, call: () => h.core.send('x' as never) },
  { item: 3, what: 'a null message', code: C.MESSAGE_CORRUPTED, call: () => h.core.send([null] as never) },
  {
    item: 3,
    what: 'mixed topics',
    code: C.MESSAGE_CORRUPTED,
    call: () => h.core.send([msg(), msg({ topic: 'Other', messageId: 'ID-2' })]),
  },
  { item: 3, what: 'body not bytes', code: C.MESSAGE_CORRUPTED, call: send({ body: 'text' }) },
  // 4. body
  { item: 4, what: 'empty body', code: C.MESSAGE_BODY_EMPTY, call: send({ body: Buffer.alloc(0) }) },
  { item: 4, what: 'missing body', code: C.MESSAGE_BODY_EMPTY, call: send({ body: undefined }) },
  {
    item: 4,
    what: 'body of 4 MiB',
    code: C.MESSAGE_BODY_TOO_LARGE,
    call: send({ body: Buffer.alloc(4 * 1024 * 1024) }),
  },
  // 5. tag and keys
  { item: 5, what: 'whitespace tag', code: C.ILLEGAL_MESSAGE_TAG, call: send({ tag: '  ' }) },
  { item: 5, what: "tag with '|'", code: C.ILLEGAL_MESSAGE_TAG, call: send({ tag: 'a||b' }) },
  { item: 5, what: 'tag with a control char', code: C.ILLEGAL_MESSAGE_TAG, call: send({ tag: 'a\u0007' }) },
  { item: 5, what: 'tag not a string', code: C.ILLEGAL_MESSAGE_TAG, call: send({ tag: 7 }) },
  { item: 5, what: 'empty key', code: C.ILLEGAL_MESSAGE_KEY, call: send({ keys: [''] }) },
  { item: 5, what: 'blank key', code: C.ILLEGAL_MESSAGE_KEY, call: send({ keys: ['ok', ' '] }) },
  { item: 5, what: 'key with a control char', code: C.ILLEGAL_MESSAGE_KEY, call: send({ keys: ['a\n'] }) },
  { item: 5, what: 'keys not a list', code: C.ILLEGAL_MESSAGE_KEY, call: send({ keys: 'k' }) },
  // 6. message group
  { item: 6, what: 'blank message group', code: C.ILLEGAL_MESSAGE_GROUP, call: send({ messageGroup: ' ' }) },
  {
    item: 6,
    what: 'message group of 64 bytes',
    code: C.ILLEGAL_MESSAGE_GROUP,
    call: send({ messageGroup: 'm'.repeat(64) }),
  },
  {
    item: 6,
    what: 'message group with a control char',
    code: C.ILLEGAL_MESSAGE_GROUP,
    call: send({ messageGroup: 'a\u0000' }),
  },
  // 7. delivery time, transaction recovery
  {
    item: 7,
    what: 'delivery more than 1 d ahead',
    code: C.ILLEGAL_DELIVERY_TIME,
    call: send({ deliveryTimestamp: T0 + 24 * HOUR + 1 }),
  },
  {
    item: 7,
    what: 'delivery time NaN',
    code: C.ILLEGAL_DELIVERY_TIME,
    call: send({ deliveryTimestamp: NaN }),
  },
  { item: 7, what: 'delay level 19', code: C.ILLEGAL_DELIVERY_TIME, call: send({ delayLevel: 19 }) },
  { item: 7, what: 'delay level 0', code: C.ILLEGAL_DELIVERY_TIME, call: send({ delayLevel: 0 }) },
  {
    item: 7,
    what: 'delay level and timestamp',
    code: C.BAD_REQUEST,
    call: send({ delayLevel: 1, deliveryTimestamp: T0 }),
  },
  {
    item: 7,
    what: 'transaction recovery > 1 h',
    code: C.BAD_REQUEST,
    call: send({ transaction: { recoveryMs: HOUR + 1_000 } }),
  },
  // 8. properties
  {
    item: 8,
    what: '129 properties',
    code: C.MESSAGE_PROPERTIES_TOO_LARGE,
    call: send({ userProperties: Object.fromEntries(Array.from({ length: 129 }, (_, i) => [`k${i}`, 'v'])) }),
  },
  {
    item: 8,
    what: 'properties over 16 KiB',
    code: C.MESSAGE_PROPERTIES_TOO_LARGE,
    call: send({ userProperties: { big: 'v'.repeat(16 * 1024) } }),
  },
  {
    item: 8,
    what: 'tag and keys count in the 16 KiB',
    code: C.MESSAGE_PROPERTIES_TOO_LARGE,
    call: send({ userProperties: { big: 'v'.repeat(16 * 1024 - 10) }, tag: 'tag', keys: ['0123456789'] }),
  },
  {
    item: 8,
    what: 'reserved key KEYS',
    code: C.ILLEGAL_MESSAGE_PROPERTY_KEY,
    call: send({ userProperties: { KEYS: 'x' } }),
  },
  {
    item: 8,
    what: 'reserved key __SHARDINGKEY',
    code: C.ILLEGAL_MESSAGE_PROPERTY_KEY,
    call: send({ userProperties: { __SHARDINGKEY: 'x' } }),
  },
  {
    item: 8,
    what: 'reserved key TIMER_DELIVER_MS',
    code: C.ILLEGAL_MESSAGE_PROPERTY_KEY,
    call: send({ userProperties: { TIMER_DELIVER_MS: '1' } }),
  },
  {
    item: 8,
    what: 'key with a control char',
    code: C.ILLEGAL_MESSAGE_PROPERTY_KEY,
    call: send({ userProperties: { 'a\u0001': 'x' } }),
  },
  {
    item: 8,
    what: 'value with a control char',
    code: C.ILLEGAL_MESSAGE_PROPERTY_KEY,
    call: send({ userProperties: { a: 'x\u009f' } }),
  },
  {
    item: 8,
    what: 'value not a string',
    code: C.ILLEGAL_MESSAGE_PROPERTY_KEY,
    call: send({ userProperties: { a: 1 } }),
  },
  // 9. message id
  { item: 9, what: 'empty message id', code: C.ILLEGAL_MESSAGE_ID, call: send({ messageId: '' }) },
  { item: 9, what: 'blank message id', code: C.ILLEGAL_MESSAGE_ID, call: send({ messageId: '  ' }) },
  { item: 9, what: 'missing message id', code: C.ILLEGAL_MESSAGE_ID, call: send({ messageId: undefined }) },
  // 10. type vs topic
  {
    item: 10,
    what: 'FIFO to a NORMAL topic',
    code: C.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
    call: send({ topic: 'NormalOnly', messageGroup: 'a' }),
  },
  {
    item: 10,
    what: 'transaction to a NORMAL topic',
    code: C.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
    call: send({ topic: 'NormalOnly', transaction: {} }),
  },
  {
    item: 10,
    what: 'delay to a NORMAL topic',
    code: C.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
    call: send({ topic: 'NormalOnly', delayLevel: 1 }),
  },
  {
    item: 10,
    what: 'NORMAL to a FIFO topic',
    code: C.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
    call: send({ topic: 'FifoOnly' }),
  },
  {
    item: 10,
    what: 'delay + transaction',
    code: C.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
    call: send({ transaction: {}, deliveryTimestamp: T0 + 1_000 }),
  },
  {
    item: 10,
    what: 'delay + message group',
    code: C.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
    call: send({ messageGroup: 'a', delayLevel: 2 }),
  },
  {
    item: 10,
    what: 'transaction + message group',
    code: C.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
    call: send({ messageGroup: 'a', transaction: {} }),
  },
  // 11. receive parameters
  {
    item: 11,
    what: 'invisible < 10 s',
    code: C.ILLEGAL_INVISIBLE_TIME,
    call: receive({ invisibleMs: 9_999 }),
  },
  {
    item: 11,
    what: 'invisible > 12 h',
    code: C.ILLEGAL_INVISIBLE_TIME,
    call: receive({ invisibleMs: 12 * HOUR + 1 }),
  },
  { item: 11, what: 'invisible NaN', code: C.ILLEGAL_INVISIBLE_TIME, call: receive({ invisibleMs: NaN }) },
  {
    item: 11,
    what: 'bad SQL92',
    code: C.ILLEGAL_FILTER_EXPRESSION,
    call: receive({ filter: { type: 'SQL92', expression: 'a = ' } }),
  },
  {
    item: 11,
    what: 'unknown filter type',
    code: C.ILLEGAL_FILTER_EXPRESSION,
    call: receive({ filter: { type: 'REGEX', expression: '.*' } }),
  },
  // 12. handles and transactions
  {
    item: 12,
    what: 'garbage handle',
    code: C.INVALID_RECEIPT_HANDLE,
    call: () => h.core.ack('g', 'garbage!'),
  },
  {
    item: 12,
    what: 'forged handle',
    code: C.INVALID_RECEIPT_HANDLE,
    call: () => h.core.ack('g', Buffer.alloc(80, 1).toString('base64url')),
  },
  {
    item: 12,
    what: 'nack with a forged handle',
    code: C.INVALID_RECEIPT_HANDLE,
    call: () => h.core.changeInvisibleDuration('g', 'AAAA', 0),
  },
  {
    item: 12,
    what: 'blank transaction id',
    code: C.INVALID_TRANSACTION_ID,
    call: () => h.core.endTransaction('', 'ID-1', 'COMMIT', 'CLIENT'),
  },
  {
    item: 12,
    what: 'unknown transaction id',
    code: C.INVALID_TRANSACTION_ID,
    call: () => h.core.endTransaction('0123456789ABCDEF0123456789ABCDEF', 'ID-1', 'COMMIT', 'CLIENT'),
  },
];

describe('bad inputs get their RocketMQ status code (RELIABILITY.md §(d))', () => {
  it.each(rows.map((r) => [r.item, r.what, r] as const))('%i. %s', async (_item, _what, row) => {
    await expect(Promise.resolve().then(row.call)).rejects.toMatchObject({ code: row.code });
  });

  it('covers items 1 to 12', () => {
    expect(new Set(rows.map((r) => r.item))).toEqual(new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]));
  });

  it('stores nothing when one message of a request is bad', async () => {
    await expect(
      h.core.send([msg({ messageId: 'A' }), msg({ messageId: 'B', tag: 'a|b' }), msg({ messageId: 'C' })]),
    ).rejects.toMatchObject({ code: C.ILLEGAL_MESSAGE_TAG });
    expect(await h.core.queryMessageById('T', 'A')).toEqual([]);
    expect(await h.core.queryMessageById('T', 'C')).toEqual([]);
  });

  it('rejects stale, foreign and finished handles and transactions', async () => {
    h.core.createGroup('stale');
    h.core.createGroup('other');
    await h.core.send([msg({ messageId: 'S-1' })]);
    const [m] = h.core.receive({ group: 'stale', topic: 'T', invisibleMs: 30_000 });
    expect(() => h.core.ack('other', m!.receiptHandle)).toThrow(
      expect.objectContaining({ code: C.INVALID_RECEIPT_HANDLE }),
    );
    const renewed = h.core.changeInvisibleDuration('stale', m!.receiptHandle, 60_000);
    expect(() => h.core.ack('stale', m!.receiptHandle)).toThrow(
      expect.objectContaining({ code: C.INVALID_RECEIPT_HANDLE }),
    ); // replaced by the new handle
    h.core.ack('stale', renewed.receiptHandle);
    expect(h.core.ackMany('stale', [{ receiptHandle: renewed.receiptHandle, messageId: 'S-1' }])).toEqual([
      expect.objectContaining({ code: C.INVALID_RECEIPT_HANDLE }),
    ]);

    const [tx] = await h.core.send([msg({ messageId: 'TX-1', transaction: {} })]);
    if (!tx?.ok) throw new Error('send failed');
    await h.core.endTransaction(tx.transactionId!, 'TX-1', 'ROLLBACK', 'CLIENT');
    await expect(h.core.endTransaction(tx.transactionId!, 'TX-1', 'COMMIT', 'CLIENT')).rejects.toMatchObject({
      code: C.INVALID_TRANSACTION_ID,
    });
    await expect(
      h.core.endTransaction(tx.transactionId!, 'OTHER', 'ROLLBACK', 'CLIENT'),
    ).rejects.toMatchObject({
      code: C.INVALID_TRANSACTION_ID,
    });
  });

  it('clamps a batch_size over 32 as Apache’s proxy does, and refuses one that is not a positive integer with BAD_REQUEST', async () => {
    h.core.createGroup('batch');
    h.core.createTopic('Many', { queueCount: 1 });
    await h.core.send(Array.from({ length: 40 }, (_, i) => msg({ topic: 'Many', messageId: `M-${i}` })));
    for (const batchSize of [0, -1, 2.5, Number.NaN]) {
      expect(() => h.core.receive({ group: 'batch', topic: 'Many', invisibleMs: 30_000, batchSize })).toThrow(
        expect.objectContaining({ code: C.BAD_REQUEST }),
      );
    }
    expect(
      h.core.receive({ group: 'batch', topic: 'Many', invisibleMs: 30_000, batchSize: 1_000 }),
    ).toHaveLength(32);
    expect(h.core.receive({ group: 'batch', topic: 'Many', invisibleMs: 30_000 })).toHaveLength(8);
  });

  it('returns up to a configured maxReceiveBatchSize in one receive, and clamps to it', async () => {
    const big = await CoreHarness.open({ maxReceiveBatchSize: 128 });
    try {
      big.core.createTopic('Many', { queueCount: 4 });
      await big.core.send(Array.from({ length: 300 }, (_, i) => msg({ topic: 'Many', messageId: `M-${i}` })));
      expect(big.core.maxReceiveBatchSize).toBe(128);
      const receive = (batchSize?: number) =>
        big.core.receive({ group: 'batch', topic: 'Many', invisibleMs: 30_000, batchSize });
      expect(receive(1_000)).toHaveLength(128);
      expect(receive(100)).toHaveLength(100);
      expect(receive()).toHaveLength(72); // missing: the configured most; 300 − 228 left
    } finally {
      await big.close();
    }
  });

  it.each([0, 1_025, 2.5, Number.NaN])(
    'refuses maxReceiveBatchSize %s at startup',
    async (maxReceiveBatchSize) => {
      await expect(CoreHarness.open({ maxReceiveBatchSize })).rejects.toThrow(
        /maxReceiveBatchSize must be an integer in 1\.\.1024/,
      );
    },
  );
});

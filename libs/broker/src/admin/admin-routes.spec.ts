import { SECOND, T0 } from '../core/broker-core-testing.js';
import { StatusCode } from '../status-code.js';
import { AdminHarness } from './admin-testing.js';

describe('admin API: topics', () => {
  // One broker for the block (opening one costs seconds); each test uses its own names.
  let a: AdminHarness;
  beforeAll(async () => {
    a = await AdminHarness.open();
  });
  afterAll(() => a.close());

  it('creates a topic (201), refuses to create it twice (409) and shows it', async () => {
    const created = await a.call('POST', '/topics', {
      body: { name: 'orders-t1', queueCount: 4, messageTypes: ['FIFO'] },
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      name: 'orders-t1',
      kind: 'user',
      queueCount: 4,
      messageTypes: ['FIFO'],
      createdAt: T0,
    });
    const again = await a.call('POST', '/topics', { body: { name: 'orders-t1' } });
    expect(again.status).toBe(409);
    expect(again.json).toEqual({ code: StatusCode.BAD_REQUEST, message: 'topic "orders-t1" already exists' });
    const shown = await a.call('GET', '/topics/orders-t1');
    expect(shown.status).toBe(200);
    expect(shown.json).toEqual(created.json);
  });

  it('names the bad field of a create request', async () => {
    const reply = await a.call('POST', '/topics', { body: { name: 'orders-t2', queueCount: 0 } });
    expect(reply.status).toBe(400);
    expect(reply.json).toEqual({
      code: StatusCode.BAD_REQUEST,
      message: 'queueCount must be an integer 1..1024, got 0',
    });
    const unknown = await a.call('POST', '/topics', { body: { name: 'orders-t2', partitions: 3 } });
    expect(unknown.json).toMatchObject({
      message: expect.stringMatching(/^partitions is not a known setting/),
    });
    const none = await a.call('POST', '/topics');
    expect(none.status).toBe(400);
    expect(none.json).toMatchObject({ message: 'must be an object, got nothing' });
    const reserved = await a.call('POST', '/topics', { body: { name: 'RMQ_SYS_TRACE_TOPIC' } });
    expect(reserved.status).toBe(400);
    expect(a.h.core.getTopic('orders-t2')).toBeUndefined();
  });

  it('PUT creates (201), then updates (200), and is a no-op when nothing differs', async () => {
    const created = await a.call('PUT', '/topics/orders-t3', { body: { queueCount: 2 } });
    expect(created.status).toBe(201);
    const grown = await a.call('PUT', '/topics/orders-t3', {
      body: { queueCount: 6, messageTypes: ['NORMAL', 'DELAY'] },
    });
    expect(grown.status).toBe(200);
    expect(grown.json).toMatchObject({ queueCount: 6, messageTypes: ['DELAY', 'NORMAL'] });
    const same = await a.call('PUT', '/topics/orders-t3', { body: { queueCount: 6 } });
    expect(same.status).toBe(200);
    expect(same.json).toEqual(grown.json);
    const empty = await a.call('PUT', '/topics/orders-t3');
    expect(empty.status).toBe(200);
  });

  it('refuses a PUT that shrinks the queues or names another topic', async () => {
    await a.call('PUT', '/topics/orders-t4', { body: { queueCount: 4 } });
    const shrink = await a.call('PUT', '/topics/orders-t4', { body: { queueCount: 2 } });
    expect(shrink.status).toBe(400);
    expect(shrink.json).toMatchObject({
      code: StatusCode.BAD_REQUEST,
      message: expect.stringMatching(/cannot shrink/),
    });
    const other = await a.call('PUT', '/topics/orders-t4', { body: { name: 'payments' } });
    expect(other.status).toBe(400);
    expect(other.json).toMatchObject({ message: 'name "payments" differs from "orders-t4" in the URL' });
    const bad = await a.call('PUT', '/topics/a%20b');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      message: expect.stringMatching(/^name is invalid: illegal topic "a b"/),
    });
  });

  it('lists topics, with or without retry and DLQ topics', async () => {
    a.h.core.createTopic('orders-t5');
    a.h.core.createGroup('billing');
    a.h.receive('billing', 'orders-t5');
    const names = (json: unknown) => (json as { topics: { name: string }[] }).topics.map((t) => t.name);
    const all = await a.call('GET', '/topics');
    expect(names(all.json)).toEqual(
      expect.arrayContaining(['%DLQ%billing', '%RETRY%billing_orders-t5', 'orders-t5']),
    );
    expect(names(all.json)).toEqual([...names(all.json)].sort());
    const user = await a.call('GET', '/topics?includeRetryAndDlq=false');
    expect(names(user.json)).toContain('orders-t5');
    expect(names(user.json).filter((n) => n.startsWith('%'))).toEqual([]);
    const dlq = await a.call('GET', `/topics/${encodeURIComponent('%DLQ%billing')}`);
    expect(dlq.json).toMatchObject({ name: '%DLQ%billing', kind: 'dlq', queueCount: 1 });
  });

  it('deletes a topic (204), then answers 404 TOPIC_NOT_FOUND', async () => {
    a.h.core.createTopic('orders-t6');
    const deleted = await a.call('DELETE', '/topics/orders-t6');
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect(a.h.core.getTopic('orders-t6')).toBeUndefined();
    for (const method of ['DELETE', 'GET']) {
      const missing = await a.call(method, '/topics/orders-t6');
      expect(missing.status).toBe(404);
      expect(missing.json).toEqual({
        code: StatusCode.TOPIC_NOT_FOUND,
        message: 'topic "orders-t6" does not exist',
      });
    }
    const system = await a.call('DELETE', '/topics/TBW102');
    expect(system.status).toBe(400);
    expect(system.json).toMatchObject({ code: StatusCode.ILLEGAL_TOPIC });
  });
});

describe('admin API: groups, lag and offsets', () => {
  let a: AdminHarness;
  beforeEach(async () => {
    a = await AdminHarness.open();
  });
  afterEach(() => a.close());

  it('creates a group, refuses a second create, and PUT makes an existing group FIFO', async () => {
    const created = await a.call('POST', '/groups', {
      body: { name: 'billing', maxDeliveryAttempts: 3, retryBackoff: { initial: '1s', max: '4s' } },
    });
    expect(created.status).toBe(201);
    expect(created.json).toEqual({
      name: 'billing',
      fifo: false,
      maxDeliveryAttempts: 3,
      retryBackoffMs: [1_000, 2_000, 4_000],
      consumeFrom: { kind: 'first' },
      createdAt: T0,
    });
    expect((await a.call('POST', '/groups', { body: { name: 'billing' } })).status).toBe(409);
    const fifo = await a.call('PUT', '/groups/billing', { body: { fifo: true } });
    expect(fifo.status).toBe(200);
    expect(fifo.json).toMatchObject({ fifo: true, maxDeliveryAttempts: 3 });
    expect(a.h.core.getGroup('billing')!.fifo).toBe(true);
    const shown = await a.call('GET', '/groups/billing');
    expect(shown.json).toMatchObject({ name: 'billing', fifo: true, inFlight: 0 });
    const list = await a.call('GET', '/groups');
    expect((list.json as { groups: { name: string }[] }).groups.map((g) => g.name)).toEqual(['billing']);
  });

  it('PUT creates a missing group (201) and names a bad field', async () => {
    const created = await a.call('PUT', '/groups/orderly', { body: { fifo: true } });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ name: 'orderly', fifo: true });
    const bad = await a.call('PUT', '/groups/orderly', { body: { consumeFrom: 'oldest' } });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({
      message: expect.stringMatching(/^consumeFrom must be "first", "last"/),
    });
    const system = await a.call('PUT', '/groups/CID_RMQ_SYS_TRANS');
    expect(system.status).toBe(400);
  });

  it('deletes a group (204), then answers 404 CONSUMER_GROUP_NOT_FOUND', async () => {
    a.h.core.createGroup('billing');
    expect((await a.call('DELETE', '/groups/billing')).status).toBe(204);
    const missing = await a.call('GET', '/groups/billing');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      code: StatusCode.CONSUMER_GROUP_NOT_FOUND,
      message: 'consumer group "billing" does not exist',
    });
    expect((await a.call('DELETE', '/groups/billing')).status).toBe(404);
  });

  it('reports lag per queue, and a reset to a timestamp brings consumed messages back', async () => {
    a.h.core.createTopic('orders', { queueCount: 2 });
    a.h.core.createGroup('billing');
    for (let i = 0; i < 3; i++) await a.h.send('orders', { queueId: 0 } as never);
    await a.h.send('orders');
    const before = await a.call('GET', '/groups/billing/lag?topic=orders');
    expect(before.status).toBe(200);
    const lag = before.json as {
      total: number;
      queues: { queueId: number; lag: number; committedOffset: number | null }[];
    };
    expect(lag.total).toBe(4);
    expect(lag.queues.map((q) => q.queueId)).toEqual([0, 1]);
    expect(lag.queues.every((q) => q.committedOffset === null)).toBe(true);

    expect(a.h.drain('billing', 'orders')).toHaveLength(4);
    const after = await a.call('GET', '/groups/billing/lag?topic=orders');
    expect(after.json).toMatchObject({ group: 'billing', topic: 'orders', total: 0 });

    const reset = await a.call('POST', '/groups/billing/reset-offsets', {
      body: { topic: 'orders', timestamp: new Date(T0 - SECOND).toISOString() },
    });
    expect(reset.status).toBe(200);
    expect(reset.json).toMatchObject({ group: 'billing', topic: 'orders', timestamp: T0 - SECOND });
    expect((reset.json as { offsets: unknown[] }).offsets).toEqual([
      { queueId: 0, offset: 0 },
      { queueId: 1, offset: 0 },
    ]);
    expect((await a.call('GET', '/groups/billing/lag?topic=orders')).json).toMatchObject({ total: 4 });
    expect(a.h.drain('billing', 'orders')).toHaveLength(4);
  });

  it('answers lag and reset errors with the core status codes', async () => {
    a.h.core.createTopic('orders');
    const noTopic = await a.call('GET', '/groups/billing/lag');
    expect(noTopic.status).toBe(400);
    expect(noTopic.json).toEqual({
      code: StatusCode.BAD_REQUEST,
      message: 'query parameter "topic" is required',
    });
    const noGroup = await a.call('GET', '/groups/billing/lag?topic=orders');
    expect(noGroup.status).toBe(404);
    expect(noGroup.json).toMatchObject({ code: StatusCode.CONSUMER_GROUP_NOT_FOUND });
    a.h.core.createGroup('billing');
    const missingTopic = await a.call('GET', '/groups/billing/lag?topic=payments');
    expect(missingTopic.json).toMatchObject({ code: StatusCode.TOPIC_NOT_FOUND });
    const badTime = await a.call('POST', '/groups/billing/reset-offsets', {
      body: { topic: 'orders', timestamp: 'yesterday' },
    });
    expect(badTime.status).toBe(400);
    expect(badTime.json).toMatchObject({
      message: expect.stringMatching(/^timestamp must be milliseconds since the epoch/),
    });
    const extra = await a.call('POST', '/groups/billing/reset-offsets', {
      body: { topic: 'orders', timestamp: 0, queue: 1 },
    });
    expect(extra.json).toMatchObject({ message: expect.stringMatching(/^queue is not a known setting/) });
  });
});

describe('admin API: messages and dead letters', () => {
  let a: AdminHarness;
  beforeEach(async () => {
    a = await AdminHarness.open();
  });
  afterEach(() => a.close());

  it('finds a message by id and by key, with its body in base64 and its metadata', async () => {
    await a.h.send('orders', {
      messageId: 'ID-1',
      body: Buffer.from([0, 1, 2, 255]),
      tag: 'paid',
      keys: ['order-7'],
      userProperties: { region: 'eu' },
    });
    const byId = await a.call('GET', '/messages/ID-1');
    expect(byId.status).toBe(200);
    const [message] = (byId.json as { messages: Record<string, unknown>[] }).messages;
    expect(message).toMatchObject({
      messageId: 'ID-1',
      topic: 'orders',
      tag: 'paid',
      keys: ['order-7'],
      userProperties: { region: 'eu' },
      bodySize: 4,
      body: Buffer.from([0, 1, 2, 255]).toString('base64'),
      messageGroup: null,
      storeTimestamp: expect.any(Number),
    });
    expect(message).not.toHaveProperty('deadLetter');
    const byKey = await a.call('GET', '/messages?topic=orders&key=order-7');
    expect((byKey.json as { messages: unknown[] }).messages).toEqual([message]);
    const noKey = await a.call('GET', '/messages?topic=orders&key=order-8');
    expect(noKey.json).toEqual({ messages: [] });
    const inOther = await a.call('GET', '/messages/ID-1?topic=payments');
    expect(inOther.status).toBe(404);
  });

  it('answers 404 MESSAGE_NOT_FOUND for an unknown id and 400 for bad query input', async () => {
    const missing = await a.call('GET', '/messages/NOPE');
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({
      code: StatusCode.MESSAGE_NOT_FOUND,
      message: 'no stored message has id "NOPE"',
    });
    const noTopic = await a.call('GET', '/messages?key=k');
    expect(noTopic.json).toEqual({
      code: StatusCode.BAD_REQUEST,
      message: 'query parameter "topic" is required',
    });
    const badMax = await a.call('GET', '/messages?topic=t&key=k&max=0');
    expect(badMax.json).toMatchObject({ message: 'query parameter "max" must be an integer 1..64, got "0"' });
    const badTopic = await a.call('GET', '/messages?topic=a%20b&key=k');
    expect(badTopic.json).toMatchObject({ code: StatusCode.ILLEGAL_TOPIC });
  });

  /** Sends a message, receives it as `group` and forwards it to the group's DLQ. */
  async function deadLetter(id: string, body: string): Promise<void> {
    await a.h.send('orders', { messageId: id, body: Buffer.from(body) });
    const [received] = a.h.receive('billing', 'orders', { batchSize: 1 });
    await a.h.core.forwardToDeadLetter('billing', received!.receiptHandle, 'handler kept failing');
  }

  it('lists dead letters page by page with where they came from, without consuming them', async () => {
    a.h.core.createGroup('billing');
    await deadLetter('DL-1', 'first');
    await deadLetter('DL-2', 'second');
    const reply = await a.call('GET', '/groups/billing/dlq?from=0&limit=1');
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({
      group: 'billing',
      topic: '%DLQ%billing',
      minOffset: 0,
      maxOffset: 2,
      nextOffset: 1,
    });
    const [message] = (reply.json as { messages: Record<string, unknown>[] }).messages;
    expect(message).toMatchObject({
      messageId: 'DL-1',
      topic: '%DLQ%billing',
      body: Buffer.from('first').toString('base64'),
      deadLetter: {
        originTopic: 'orders',
        deliveryAttempts: 1,
        lastError: 'handler kept failing',
        deadLetteredAt: T0,
      },
    });
    const next = await a.call('GET', '/groups/billing/dlq?from=1');
    expect((next.json as { messages: { messageId: string }[] }).messages.map((m) => m.messageId)).toEqual([
      'DL-2',
    ]);
    const defaults = await a.call('GET', '/groups/billing/dlq');
    expect((defaults.json as { messages: unknown[] }).messages).toHaveLength(2); // still there
    const tooMany = await a.call('GET', '/groups/billing/dlq?limit=101');
    expect(tooMany.status).toBe(400);
    const unknownGroup = await a.call('GET', '/groups/nobody/dlq');
    expect(unknownGroup.status).toBe(404);
  });

  it('resends all dead letters, or only the ones named, to the topic they came from', async () => {
    a.h.core.createGroup('billing');
    await deadLetter('DL-1', 'first');
    await deadLetter('DL-2', 'second');
    expect(a.h.drain('billing', 'orders')).toEqual([]);

    const one = await a.call('POST', '/groups/billing/dlq/resend', { body: { messageIds: ['DL-2'] } });
    expect(one.status).toBe(200);
    expect(one.json).toEqual({ group: 'billing', resent: 1 });
    await a.h.advance(0);
    expect(a.h.drain('billing', 'orders')).toEqual(['second']);

    const all = await a.call('POST', '/groups/billing/dlq/resend');
    expect(all.json).toEqual({ group: 'billing', resent: 2 });
    await a.h.advance(0);
    expect(a.h.drain('billing', 'orders').sort()).toEqual(['first', 'second']);
  });

  it('refuses a resend naming no ids, bad ids, or an unknown group', async () => {
    a.h.core.createGroup('billing');
    const empty = await a.call('POST', '/groups/billing/dlq/resend', { body: { messageIds: [] } });
    expect(empty.status).toBe(400);
    expect(empty.json).toMatchObject({
      message: 'messageIds must name 1..1000 ids (leave it out to resend all), got 0',
    });
    const notString = await a.call('POST', '/groups/billing/dlq/resend', { body: { messageIds: [7] } });
    expect(notString.json).toMatchObject({ message: 'messageIds[0] must be a non-empty string, got 7' });
    const unknown = await a.call('POST', '/groups/nobody/dlq/resend');
    expect(unknown.status).toBe(404);
    expect(unknown.json).toMatchObject({ code: StatusCode.CONSUMER_GROUP_NOT_FOUND });
  });

  it('reports health and, with the token if any, status counters', async () => {
    expect((await a.call('GET', '/health')).json).toEqual({ status: 'ok' });
    a.h.core.createTopic('orders');
    const status = await a.call('GET', '/status');
    expect(status.json).toEqual({
      status: 'ok',
      epoch: a.h.core.epoch,
      topics: 1,
      groups: 0,
      pendingTimers: 0,
      pendingTransactions: 0,
    });
  });
});

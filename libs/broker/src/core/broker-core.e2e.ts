/**
 * User-visible behaviour of issue 3 through the BrokerCore facade: a real store in a temp directory,
 * the real timer and transaction services, a ManualClock.
 */
import { StatusCode } from '../status-code.js';
import { BrokerCore } from './broker-core.js';
import { CoreHarness, HOUR, MINUTE, SECOND, T0, settle } from './broker-core-testing.js';
import {
  DELIVERY_ATTEMPTS_PROPERTY,
  DLQ_ORIGIN_TOPIC_PROPERTY,
  LAST_ERROR_PROPERTY,
  MESSAGE_GROUP_PROPERTY,
} from './consume/names.js';
import { type ReceivedMessage } from './consume/types.js';
import { DELAY_LEVELS_MS, SCHEDULE_TOPIC, TRANS_HALF_TOPIC } from './limits.js';
import { type SendRequest } from './send-path.js';
import { TIMER_DELIVER_MS } from './timer/timer-message.js';
import * as packageBarrel from '../index.js';

let h: CoreHarness;
afterEach(async () => {
  await h?.close();
});

function bodies(got: readonly ReceivedMessage[]): string[] {
  return got.map((m) => m.message.body.toString());
}

describe('BrokerCore: send, receive, ack', () => {
  beforeEach(async () => {
    h = await CoreHarness.open();
  });

  it('delivers a sent message once, with its fields, and forgets it after the ack', async () => {
    const sent = await h.send('orders', {
      tag: 'created',
      keys: ['order-1'],
      userProperties: { amount: '10' },
      bornHost: '10.0.0.1:4000',
    });
    expect(sent).toMatchObject({ ok: true, messageId: 'MSG-0', messageType: 'NORMAL', queueOffset: 0 });
    expect(h.core.getTopic('orders')).toMatchObject({ kind: 'user', queueCount: 8 }); // auto-created MIXED

    const [m, ...rest] = h.receive('g', 'orders');
    expect(rest).toEqual([]);
    expect(m!.deliveryAttempt).toBe(1);
    expect(m!.message).toMatchObject({
      topic: 'orders',
      messageId: 'MSG-0',
      tag: 'created',
      keys: ['order-1'],
      userProperties: { amount: '10' },
      bornHost: '10.0.0.1:4000',
      bornTimestamp: T0,
    });
    expect(m!.queue.queueId).toBe(sent.ok ? sent.queueId : -1);
    expect(h.receive('g', 'orders')).toEqual([]); // leased: invisible
    h.core.ack('g', m!.receiptHandle);
    expect(() => h.core.ack('g', m!.receiptHandle)).toThrow(
      expect.objectContaining({ code: StatusCode.INVALID_RECEIPT_HANDLE }),
    );
    await h.advance(HOUR);
    expect(h.receive('g', 'orders')).toEqual([]);
    expect(h.core.lag('g', 'orders').total).toBe(0);
    expect(h.core.getGroup('g')).toMatchObject({ fifo: false, maxDeliveryAttempts: 17 }); // auto-created
  });

  it('spreads a batch over the queues, stores it in one go and filters by tag', async () => {
    const results = await h.core.send(
      Array.from({ length: 16 }, (_, i) => h.message('spread', { tag: i % 2 === 0 ? 'even' : 'odd' })),
    );
    expect(results.every((r) => r.ok)).toBe(true);
    expect(new Set(results.map((r) => (r.ok ? r.queueId : -1))).size).toBe(8);
    const even = h.receive('g', 'spread', { filter: { type: 'TAG', expression: 'even' } });
    expect(even).toHaveLength(8);
    expect(even.every((m) => m.message.tag === 'even')).toBe(true);
    const sql = h.receive('g2', 'spread', { filter: { type: 'SQL92', expression: "TAGS = 'odd'" } });
    expect(sql).toHaveLength(8);
  });

  it('long-polls: an empty receive waits for the next send', async () => {
    const waiting = h.core.receiveOrWait(
      { group: 'g', topic: 'poll', invisibleMs: 30 * SECOND },
      20 * SECOND,
    );
    await settle();
    await h.send('poll');
    const got = await waiting;
    expect(bodies(got)).toEqual(['body 0']);
    const empty = h.core.receiveOrWait({ group: 'g', topic: 'poll', invisibleMs: 30 * SECOND }, 5 * SECOND);
    await h.advance(5 * SECOND);
    await expect(empty).resolves.toEqual([]);
  });

  it('long-polls: a message reaches a parked receive of every group at once; the other receives keep waiting', async () => {
    const park = (group: string) =>
      h.core.receiveOrWait({ group, topic: 'wake', invisibleMs: 30 * SECOND }, 20 * SECOND);
    const settled: string[] = [];
    const parked = [
      ...Array.from({ length: 4 }, (_, i) => park('gw').then((got) => settled.push(`gw${i}:${got.length}`))),
      park('gx').then((got) => settled.push(`gx:${got.length}`)),
    ];
    await settle();
    await h.send('wake');
    await settle();
    // Before any poll ends: the oldest receive of each group took it (long-poll.spec.ts proves that
    // only as many wake as messages arrived).
    expect(settled.sort()).toEqual(['gw0:1', 'gx:1']);
    await h.advance(20 * SECOND);
    await Promise.all(parked);
    expect(settled.sort()).toEqual(['gw0:1', 'gw1:0', 'gw2:0', 'gw3:0', 'gx:1']);
  });

  it('hides broker-internal topics from listings and exports the core from the package barrel', async () => {
    await h.send('visible', { deliveryTimestamp: T0 + MINUTE });
    await h.send('visible', { transaction: {} });
    h.receive('g', 'visible');
    const names = h.core.listTopics().map((t) => t.name);
    expect(names).toEqual(['%DLQ%g', '%RETRY%g_visible', 'visible']);
    expect(h.core.listTopics({ includeRetryAndDlq: false }).map((t) => t.name)).toEqual(['visible']);
    expect(names).not.toContain(SCHEDULE_TOPIC);
    expect(names).not.toContain(TRANS_HALF_TOPIC);
    expect(packageBarrel.BrokerCore).toBe(BrokerCore);
    expect(packageBarrel.StatusCode).toBe(StatusCode);
  });
});

describe('BrokerCore: FIFO', () => {
  beforeEach(async () => {
    h = await CoreHarness.open();
  });

  it('keeps each message group in order across many groups and queues, one in flight per group', async () => {
    h.core.createGroup('fifo', { fifo: true, retryBackoffMs: [SECOND] });
    const groups = Array.from({ length: 12 }, (_, i) => `group-${i}`);
    const perGroup = 10;
    const batch: SendRequest[] = [];
    for (let k = 0; k < perGroup; k++) {
      for (const g of groups)
        batch.push(h.message('fifo-topic', { messageGroup: g, userProperties: { seq: String(k) } }));
    }
    const results = await h.core.send(batch);
    expect(results.every((r) => r.ok && r.messageType === 'FIFO')).toBe(true);
    // One group, one queue.
    const queueOf = new Map<string, number>();
    results.forEach((r, i) => {
      const g = batch[i]!.messageGroup!;
      if (r.ok) expect(queueOf.get(g) ?? r.queueId).toBe(r.queueId);
      if (r.ok) queueOf.set(g, r.queueId);
    });

    const seen = new Map<string, number[]>(groups.map((g) => [g, []]));
    let round = 0;
    let expiredOnce = false;
    while ([...seen.values()].some((s) => s.length < perGroup)) {
      if (++round > 200) throw new Error('FIFO consumption stalled');
      const got = h.receive('fifo', 'fifo-topic', { batchSize: 32 });
      const inBatch = new Set<string>();
      for (const m of got) {
        const g = m.message.systemProperties[MESSAGE_GROUP_PROPERTY]!;
        expect(inBatch.has(g)).toBe(false); // never two of one group in flight
        inBatch.add(g);
        // Let one delivery expire once: it must come back before anything later of its group.
        if (!expiredOnce && g === 'group-3' && m.message.userProperties['seq'] === '4') {
          expiredOnce = true;
          continue;
        }
        seen.get(g)!.push(Number(m.message.userProperties['seq']));
        h.core.ack('fifo', m.receiptHandle);
      }
      if (got.length === 0) await h.advance(31 * SECOND);
    }
    for (const s of seen.values()) expect(s).toEqual(Array.from({ length: perGroup }, (_, i) => i));
    expect(expiredOnce).toBe(true);
  });
});

describe('BrokerCore: retry and dead letters', () => {
  beforeEach(async () => {
    h = await CoreHarness.open();
  });

  it('a nacked message comes back after the backoff with attempt 2, through the durable timer', async () => {
    await h.send('work', { tag: 't', userProperties: { p: '1' } });
    const [first] = h.receive('g', 'work');
    h.core.changeInvisibleDuration('g', first!.receiptHandle, 0); // nack
    await settle();
    expect(h.core.pendingTimers).toBe(1); // the retry copy waits in the timer, not in memory
    await h.advance(10 * SECOND - 1);
    expect(h.receive('g', 'work')).toEqual([]); // RocketMQ's first backoff step: 10 s
    await h.advance(1);
    const [again] = h.receive('g', 'work');
    expect(again!.deliveryAttempt).toBe(2);
    expect(again!.message).toMatchObject({
      topic: 'work',
      messageId: 'MSG-0',
      tag: 't',
      userProperties: { p: '1' },
    });
    expect(again!.queue.topic).toBe('%RETRY%g_work');
    h.core.ack('g', again!.receiptHandle);
    await h.advance(HOUR);
    expect(h.receive('g', 'work')).toEqual([]);
  });

  it('an expired lease counts as a failed attempt too', async () => {
    h.core.createGroup('g', { retryBackoffMs: [5 * SECOND] });
    await h.send('work');
    h.receive('g', 'work', { invisibleMs: 20 * SECOND });
    await h.advance(20 * SECOND + 5 * SECOND);
    const [again] = h.receive('g', 'work');
    expect(again!.deliveryAttempt).toBe(2);
  });

  it('moves a message to %DLQ%<group> after max attempts, with its history; resend puts it back', async () => {
    h.core.createGroup('g', { maxDeliveryAttempts: 3, retryBackoffMs: [SECOND] });
    await h.send('work', { keys: ['k1'], userProperties: { p: '1' } });
    await h.send('work', { keys: ['k2'] });
    for (let attempt = 1; attempt <= 3; attempt++) {
      const got = h.receive('g', 'work');
      const mine = got.find((m) => m.message.messageId === 'MSG-0')!;
      for (const other of got.filter((m) => m !== mine)) h.core.ack('g', other.receiptHandle);
      expect(mine.deliveryAttempt).toBe(attempt);
      h.core.changeInvisibleDuration('g', mine.receiptHandle, 0);
      await h.advance(SECOND);
    }
    expect(h.receive('g', 'work')).toEqual([]);

    // The DLQ is a topic like any other: consumable, listed, queryable.
    const [dead] = h.receive('inspector', '%DLQ%g');
    expect(dead!.message).toMatchObject({ messageId: 'MSG-0', keys: ['k1'], userProperties: { p: '1' } });
    expect(dead!.message.systemProperties).toMatchObject({
      [DLQ_ORIGIN_TOPIC_PROPERTY]: 'work',
      [DELIVERY_ATTEMPTS_PROPERTY]: '3',
    });
    expect(dead!.message.systemProperties[LAST_ERROR_PROPERTY]).toMatch(/negatively acknowledged/);
    const copies = await h.core.queryMessageById(undefined, 'MSG-0');
    expect(copies.map((m) => m.topic)).toEqual(['work', '%RETRY%g_work', '%RETRY%g_work', '%DLQ%g']);
    expect((await h.core.queryMessageById('%DLQ%g', 'MSG-0')).map((m) => m.topic)).toEqual(['%DLQ%g']);

    expect(await h.core.resendFromDeadLetter('g', ['MSG-0'])).toBe(1);
    const [back] = h.receive('g', 'work');
    expect(back!.message.messageId).toBe('MSG-0');
    expect(back!.deliveryAttempt).toBe(1);
    expect(back!.queue.topic).toBe('work');
    h.core.ack('g', back!.receiptHandle);
    expect(h.core.lag('g', 'work').total).toBe(0);
  });

  it('ForwardMessageToDeadLetterQueue dead-letters at once', async () => {
    await h.send('work');
    const [m] = h.receive('g', 'work');
    await h.core.forwardToDeadLetter('g', m!.receiptHandle, 'poison');
    expect(h.receive('g', 'work')).toEqual([]);
    const [dead] = h.receive('inspector', '%DLQ%g');
    expect(dead!.message.systemProperties[LAST_ERROR_PROPERTY]).toBe('poison');
    expect(await h.core.resendFromDeadLetter('g')).toBe(1);
    expect(h.drain('g', 'work')).toEqual(['body 0']);
  });

  it('browsing the DLQ pages through dead letters without consuming them; bad pages are BAD_REQUEST', async () => {
    for (let i = 0; i < 3; i++) await h.send('work');
    // Forwarded in id order: a receive starts at a rotating queue, and the DLQ keeps forwarding order.
    const got = h.receive('g', 'work').sort((a, b) => a.message.messageId.localeCompare(b.message.messageId));
    for (const m of got) await h.core.forwardToDeadLetter('g', m.receiptHandle, 'poison');
    const first = h.core.browseQueue('%DLQ%g', 0, 0, 2);
    expect(first.messages.map((m) => m.messageId)).toEqual(['MSG-0', 'MSG-1']);
    expect(first).toMatchObject({ nextOffset: 2, minOffset: 0, maxOffset: 3 });
    const second = h.core.browseQueue('%DLQ%g', 0, first.nextOffset, 100);
    expect(second.messages.map((m) => m.messageId)).toEqual(['MSG-2']);
    // Nothing was consumed: a consumer of the DLQ still gets all three.
    expect(h.receive('inspector', '%DLQ%g')).toHaveLength(3);
    expect(h.core.browseQueue('%DLQ%nobody', 0, 0, 10).messages).toEqual([]);
    for (const [queueId, from, count] of [
      [-1, 0, 1],
      [0, -1, 1],
      [0, 0, 0],
      [0, 0, 101],
      [0, 1.5, 1],
    ] as const) {
      expect(() => h.core.browseQueue('%DLQ%g', queueId, from, count)).toThrow(
        expect.objectContaining({ code: StatusCode.BAD_REQUEST }),
      );
    }
    expect(() => h.core.browseQueue('SCHEDULE_TOPIC_XXXX', 0, 0, 1)).toThrow(
      expect.objectContaining({ code: StatusCode.ILLEGAL_TOPIC }),
    );
  });
});

describe('BrokerCore: delayed messages', () => {
  beforeEach(async () => {
    h = await CoreHarness.open();
  });

  it('delivers by delay level and by delivery timestamp, not before', async () => {
    const level = await h.send('later', { delayLevel: 2 }); // 5 s
    const at = await h.send('later', { deliveryTimestamp: T0 + 90 * SECOND });
    const past = await h.send('later', { deliveryTimestamp: T0 - HOUR }); // a past time means now
    expect(level).toMatchObject({
      ok: true,
      messageType: 'DELAY',
      deliverAt: T0 + DELAY_LEVELS_MS[1]!,
    });
    // Parked: the offset of its timer record (as RocketMQ answers); due at once: its real offset.
    expect(level.ok && level.queueOffset).toBeGreaterThanOrEqual(0);
    expect(past).toMatchObject({ ok: true, queueOffset: 0 });
    expect(at).toMatchObject({ ok: true, messageType: 'DELAY', deliverAt: T0 + 90 * SECOND });
    expect(past).toMatchObject({ ok: true, deliverAt: T0 });
    await settle();
    expect(h.drain('g', 'later')).toEqual(['body 2']);
    expect(await h.core.queryMessageById(undefined, 'MSG-1')).toEqual([]); // parked copies are hidden

    await h.advance(5 * SECOND - 1);
    expect(h.receive('g', 'later')).toEqual([]);
    await h.advance(1);
    const [byLevel] = h.receive('g', 'later');
    expect(byLevel!.message.messageId).toBe('MSG-0');
    expect(byLevel!.message.systemProperties[TIMER_DELIVER_MS]).toBe(String(T0 + 5 * SECOND));
    h.core.ack('g', byLevel!.receiptHandle);

    await h.advance(85 * SECOND - 1);
    expect(h.receive('g', 'later')).toEqual([]);
    await h.advance(1);
    expect(h.drain('g', 'later')).toEqual(['body 1']);
    expect((await h.core.queryMessageById('later', 'MSG-1')).map((m) => m.topic)).toEqual(['later']);
  });
});

describe('BrokerCore: transactions', () => {
  beforeEach(async () => {
    h = await CoreHarness.open();
  });

  it('commit makes a half message visible; rollback drops it; repeats are idempotent', async () => {
    const commit = await h.send('tx', { transaction: { producerGroup: 'shop' } });
    const rollback = await h.send('tx', { transaction: {} });
    if (!commit.ok || !rollback.ok) throw new Error('send failed');
    expect(commit.transactionId).toMatch(/^[0-9A-F]{32}$/);
    expect(commit.messageType).toBe('TRANSACTION');
    expect(h.core.pendingTransactions).toBe(2);
    expect(h.receive('g', 'tx')).toEqual([]);
    expect(await h.core.queryMessageById(undefined, 'MSG-0')).toEqual([]); // the half is hidden

    await h.core.endTransaction(commit.transactionId!, 'MSG-0', 'COMMIT', 'CLIENT');
    await h.core.endTransaction(commit.transactionId!, 'MSG-0', 'COMMIT', 'CLIENT'); // idempotent
    await h.core.endTransaction(rollback.transactionId!, 'MSG-1', 'ROLLBACK', 'CLIENT');
    await expect(
      h.core.endTransaction(rollback.transactionId!, 'MSG-1', 'COMMIT', 'CLIENT'),
    ).rejects.toMatchObject({
      code: StatusCode.INVALID_TRANSACTION_ID,
    });
    expect(h.drain('g', 'tx')).toEqual(['body 0']);
    await h.advance(HOUR);
    expect(h.checks).toEqual([]);
    expect(h.receive('g', 'tx')).toEqual([]);
  });

  it('checks an unresolved half back after 6 s, then every 30 s; the answer commits it', async () => {
    const sent = await h.send('tx', { transaction: { producerGroup: 'shop' } });
    if (!sent.ok) throw new Error('send failed');
    await h.advance(6 * SECOND - 1);
    expect(h.checks).toEqual([]);
    await h.advance(1);
    expect(h.checks).toHaveLength(1);
    expect(h.checks[0]).toMatchObject({
      transactionId: sent.transactionId,
      producerGroup: 'shop',
      topic: 'tx',
      attempt: 1,
    });
    expect(h.checks[0]!.message.body.toString()).toBe('body 0');
    await h.advance(30 * SECOND);
    expect(h.checks.map((c) => c.attempt)).toEqual([1, 2]);

    await h.core.endTransaction(sent.transactionId!, 'MSG-0', 'COMMIT', 'SERVER_CHECK');
    expect(h.drain('g', 'tx')).toEqual(['body 0']);
    await h.advance(5 * MINUTE);
    expect(h.checks).toHaveLength(2);
  });

  it('rolls back after 15 unanswered check-backs', async () => {
    const sent = await h.send('tx', { transaction: {} });
    if (!sent.ok) throw new Error('send failed');
    for (let i = 0; i < 16; i++) await h.advance(30 * SECOND);
    expect(h.checks).toHaveLength(15);
    expect(h.core.pendingTransactions).toBe(0);
    await h.core.endTransaction(sent.transactionId!, 'MSG-0', 'ROLLBACK', 'CLIENT'); // agrees: OK
    expect(h.receive('g', 'tx')).toEqual([]);
  });
});

describe('BrokerCore: backlog tools', () => {
  beforeEach(async () => {
    h = await CoreHarness.open();
  });

  it('reports lag per queue and resets a group to a timestamp', async () => {
    h.core.createTopic('log', { queueCount: 2 });
    h.core.createGroup('g');
    await h.core.send([h.message('log'), h.message('log'), h.message('log'), h.message('log')]);
    let lag = h.core.lag('g', 'log');
    expect(lag.total).toBe(4);
    expect(lag.queues.map((q) => [q.queueId, q.lag])).toEqual([
      [0, 2],
      [1, 2],
    ]);
    // Store timestamps are wall-clock: make sure the second batch is stored strictly later.
    await new Promise((resolve) => setTimeout(resolve, 5));
    const cut = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    await h.core.send([h.message('log', { keys: ['late'] }), h.message('log', { keys: ['late'] })]);
    expect(h.drain('g', 'log')).toHaveLength(6);
    expect(h.core.lag('g', 'log').total).toBe(0);

    const reset = h.core.resetOffsets('g', 'log', cut);
    expect(reset).toEqual([
      { queueId: 0, offset: 2 },
      { queueId: 1, offset: 2 },
    ]);
    lag = h.core.lag('g', 'log');
    expect(lag.total).toBe(2);
    expect(h.drain('g', 'log').sort()).toEqual(['body 4', 'body 5']);

    h.core.resetOffsets('g', 'log', 0); // back to the start
    expect(h.drain('g', 'log')).toHaveLength(6);
    expect((await h.core.queryMessagesByKey('log', 'late')).map((m) => m.messageId).sort()).toEqual([
      'MSG-4',
      'MSG-5',
    ]);
    expect(() => h.core.lag('nobody', 'log')).toThrow(
      expect.objectContaining({ code: StatusCode.CONSUMER_GROUP_NOT_FOUND }),
    );
    expect(() => h.core.lag('g', 'nothing')).toThrow(
      expect.objectContaining({ code: StatusCode.TOPIC_NOT_FOUND }),
    );
  });

  it('a deleted topic takes its queues and offsets along; a re-created one is read from its start', async () => {
    await h.send('gone');
    await h.send('gone');
    expect(h.drain('g', 'gone')).toHaveLength(2);
    expect(h.core.deleteTopic('gone')).toBe(true);
    expect(h.core.getTopic('gone')).toBeUndefined();
    expect(h.core.deleteTopic('gone')).toBe(false);
    await h.send('gone'); // auto-created again
    expect(h.drain('g', 'gone')).toEqual(['body 2']);
    expect(h.core.deleteGroup('g')).toBe(true);
    expect(h.core.listGroups().map((g) => g.name)).toEqual([]);
  });
});

describe('BrokerCore: deleting topics and groups', () => {
  const INVALID = { code: StatusCode.INVALID_RECEIPT_HANDLE };

  beforeEach(async () => {
    h = await CoreHarness.open();
  });

  it('a deleted topic is forgotten at once: old handles are stale, a re-created one is read from offset 0', async () => {
    h.core.createGroup('g', { retryBackoffMs: [SECOND] });
    h.core.createTopic('t', { queueCount: 1 });
    for (let i = 0; i < 3; i++) await h.send('t');
    const [first, second, third] = h.receive('g', 't');
    h.core.ack('g', first!.receiptHandle);
    h.core.changeInvisibleDuration('g', second!.receiptHandle, 0); // nack: retried via %RETRY%g_t
    await h.advance(SECOND);
    const [retried] = h.receive('g', 't');
    expect(retried!.queue.topic).toBe('%RETRY%g_t');
    expect(h.core.listTopics().map((t) => t.name)).toContain('%RETRY%g_t');

    expect(h.core.deleteTopic('t')).toBe(true);
    // The group's retry topic for it goes along (RocketMQ's clearRetryTopicWhenDeleteTopic).
    expect(h.core.listTopics().map((t) => t.name)).toEqual(['%DLQ%g']);
    expect(h.core.inFlightCount('g')).toBe(0);
    for (const stale of [third!, retried!]) {
      expect(() => h.core.ack('g', stale.receiptHandle)).toThrow(expect.objectContaining(INVALID));
      expect(() => h.core.changeInvisibleDuration('g', stale.receiptHandle, 30 * SECOND)).toThrow(
        expect.objectContaining(INVALID),
      );
    }

    // Created again, without a restart: its messages are delivered from offset 0.
    h.core.createTopic('t', { queueCount: 1 });
    await h.send('t');
    const [fresh] = h.receive('g', 't');
    expect(fresh!.message.body.toString()).toBe('body 3');
    expect(fresh!.queue).toEqual({ topic: 't', queueId: 0, queueOffset: 0 });
    expect(fresh!.deliveryAttempt).toBe(1);
    h.core.ack('g', fresh!.receiptHandle);
    // The old leases neither expire into retries nor come back.
    await h.advance(HOUR);
    expect(h.receive('g', 't')).toEqual([]);
    expect(h.core.lag('g', 't').total).toBe(0);
  });

  it('a deleted group loses its leases and offsets; created again it starts per its consumeFrom', async () => {
    h.core.createTopic('t', { queueCount: 1 });
    for (let i = 0; i < 3; i++) await h.send('t');
    h.core.createGroup('first');
    h.core.createGroup('last', { consumeFrom: { kind: 'last' } });
    const leased = h.receive('first', 't');
    expect(leased).toHaveLength(3);
    expect(h.drain('last', 't')).toEqual([]); // starts after what was there
    await h.send('t');
    expect(h.drain('last', 't')).toEqual(['body 3']);

    expect(h.core.listTopics().map((t) => t.name)).toEqual(
      expect.arrayContaining(['%RETRY%first_t', '%DLQ%first', '%RETRY%last_t', '%DLQ%last']),
    );
    expect(h.core.deleteGroup('first')).toBe(true);
    expect(h.core.deleteGroup('last')).toBe(true);
    // Its retry and DLQ topics go with it, as `mqadmin deleteSubGroup` does.
    expect(h.core.listTopics().map((t) => t.name)).toEqual(['t']);
    expect(h.core.inFlightCount('first')).toBe(0);
    for (const stale of leased) {
      expect(() => h.core.ack('first', stale.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    }

    // No offsets and no read position survive: `first` reads everything again from attempt 1,
    // `last` starts at the end as it is now.
    h.core.createGroup('first');
    h.core.createGroup('last', { consumeFrom: { kind: 'last' } });
    expect(h.core.lag('first', 't').total).toBe(4);
    const again = h.receive('first', 't');
    expect(again.map((m) => [m.message.body.toString(), m.deliveryAttempt])).toEqual([
      ['body 0', 1],
      ['body 1', 1],
      ['body 2', 1],
      ['body 3', 1],
    ]);
    expect(h.drain('last', 't')).toEqual([]);
    await h.send('t');
    expect(h.drain('last', 't')).toEqual(['body 4']);
    // The old leases do not expire into retries of the new group.
    for (const m of again) h.core.ack('first', m.receiptHandle);
    await h.advance(HOUR);
    expect(h.drain('first', 't')).toEqual(['body 4']);
  });
});

describe('BrokerCore: auto-creation off', () => {
  beforeEach(async () => {
    h = await CoreHarness.open({ autoCreateTopics: false, autoCreateGroups: false });
  });

  it('answers TOPIC_NOT_FOUND and CONSUMER_GROUP_NOT_FOUND until they are created', async () => {
    await expect(h.send('unknown')).rejects.toMatchObject({ code: StatusCode.TOPIC_NOT_FOUND });
    expect(() => h.core.resolveTopic('unknown')).toThrow(
      expect.objectContaining({ code: StatusCode.TOPIC_NOT_FOUND }),
    );
    h.core.createTopic('known', { queueCount: 1 });
    await h.send('known');
    expect(() => h.receive('unknown-group', 'known')).toThrow(
      expect.objectContaining({ code: StatusCode.CONSUMER_GROUP_NOT_FOUND }),
    );
    expect(() => h.receive('g', 'unknown')).toThrow(
      expect.objectContaining({ code: StatusCode.CONSUMER_GROUP_NOT_FOUND }),
    );
    h.core.createGroup('g');
    expect(() => h.receive('g', 'unknown')).toThrow(
      expect.objectContaining({ code: StatusCode.TOPIC_NOT_FOUND }),
    );
    expect(h.drain('g', 'known')).toEqual(['body 1']);
    expect(h.core.listTopics().map((t) => t.name)).toEqual(['%DLQ%g', '%RETRY%g_known', 'known']);
  });
});

describe('BrokerCore: lifecycle', () => {
  it('rejects calls after close with a typed error, and closes once', async () => {
    h = await CoreHarness.open();
    await h.send('t');
    const closing = h.core.close();
    await expect(h.send('t')).rejects.toMatchObject({ code: StatusCode.INTERNAL_SERVER_ERROR });
    expect(() => h.receive('g', 't')).toThrow(
      expect.objectContaining({ code: StatusCode.INTERNAL_SERVER_ERROR }),
    );
    await closing;
    await h.core.close();
    await expect(h.core.waitForMessages('g', 't', 1000)).resolves.toBe('closed');
  });
});

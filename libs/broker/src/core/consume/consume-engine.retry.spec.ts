import { StatusCode } from '../../status-code.js';
import {
  DELIVERY_ATTEMPTS_PROPERTY,
  DLQ_ORIGIN_MESSAGE_ID_PROPERTY,
  DLQ_ORIGIN_TOPIC_PROPERTY,
  LAST_ERROR_PROPERTY,
  MESSAGE_GROUP_PROPERTY,
  ORIGIN_QUEUE_ID_PROPERTY,
  RETRY_TOPIC_PROPERTY,
} from './names.js';
import { Harness, T0 } from './testing/engine-harness.js';
import { seededRandom } from '../../testing/seeded-random.js';

let h: Harness;

beforeEach(async () => {
  h = await Harness.create({ queueCounts: { orders: 2, A: 1, B: 1 } });
});
afterEach(async () => {
  await h.close();
});

const INVALID = { code: StatusCode.INVALID_RECEIPT_HANDLE };

describe('retry through %RETRY%<group>_<topic> (standard groups)', () => {
  it('an expired lease comes back after the backoff with attempt 2, the original offset moves on', async () => {
    await h.send('orders', { queueId: 1, tag: 'red', keys: ['k'], userProperties: { p: '1' } });
    const [first] = h.receive('g', 'orders', { invisibleMs: 30_000 });
    expect(first!.deliveryAttempt).toBe(1);

    await h.advance(30_000); // lease ends
    expect(h.scheduler.scheduled).toHaveLength(1);
    const { message: copy, deliverAt } = h.scheduler.scheduled[0]!;
    expect(deliverAt).toBe(T0 + 30_000 + 10_000); // RocketMQ's first backoff step, 10 s
    expect(copy).toMatchObject({
      topic: '%RETRY%g_orders',
      queueId: 0,
      messageId: 'MSG-0',
      reconsumeTimes: 1,
    });
    expect(h.offsets.get('g', 'orders', 1)).toBe(1); // the original counts as done
    expect(h.engine.inFlightCount('g')).toBe(0);

    expect(h.receive('g', 'orders')).toEqual([]); // not before the backoff
    await h.advance(10_000);
    const [again] = h.receive('g', 'orders');
    expect(again!.deliveryAttempt).toBe(2);
    expect(again!.message).toMatchObject({
      topic: 'orders', // the consumer sees the topic it subscribed to
      messageId: 'MSG-0',
      tag: 'red',
      keys: ['k'],
      userProperties: { p: '1' },
    });
    expect(again!.message.body.toString()).toBe('body 0');
    expect(again!.queue.topic).toBe('%RETRY%g_orders'); // where the lease lives
    expect(() => h.engine.ack('g', first!.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    h.engine.ack('g', again!.receiptHandle);
    expect(h.offsets.get('g', '%RETRY%g_orders', 0)).toBe(1);
    await h.advance(3_600_000);
    expect(h.receive('g', 'orders')).toEqual([]);
  });

  it('a SimpleConsumer-style lease (retryAfter lease-end) comes back as soon as it runs out, or when its changed lease does', async () => {
    await h.send('A');
    await h.send('A');
    const [, m1] = h.receive('g', 'A', { invisibleMs: 10_000, retryAfter: 'lease-end' });
    h.engine.changeInvisibleDuration('g', m1!.receiptHandle, 1_000); // "retry in 1 s"
    await h.advance(1_000);
    expect(h.scheduler.scheduled.map((s) => [s.message.messageId, s.deliverAt])).toEqual([
      ['MSG-1', T0 + 1_000],
    ]);
    const [back1] = h.receive('g', 'A', { retryAfter: 'lease-end' });
    expect([back1!.message.messageId, back1!.deliveryAttempt]).toEqual(['MSG-1', 2]);
    await h.advance(9_000); // m0's lease ends: no backoff on top
    const [back0] = h.receive('g', 'A', { retryAfter: 'lease-end' });
    expect([back0!.message.messageId, back0!.deliveryAttempt]).toEqual(['MSG-0', 2]);
    // An explicit nack still waits the group's backoff.
    h.engine.changeInvisibleDuration('g', back0!.receiptHandle, 0);
    await h.advance(0);
    expect(h.scheduler.scheduled.at(-1)!.deliverAt).toBe(T0 + 10_000 + 30_000); // second step, 30 s
  });

  it('a FIFO lease with retryAfter lease-end is redelivered in place as soon as it runs out', async () => {
    Object.assign(h.policy('f'), { fifo: true, backoff: [60_000] });
    await h.send('A', { systemProperties: { [MESSAGE_GROUP_PROPERTY]: 'x' } });
    const [first] = h.receive('f', 'A', { invisibleMs: 10_000, retryAfter: 'lease-end' });
    expect(first!.deliveryAttempt).toBe(1);
    await h.advance(10_000);
    const [again] = h.receive('f', 'A', { retryAfter: 'lease-end' });
    expect(again!.deliveryAttempt).toBe(2);
    expect(again!.queue).toEqual(first!.queue);
  });

  it('a nack (ChangeInvisibleDuration 0) retries after the backoff at once, and its new handle still acks', async () => {
    await h.send('A');
    const [m] = h.receive('g', 'A');
    h.clock.advance(1_000);
    const nack = h.engine.changeInvisibleDuration('g', m!.receiptHandle, 0);
    expect(nack.receiptHandle).not.toBe(m!.receiptHandle);
    expect(nack.invisibleUntil).toBe(T0 + 1_000);
    await h.settle();
    expect(h.scheduler.scheduled.map((s) => s.deliverAt)).toEqual([T0 + 1_000 + 10_000]);
    expect(h.scheduler.scheduled[0]!.message.systemProperties![LAST_ERROR_PROPERTY]).toMatch(
      /negatively acknowledged/,
    );
    await h.advance(10_000);
    const [again] = h.receive('g', 'A');
    expect(again!.deliveryAttempt).toBe(2);
    // Nack again: the next backoff step (30 s) applies.
    h.engine.changeInvisibleDuration('g', again!.receiptHandle, 0);
    await h.settle();
    await h.advance(29_999);
    expect(h.receive('g', 'A')).toEqual([]);
    await h.advance(1);
    expect(h.receive('g', 'A').map((r) => r.deliveryAttempt)).toEqual([3]);
  });

  it('accepts an ack of an expired lease until the message is redelivered, and then drops the retry copy', async () => {
    await h.send('A');
    await h.send('A');
    const [a, b] = h.receive('g', 'A');
    await h.advance(30_000);
    expect(h.scheduler.scheduled).toHaveLength(2);
    h.engine.ack('g', a!.receiptHandle); // late, but not yet redelivered: accepted
    expect(() => h.engine.ack('g', a!.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    await h.advance(10_000);
    const again = h.receive('g', 'A');
    expect(again.map((m) => m.message.messageId)).toEqual(['MSG-1']); // MSG-0's copy is skipped
    // b's copy was redelivered: its old handle is stale now.
    expect(() => h.engine.ack('g', b!.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    h.engine.ack('g', again[0]!.receiptHandle);
    expect(h.offsets.get('g', '%RETRY%g_A', 0)).toBe(2);
  });

  it('the handle a nack returns acks the message until the retry copy is delivered', async () => {
    await h.send('A');
    const [m] = h.receive('g', 'A');
    const nack = h.engine.changeInvisibleDuration('g', m!.receiptHandle, 0);
    await h.settle();
    expect(() => h.engine.ack('g', m!.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    h.engine.ack('g', nack.receiptHandle);
    await h.advance(10_000);
    expect(h.receive('g', 'A')).toEqual([]);
    expect(h.offsets.get('g', '%RETRY%g_A', 0)).toBe(1);
  });

  it('a late ack while the retry copy is still being stored is honoured too', async () => {
    await h.send('A');
    const [m] = h.receive('g', 'A');
    h.clock.advance(30_000); // expires; the copy's write is under way
    h.engine.ack('g', m!.receiptHandle);
    await h.settle();
    await h.advance(10_000);
    expect(h.receive('g', 'A')).toEqual([]);
  });

  it('retries of one topic are not handed to a receive of another topic of the same group', async () => {
    await h.send('A');
    await h.send('B');
    const [a] = h.receive('g', 'A');
    const [b] = h.receive('g', 'B');
    h.engine.changeInvisibleDuration('g', b!.receiptHandle, 0);
    h.engine.changeInvisibleDuration('g', a!.receiptHandle, 0);
    await h.settle();
    expect(h.scheduler.scheduled.map((s) => s.message.topic)).toEqual(['%RETRY%g_B', '%RETRY%g_A']);
    await h.advance(10_000);
    const retriedA = h.receive('g', 'A');
    expect(retriedA.map((m) => [m.message.topic, m.message.messageId, m.deliveryAttempt])).toEqual([
      ['A', 'MSG-0', 2],
    ]);
    const retriedB = h.receive('g', 'B');
    expect(retriedB.map((m) => [m.message.topic, m.message.messageId, m.deliveryAttempt])).toEqual([
      ['B', 'MSG-1', 2],
    ]);
    h.engine.ack('g', retriedA[0]!.receiptHandle);
    expect(h.offsets.get('g', '%RETRY%g_A', 0)).toBe(1);
    expect(h.offsets.get('g', '%RETRY%g_B', 0)).toBe(0); // B's copy is still in flight
    h.engine.ack('g', retriedB[0]!.receiptHandle);
    expect(h.offsets.get('g', '%RETRY%g_B', 0)).toBe(1);
  });

  it("retries of a topic the group no longer receives never hold back another topic's retries", async () => {
    await h.close();
    h = await Harness.create({ limits: { maxLookaheadPerQueue: 2 } });
    for (let i = 0; i < 5; i++) await h.send('A');
    await h.send('B');
    const fromA = h.receive('g', 'A');
    const [b] = h.receive('g', 'B');
    expect(fromA).toHaveLength(5);
    // A's failures are stored first: in a retry topic shared by the group they would fill its
    // look-ahead window (2) in front of B's.
    for (const m of fromA) h.engine.changeInvisibleDuration('g', m.receiptHandle, 0);
    h.engine.changeInvisibleDuration('g', b!.receiptHandle, 0);
    await h.settle();
    await h.advance(10_000);
    expect(h.read('%RETRY%g_A')).toHaveLength(5);
    expect(h.read('%RETRY%g_B').map((m) => m.messageId)).toEqual(['MSG-5']);

    // The group only receives B from now on.
    const [retriedB] = h.receive('g', 'B');
    expect([retriedB!.message.topic, retriedB!.message.messageId, retriedB!.deliveryAttempt]).toEqual([
      'B',
      'MSG-5',
      2,
    ]);
    expect(retriedB!.queue.topic).toBe('%RETRY%g_B');
    h.engine.changeInvisibleDuration('g', retriedB!.receiptHandle, 0);
    await h.settle();
    await h.advance(30_000);
    const [again] = h.receive('g', 'B');
    expect([again!.message.messageId, again!.deliveryAttempt]).toEqual(['MSG-5', 3]);
    h.engine.ack('g', again!.receiptHandle);
    expect(h.engine.inFlightCount('g', '%RETRY%g_A')).toBe(0); // nothing of A was read
    expect(h.offsets.get('g', '%RETRY%g_A', 0)).toBeUndefined();

    // A's retries are all still there for A.
    const retriedA = h.receive('g', 'A');
    expect(retriedA.map((m) => [m.message.messageId, m.deliveryAttempt])).toEqual(
      ['MSG-0', 'MSG-1', 'MSG-2', 'MSG-3', 'MSG-4'].map((id) => [id, 2]),
    );
  });

  it('two (group, topic) pairs whose retry topic names coincide each get only their own retries', async () => {
    // `_` is legal in both names: a/b_c and a_b/c both retry into `%RETRY%a_b_c`, as in RocketMQ.
    await h.send('b_c');
    await h.send('c');
    const [x] = h.receive('a', 'b_c');
    const [y] = h.receive('a_b', 'c');
    h.engine.changeInvisibleDuration('a', x!.receiptHandle, 0);
    h.engine.changeInvisibleDuration('a_b', y!.receiptHandle, 0);
    await h.settle();
    await h.advance(10_000);
    expect(h.read('%RETRY%a_b_c').map((m) => m.messageId)).toEqual(['MSG-0', 'MSG-1']);
    const [forA] = h.receive('a', 'b_c');
    const [forAB] = h.receive('a_b', 'c');
    expect([forA!.message.topic, forA!.message.messageId, forA!.deliveryAttempt]).toEqual([
      'b_c',
      'MSG-0',
      2,
    ]);
    expect([forAB!.message.topic, forAB!.message.messageId, forAB!.deliveryAttempt]).toEqual([
      'c',
      'MSG-1',
      2,
    ]);
    // The other pair's copy is finished for each group, not held in its look-ahead window: once its
    // own copy is acked, each group's offset is past both.
    h.engine.ack('a', forA!.receiptHandle);
    h.engine.ack('a_b', forAB!.receiptHandle);
    expect(h.offsets.get('a', '%RETRY%a_b_c', 0)).toBe(2);
    expect(h.offsets.get('a_b', '%RETRY%a_b_c', 0)).toBe(2);
    expect(h.receive('a', 'b_c')).toEqual([]);
    expect(h.receive('a_b', 'c')).toEqual([]);
  });

  it('redelivers in place when the retry scheduler fails', async () => {
    await h.send('A');
    const [m] = h.receive('g', 'A');
    h.scheduler.failWith = new Error('timer log unavailable');
    await h.advance(30_000);
    expect(h.logged.join('\n')).toMatch(/could not schedule the retry.*timer log unavailable/);
    const [again] = h.receive('g', 'A');
    expect(again!.deliveryAttempt).toBe(2);
    expect(again!.queue).toEqual(m!.queue);
    h.scheduler.failWith = undefined;
    h.engine.ack('g', again!.receiptHandle);
    expect(h.offsets.get('g', 'A', 0)).toBe(1);
  });
});

describe('dead-letter queue', () => {
  it('after max attempts the message goes to %DLQ%<group> with its id, properties, attempts and last error', async () => {
    h.policy('g').maxDeliveryAttempts = 3;
    await h.send('orders', {
      queueId: 1,
      tag: 'blue',
      keys: ['order-7'],
      userProperties: { customer: 'c-1' },
      systemProperties: { [MESSAGE_GROUP_PROPERTY]: 'mg' },
    });
    const seen: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [m] = h.receive('g', 'orders');
      seen.push(m!.deliveryAttempt);
      await h.advance(30_000); // expires
      await h.advance(3_600_000); // past any backoff
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(h.scheduler.scheduled).toHaveLength(2); // two retries, then the DLQ
    expect(h.receive('g', 'orders')).toEqual([]);
    const [dead] = h.read('%DLQ%g');
    expect(dead).toMatchObject({
      topic: '%DLQ%g',
      messageId: 'MSG-0',
      tag: 'blue',
      keys: ['order-7'],
      userProperties: { customer: 'c-1' },
      reconsumeTimes: 3,
    });
    expect(dead!.systemProperties).toMatchObject({
      [DLQ_ORIGIN_TOPIC_PROPERTY]: 'orders',
      [DLQ_ORIGIN_MESSAGE_ID_PROPERTY]: 'MSG-0',
      [RETRY_TOPIC_PROPERTY]: 'orders',
      [DELIVERY_ATTEMPTS_PROPERTY]: '3',
      [ORIGIN_QUEUE_ID_PROPERTY]: '1',
      [MESSAGE_GROUP_PROPERTY]: 'mg',
    });
    expect(dead!.systemProperties[LAST_ERROR_PROPERTY]).toMatch(/lease expired after delivery attempt 3/);
    expect(dead!.body.toString()).toBe('body 0');
    expect(h.offsets.get('g', '%RETRY%g_orders', 0)).toBe(2);

    // The DLQ is an ordinary topic to another group, read from its first message whatever the
    // group's consumeFrom (as lag.ts counts it).
    h.policy('dlq-reader').consumeFrom = { kind: 'last' };
    const [fromDlq] = h.receive('dlq-reader', '%DLQ%g');
    expect(fromDlq!.message.messageId).toBe('MSG-0');
    expect(fromDlq!.message.topic).toBe('%DLQ%g');
    expect(fromDlq!.deliveryAttempt).toBe(1);
    h.engine.ack('dlq-reader', fromDlq!.receiptHandle);

    // Resend puts it back on its topic and queue, same id, as a fresh message.
    expect(await h.engine.resendFromDeadLetter('g')).toBe(1);
    const [back] = h.receive('g', 'orders');
    expect(back!.message).toMatchObject({ topic: 'orders', queueId: 1, messageId: 'MSG-0', tag: 'blue' });
    expect(back!.message.systemProperties[MESSAGE_GROUP_PROPERTY]).toBe('mg');
    expect(back!.message.systemProperties[DLQ_ORIGIN_TOPIC_PROPERTY]).toBeUndefined();
    expect(back!.deliveryAttempt).toBe(1);
  });

  it('a nack on the last attempt dead-letters at once', async () => {
    h.policy('g').maxDeliveryAttempts = 1;
    await h.send('A');
    const [m] = h.receive('g', 'A');
    const { receiptHandle } = h.engine.changeInvisibleDuration('g', m!.receiptHandle, 0);
    expect(() => h.engine.ack('g', receiptHandle)).toThrow(expect.objectContaining(INVALID));
    await h.settle();
    expect(h.read('%DLQ%g').map((d) => d.messageId)).toEqual(['MSG-0']);
    expect(h.scheduler.scheduled).toHaveLength(0);
    expect(h.offsets.get('g', 'A', 0)).toBe(1);
  });

  it('ForwardMessageToDeadLetterQueue copies the message with the reason and acks the original', async () => {
    await h.send('A');
    await h.send('A');
    const [m] = h.receive('g', 'A', { batchSize: 1 });
    await h.engine.forwardToDeadLetter('g', m!.receiptHandle, 'poison pill');
    const [dead] = h.read('%DLQ%g');
    expect(dead!.messageId).toBe('MSG-0');
    expect(dead!.systemProperties[LAST_ERROR_PROPERTY]).toBe('poison pill');
    expect(dead!.systemProperties[DELIVERY_ATTEMPTS_PROPERTY]).toBe('1');
    expect(h.offsets.get('g', 'A', 0)).toBe(1);
    expect(() => h.engine.ack('g', m!.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    await expect(h.engine.forwardToDeadLetter('g', m!.receiptHandle)).rejects.toMatchObject(INVALID);
  });

  it('resends chosen ids only, and a group whose maximum was lowered dead-letters retry copies on read', async () => {
    for (let i = 0; i < 3; i++) await h.send('A');
    for (const m of h.receive('g', 'A')) await h.engine.forwardToDeadLetter('g', m.receiptHandle);
    expect(await h.engine.resendFromDeadLetter('g', ['MSG-2', 'MSG-0', 'MSG-0', 'nope'])).toBe(2);
    expect(
      h
        .receive('g', 'A')
        .map((m) => m.message.messageId)
        .sort(),
    ).toEqual(['MSG-0', 'MSG-2']);
    expect(await h.engine.resendFromDeadLetter('nobody')).toBe(0);

    await h.send('B');
    const [b] = h.receive('g', 'B');
    h.engine.changeInvisibleDuration('g', b!.receiptHandle, 0);
    await h.settle();
    h.policy('g').maxDeliveryAttempts = 1;
    await h.advance(10_000);
    expect(h.receive('g', 'B')).toEqual([]);
    await h.settle();
    expect(h.read('%DLQ%g').map((d) => d.messageId)).toEqual(['MSG-0', 'MSG-1', 'MSG-2', 'MSG-3']);
    expect(h.read('%DLQ%g')[3]!.systemProperties[LAST_ERROR_PROPERTY]).toMatch(
      /exceeds the group's maximum of 1/,
    );
  });
});

describe('restart', () => {
  it('delivers every message that was not committed again to a new engine (at-least-once)', async () => {
    for (let i = 0; i < 6; i++) await h.send('A');
    const got = h.receive('g', 'A');
    for (const m of got) if ([0, 1, 3].includes(m.queue.queueOffset)) h.engine.ack('g', m.receiptHandle);
    expect(h.offsets.get('g', 'A', 0)).toBe(2);
    await h.engine.close();
    await h.store.close();
    await h.openStore();
    h.engine = h.newEngine();
    const again = h.receive('g', 'A');
    // 3 was acked but not committed past (2 was not): delivered again, as RocketMQ would.
    expect(again.map((m) => [m.queue.queueOffset, m.deliveryAttempt])).toEqual([
      [2, 1],
      [3, 1],
      [4, 1],
      [5, 1],
    ]);
    // Handles of the previous run do not match leases of this one.
    expect(() => h.engine.ack('g', got[2]!.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    for (const m of again) h.engine.ack('g', m.receiptHandle);
    expect(h.offsets.get('g', 'A', 0)).toBe(6);
  });

  it('keeps the attempt count of retry copies across a restart', async () => {
    await h.send('A');
    const [m] = h.receive('g', 'A');
    h.engine.changeInvisibleDuration('g', m!.receiptHandle, 0);
    await h.advance(10_000);
    await h.engine.close();
    h.engine = h.newEngine();
    expect(h.receive('g', 'A').map((r) => r.deliveryAttempt)).toEqual([2]);
  });

  it('an offset beyond the end of the queue (lost unflushed tail) is corrected and the correction persisted', async () => {
    for (let i = 0; i < 3; i++) await h.send('A');
    h.offsets.commit('g', 'A', 0, 10);
    expect(h.receive('g', 'A')).toEqual([]);
    expect(h.offsets.get('g', 'A', 0)).toBe(3);
    expect(h.logged.join('\n')).toMatch(/beyond the queue's end/);
    await h.send('A');
    const [m] = h.receive('g', 'A');
    expect(m!.queue.queueOffset).toBe(3);
  });

  it('an offset reset drops what was read and leased there', async () => {
    for (let i = 0; i < 3; i++) await h.send('A');
    const [m] = h.receive('g', 'A', { batchSize: 1 });
    h.engine.resetOffset('g', 'A', 0, 2);
    expect(() => h.engine.ack('g', m!.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    expect(h.receive('g', 'A').map((r) => r.queue.queueOffset)).toEqual([2]);
  });
});

/** mulberry32 */
const prng = seededRandom;

describe('leases under concurrent receivers with random ack, nack, expiry and crashes', () => {
  it('never hands out a message while another lease on it runs, and finishes each exactly once', async () => {
    const random = prng(7);
    Object.assign(h.policy('g'), { maxDeliveryAttempts: 5, backoff: [1_000, 5_000] });
    const TOTAL = 400;
    await Promise.all(
      Array.from({ length: TOTAL }, (_, i) =>
        h.send('orders', { queueId: i % 2, userProperties: { i: String(i) } }),
      ),
    );
    /** messageId → the end of the lease it is under, or 'acked'. */
    const lease = new Map<string, number | 'acked'>();
    const attempts = new Map<string, number>();
    const clients = Array.from({ length: 4 }, () => [] as { id: string; handle: string }[]);
    const receiveAs = (c: number): void => {
      for (const r of h.receive('g', 'orders', {
        batchSize: 1 + Math.floor(random() * 16),
        invisibleMs: 10_000,
      })) {
        const id = r.message.messageId;
        const previous = lease.get(id);
        expect(previous).not.toBe('acked');
        if (typeof previous === 'number') expect(h.clock.now()).toBeGreaterThanOrEqual(previous);
        expect(r.deliveryAttempt).toBe((attempts.get(id) ?? 0) + 1);
        attempts.set(id, r.deliveryAttempt);
        lease.set(id, r.invisibleUntil);
        clients[c]!.push({ id, handle: r.receiptHandle });
      }
    };
    for (let step = 0; step < 3_000; step++) {
      const c = Math.floor(random() * clients.length);
      const held = clients[c]!;
      const action = random();
      if (action < 0.4 || held.length === 0) receiveAs(c);
      else {
        const [d] = held.splice(Math.floor(random() * held.length), 1);
        if (action < 0.75) {
          try {
            h.engine.ack('g', d!.handle);
            lease.set(d!.id, 'acked');
          } catch (err) {
            expect(err).toMatchObject(INVALID);
          }
        } else if (action < 0.85) {
          try {
            const nack = h.engine.changeInvisibleDuration('g', d!.handle, 0);
            lease.set(d!.id, nack.invisibleUntil);
          } catch (err) {
            expect(err).toMatchObject(INVALID);
          }
        } else if (action < 0.9) {
          // crashed holding it
        } else {
          held.push(d!);
          await h.advance(Math.floor(random() * 12_000));
        }
      }
      if (step % 40 === 0) await h.advance(Math.floor(random() * 4_000));
      await h.settle();
    }
    // Drain: ack whatever the clients hold, receive the rest, until every message is acked or dead.
    const settledCount = (): number => {
      const dead = new Set(h.read('%DLQ%g').map((m) => m.messageId));
      return [...lease.entries()].filter(([id, v]) => v === 'acked' || dead.has(id)).length;
    };
    for (
      let round = 0;
      round < 1_000 && (settledCount() < TOTAL || clients.some((c) => c.length > 0));
      round++
    ) {
      for (const held of clients) {
        for (const d of held.splice(0)) {
          try {
            h.engine.ack('g', d.handle);
            lease.set(d.id, 'acked');
          } catch {
            // stale
          }
        }
      }
      receiveAs(0);
      await h.advance(5_000);
    }
    const dead = h.read('%DLQ%g').map((m) => m.messageId);
    expect(new Set(dead).size).toBe(dead.length); // dead-lettered at most once
    const acked = [...lease.entries()].filter(([, v]) => v === 'acked').map(([id]) => id);
    expect(acked.filter((id) => dead.includes(id))).toEqual([]);
    expect(acked.length + dead.length).toBe(TOTAL);
    expect(dead.length).toBeGreaterThan(0);
    expect(Math.max(...attempts.values())).toBe(5);
    expect(h.offsets.get('g', 'orders', 0)).toBe(TOTAL / 2);
    expect(h.offsets.get('g', 'orders', 1)).toBe(TOTAL / 2);
    expect(h.engine.inFlightCount('g')).toBe(0);
  }, 120_000);
});

import { StatusCode } from '../../status-code.js';
import { compileFilter } from '../filter/index.js';
import { ReceiptHandleCodec } from '../receipt-handle.js';
import { ConsumeEngineClosedError } from './errors.js';
import { Harness, T0 } from './testing/engine-harness.js';

let h: Harness;

beforeEach(async () => {
  h = await Harness.create({ queueCounts: { orders: 2, A: 1, B: 1 } });
});
afterEach(async () => {
  await h.close();
});

const INVALID = { code: StatusCode.INVALID_RECEIPT_HANDLE };

describe('receive and ack', () => {
  it('delivers each message once with a handle and attempt 1, and acks advance the offsets', async () => {
    for (let i = 0; i < 5; i++) await h.send('orders', { queueId: i % 2, tag: 't', keys: [`k${i}`] });
    const got = h.receive('g', 'orders', { invisibleMs: 20_000 });
    expect(got).toHaveLength(5);
    expect(new Set(got.map((m) => m.receiptHandle)).size).toBe(5);
    expect(got.map((m) => m.message.messageId).sort()).toEqual(['MSG-0', 'MSG-1', 'MSG-2', 'MSG-3', 'MSG-4']);
    for (const m of got) {
      expect(m.deliveryAttempt).toBe(1);
      expect(m.invisibleUntil).toBe(T0 + 20_000);
      expect(m.message.topic).toBe('orders');
      expect(m.queue).toEqual({
        topic: 'orders',
        queueId: m.message.queueId,
        queueOffset: m.message.queueOffset,
      });
      expect(m.receiptHandle).toMatch(/^[A-Za-z0-9_-]+$/);
    }
    // In flight: nothing more to hand out.
    expect(h.receive('g', 'orders')).toEqual([]);
    for (const m of got) h.engine.ack('g', m.receiptHandle);
    expect(h.offsets.get('g', 'orders', 0)).toBe(3);
    expect(h.offsets.get('g', 'orders', 1)).toBe(2);
    expect(h.engine.inFlightCount('g')).toBe(0);
    expect(h.receive('g', 'orders')).toEqual([]);
    // An acked message is never delivered again, even after its lease would have run out.
    await h.advance(60_000);
    expect(h.receive('g', 'orders')).toEqual([]);
    expect(h.scheduler.scheduled).toHaveLength(0);
  });

  it('advances the committed offset over contiguous acks only', async () => {
    for (let i = 0; i < 6; i++) await h.send('A');
    const got = h.receive('g', 'A');
    const byOffset = new Map(got.map((m) => [m.queue.queueOffset, m.receiptHandle]));
    expect(h.offsets.get('g', 'A', 0)).toBe(0);
    for (const o of [1, 2, 4]) h.engine.ack('g', byOffset.get(o)!);
    expect(h.offsets.get('g', 'A', 0)).toBe(0);
    h.engine.ack('g', byOffset.get(0)!);
    expect(h.offsets.get('g', 'A', 0)).toBe(3);
    h.engine.ack('g', byOffset.get(5)!);
    expect(h.offsets.get('g', 'A', 0)).toBe(3);
    h.engine.ack('g', byOffset.get(3)!);
    expect(h.offsets.get('g', 'A', 0)).toBe(6);
  });

  it('skips messages in flight and hands out the next ones', async () => {
    for (let i = 0; i < 5; i++) await h.send('A');
    const first = h.receive('g', 'A', { batchSize: 2 });
    const second = h.receive('g', 'A', { batchSize: 2 });
    expect(first.map((m) => m.queue.queueOffset)).toEqual([0, 1]);
    expect(second.map((m) => m.queue.queueOffset)).toEqual([2, 3]);
    h.engine.ack('g', second[0]!.receiptHandle); // acked but not committed past: not delivered again
    expect(h.receive('g', 'A').map((m) => m.queue.queueOffset)).toEqual([4]);
  });

  it('keeps groups independent', async () => {
    await h.send('A');
    expect(h.receive('g1', 'A')).toHaveLength(1);
    expect(h.receive('g2', 'A')).toHaveLength(1);
    expect(h.receive('g1', 'A')).toHaveLength(0);
  });

  it('sees messages appended after the first receive', async () => {
    expect(h.receive('g', 'A')).toEqual([]);
    await h.send('A');
    expect(h.receive('g', 'A')).toHaveLength(1);
  });

  it('clamps the batch size and validates the invisible duration, group and topic', async () => {
    for (let i = 0; i < 40; i++) await h.send('A');
    expect(h.receive('g', 'A', { batchSize: 100 })).toHaveLength(32);
    expect(h.receive('g', 'A', { batchSize: 0 })).toHaveLength(8); // default 32, 8 left
    expect(() => h.receive('g', 'A', { invisibleMs: 9_999 })).toThrow(
      expect.objectContaining({ code: StatusCode.ILLEGAL_INVISIBLE_TIME }),
    );
    expect(() => h.receive('g', 'A', { invisibleMs: 12 * 3600_000 + 1 })).toThrow(
      expect.objectContaining({ code: StatusCode.ILLEGAL_INVISIBLE_TIME }),
    );
    expect(() => h.receive('bad group', 'A')).toThrow(
      expect.objectContaining({ code: StatusCode.ILLEGAL_CONSUMER_GROUP }),
    );
    expect(() => h.receive('g', 'RMQ_SYS_TRANS_HALF_TOPIC')).toThrow(
      expect.objectContaining({ code: StatusCode.ILLEGAL_TOPIC }),
    );
  });

  it('starts a new group where its policy says: first, last or a timestamp', async () => {
    await h.send('A');
    await new Promise((resolve) => setTimeout(resolve, 5)); // store timestamps are wall-clock
    const second = await h.send('A');
    h.policy('from-last').consumeFrom = { kind: 'last' };
    h.policy('from-ts').consumeFrom = { kind: 'timestamp', timestamp: second.storeTimestamp };
    expect(h.receive('from-first', 'A').map((m) => m.message.messageId)).toEqual(['MSG-0', 'MSG-1']);
    expect(h.receive('from-ts', 'A').map((m) => m.message.messageId)).toEqual(['MSG-1']);
    expect(h.receive('from-last', 'A')).toEqual([]);
    expect(h.offsets.get('from-last', 'A', 0)).toBe(2); // decided once, persisted
    await h.send('A');
    expect(h.receive('from-last', 'A').map((m) => m.message.messageId)).toEqual(['MSG-2']);
  });
});

describe('receipt handles', () => {
  it('rejects garbage, forged, tampered, foreign and stale handles with INVALID_RECEIPT_HANDLE', async () => {
    await h.send('A');
    await h.send('A');
    const [m, other] = h.receive('g', 'A');
    const handle = m!.receiptHandle;
    expect(() => h.engine.ack('g', '')).toThrow(expect.objectContaining(INVALID));
    expect(() => h.engine.ack('g', 'garbage!')).toThrow(expect.objectContaining(INVALID));
    expect(() => h.engine.ack('g', 'x'.repeat(10_000))).toThrow(expect.objectContaining(INVALID));
    expect(() => h.engine.ack('g', undefined as unknown as string)).toThrow(expect.objectContaining(INVALID));
    // Tampered: flip one character.
    const flipped = handle.slice(0, 10) + (handle[10] === 'A' ? 'B' : 'A') + handle.slice(11);
    expect(() => h.engine.ack('g', flipped)).toThrow(expect.objectContaining(INVALID));
    // Forged with another secret, with fields that would otherwise match.
    const forger = new ReceiptHandleCodec(Buffer.alloc(32, 9), 1);
    const forged = forger.encode({ ...h.codec.decode(handle) });
    expect(() => h.engine.ack('g', forged)).toThrow(expect.objectContaining(INVALID));
    // Another broker epoch.
    const epoch2 = new ReceiptHandleCodec(Buffer.alloc(32, 7), 2).encode({ ...h.codec.decode(handle) });
    expect(() => h.engine.ack('g', epoch2)).toThrow(expect.objectContaining(INVALID));
    // Another group.
    expect(() => h.engine.ack('other', handle)).toThrow(expect.objectContaining(INVALID));
    // A genuine handle with a lease id that was never issued.
    const wrongLease = h.codec.encode({
      ...h.codec.decode(handle),
      leaseId: h.codec.decode(handle).leaseId + 99,
    });
    expect(() => h.engine.ack('g', wrongLease)).toThrow(expect.objectContaining(INVALID));
    // None of that touched the lease.
    h.engine.ack('g', handle);
    // Stale: acked already.
    expect(() => h.engine.ack('g', handle)).toThrow(expect.objectContaining(INVALID));
    h.engine.ack('g', other!.receiptHandle);
  });

  it('answers AckMessage entries one by one', async () => {
    await h.send('A');
    await h.send('A');
    const [a, b] = h.receive('g', 'A');
    const results = h.engine.ackMany('g', [
      { receiptHandle: a!.receiptHandle, messageId: 'MSG-0' },
      { receiptHandle: 'nope', messageId: 'X' },
      { receiptHandle: b!.receiptHandle },
      { receiptHandle: a!.receiptHandle, messageId: 'MSG-0' },
    ]);
    expect(results.map((r) => r.code)).toEqual([
      StatusCode.OK,
      StatusCode.INVALID_RECEIPT_HANDLE,
      StatusCode.OK,
      StatusCode.INVALID_RECEIPT_HANDLE,
    ]);
    expect(results[0]).toEqual({
      receiptHandle: a!.receiptHandle,
      messageId: 'MSG-0',
      code: StatusCode.OK,
      error: undefined,
    });
    expect(results[1]!.error).toMatch(/invalid receipt handle/);
    expect(h.offsets.get('g', 'A', 0)).toBe(2);
  });

  it('ChangeInvisibleDuration extends the lease with a new handle; the old one goes stale', async () => {
    await h.send('A');
    const [m] = h.receive('g', 'A', { invisibleMs: 30_000 });
    h.clock.advance(20_000);
    const changed = h.engine.changeInvisibleDuration('g', m!.receiptHandle, 60_000);
    expect(changed.invisibleUntil).toBe(T0 + 80_000);
    expect(changed.receiptHandle).not.toBe(m!.receiptHandle);
    await h.advance(50_000); // past the first lease's end
    expect(h.receive('g', 'A')).toEqual([]);
    expect(h.scheduler.scheduled).toHaveLength(0);
    expect(() => h.engine.ack('g', m!.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    expect(() => h.engine.changeInvisibleDuration('g', m!.receiptHandle, 10_000)).toThrow(
      expect.objectContaining(INVALID),
    );
    expect(() => h.engine.changeInvisibleDuration('g', changed.receiptHandle, -1)).toThrow(
      expect.objectContaining({ code: StatusCode.ILLEGAL_INVISIBLE_TIME }),
    );
    h.engine.ack('g', changed.receiptHandle);
    expect(h.offsets.get('g', 'A', 0)).toBe(1);
  });

  it('renewLease keeps the handle valid', async () => {
    await h.send('A');
    const [m] = h.receive('g', 'A', { invisibleMs: 30_000 });
    h.clock.advance(25_000);
    expect(h.engine.renewLease('g', m!.receiptHandle, 60_000)).toBe(T0 + 85_000);
    await h.advance(50_000);
    expect(h.receive('g', 'A')).toEqual([]);
    h.engine.ack('g', m!.receiptHandle);
  });

  it('release hands a message back at once without counting an attempt', async () => {
    await h.send('A');
    await h.send('A');
    const got = h.receive('g', 'A', { clientId: 'c1' });
    expect(h.engine.release('g', got[0]!.receiptHandle)).toBe(true);
    expect(h.engine.release('g', got[0]!.receiptHandle)).toBe(false);
    expect(h.engine.release('g', 'junk')).toBe(false);
    const again = h.receive('g', 'A', { clientId: 'c2' });
    expect(again.map((m) => [m.queue.queueOffset, m.deliveryAttempt])).toEqual([[0, 1]]);
    expect(() => h.engine.ack('g', got[0]!.receiptHandle)).toThrow(expect.objectContaining(INVALID));
    // The client c1 goes away: its remaining lease is handed back.
    expect(h.engine.releaseClient('c1')).toBe(1);
    expect(h.receive('g', 'A').map((m) => [m.queue.queueOffset, m.deliveryAttempt])).toEqual([[1, 1]]);
    expect(h.engine.releaseClient('c1')).toBe(0);
  });
});

describe('filters', () => {
  it('TAG: the consume-queue tag hash pre-filters, the record is verified, filtered messages are auto-acked', async () => {
    // "Aa" and "BB" have the same Java hashCode: stage 1 lets "BB" through, stage 2 must reject it.
    const tags = ['Aa', 'BB', 'x', undefined, 'Aa', 'BB'];
    for (const tag of tags) await h.send('A', tag === undefined ? {} : { tag });
    const got = h.receive('g', 'A', { filter: { type: 'TAG', expression: 'Aa' } });
    expect(got.map((m) => m.message.tag)).toEqual(['Aa', 'Aa']);
    for (const m of got) h.engine.ack('g', m.receiptHandle);
    expect(h.offsets.get('g', 'A', 0)).toBe(6);
    // `a || b`, and `*` sees untagged messages.
    const either = h.receive('g2', 'A', { filter: { type: 'TAG', expression: 'x || BB' } });
    expect(either.map((m) => m.message.tag)).toEqual(['BB', 'x', 'BB']);
    expect(h.receive('g3', 'A', { filter: { type: 'TAG', expression: '*' } })).toHaveLength(6);
  });

  it('SQL92 over user properties', async () => {
    for (let i = 0; i < 10; i++)
      await h.send('A', { userProperties: { n: String(i), kind: i % 2 ? 'odd' : 'even' } });
    const filter = compileFilter({ type: 'SQL92', expression: "kind = 'odd' AND n BETWEEN 3 AND 7" });
    const got = h.receive('g', 'A', { filter });
    expect(got.map((m) => m.message.userProperties['n'])).toEqual(['3', '5', '7']);
    for (const m of got) h.engine.ack('g', m.receiptHandle);
    expect(h.offsets.get('g', 'A', 0)).toBe(10);
  });

  it('a filter that rejects nearly everything still moves the offset, a bounded amount per receive', async () => {
    for (let i = 0; i < 3_000; i++) await h.send('A', { tag: i === 2_999 ? 'needle' : 'hay' });
    const filter = { type: 'SQL92' as const, expression: "TAGS = 'needle'" };
    let got = h.receive('g', 'A', { filter });
    let calls = 1;
    while (got.length === 0 && calls < 10) {
      got = h.receive('g', 'A', { filter });
      calls++;
    }
    expect(got.map((m) => m.message.tag)).toEqual(['needle']);
    expect(calls).toBe(3); // 1,024 messages examined per receive and queue
    expect(h.offsets.get('g', 'A', 0)).toBe(2_999);
  });
});

describe('long polling', () => {
  it('wakes on a dispatch to the topic or to the group retry topic for that topic, on timeout, and on abort', async () => {
    const woken = h.engine.waitForMessages('g', 'A', 20_000);
    await h.send('B');
    await h.send('A');
    await expect(woken).resolves.toBe('notified');
    const [m] = h.receive('g', 'A');
    h.engine.ack('g', m!.receiptHandle);

    const retry = h.engine.waitForMessages('g', 'A', 20_000);
    await h.store.append({ topic: '%RETRY%g_A', queueId: 0, body: Buffer.from('r'), messageId: 'R' });
    await expect(retry).resolves.toBe('notified');

    const timeout = h.engine.waitForMessages('g', 'A', 20_000);
    h.clock.advance(19_999);
    let settled = false;
    void timeout.then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    h.clock.advance(1);
    await expect(timeout).resolves.toBe('timeout');

    const abort = new AbortController();
    const aborted = h.engine.waitForMessages('g', 'A', 20_000, abort.signal);
    abort.abort();
    await expect(aborted).resolves.toBe('aborted');
    expect(h.clock.pending).toBe(0); // timers of settled waiters are cleared

    await expect(h.engine.waitForMessages('g', 'A', 0)).resolves.toBe('timeout');
    const closing = h.engine.waitForMessages('g', 'A', 20_000);
    await h.engine.close();
    await expect(closing).resolves.toBe('closed');
    expect(() => h.receive('g', 'A')).toThrow(ConsumeEngineClosedError);
  });

  it('wakes when a lease is released', async () => {
    await h.send('A');
    const [m] = h.receive('g', 'A');
    const woken = h.engine.waitForMessages('g', 'A', 20_000);
    h.engine.release('g', m!.receiptHandle);
    await expect(woken).resolves.toBe('notified');
  });
});

describe('bounded memory', () => {
  it('caps the messages in flight per group and queue; receive returns fewer beyond it', async () => {
    await h.close();
    h = await Harness.create({ limits: { maxInFlightPerQueue: 5 } });
    for (let i = 0; i < 20; i++) await h.send('A');
    const first = h.receive('g', 'A');
    expect(first).toHaveLength(5);
    expect(h.receive('g', 'A')).toHaveLength(0);
    expect(h.engine.inFlightCount('g', 'A')).toBe(5);
    h.engine.ack('g', first[3]!.receiptHandle);
    expect(h.receive('g', 'A').map((m) => m.queue.queueOffset)).toEqual([5]);
    expect(h.receive('other', 'A')).toHaveLength(5); // per group
  });
});

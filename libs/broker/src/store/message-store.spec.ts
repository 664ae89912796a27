import { mkdtempSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusCode } from '../status-code.js';
import { type DispatchRequest } from './dispatch-request.js';
import { StoreClosedError } from './errors.js';
import { MAX_BODY_SIZE } from './limits.js';
import { type MessageToStore } from './message-record.js';
import { MessageStore, type MessageStoreOptions } from './message-store.js';
import { tagHash } from './tag-hash.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

let dataDir: string;
const open: MessageStore[] = [];

async function openStore(options: Partial<MessageStoreOptions> = {}): Promise<MessageStore> {
  const store = await MessageStore.open({ dataDir, retentionIntervalMs: 0, logger: quiet, ...options });
  open.push(store);
  return store;
}

async function closeStore(store: MessageStore): Promise<void> {
  await store.close();
  open.splice(open.indexOf(store), 1);
}

function message(n: number, overrides: Partial<MessageToStore> = {}): MessageToStore {
  return {
    topic: 'orders',
    queueId: n % 2,
    body: Buffer.from(`order #${n} ${'x'.repeat(n % 50)}`),
    messageId: `ID-${n}`,
    tag: n % 3 === 0 ? 'paid' : 'created',
    keys: [`order-${n}`],
    ...overrides,
  };
}

beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-store-'));
});
afterEach(async () => {
  for (const s of open.splice(0)) await s.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('MessageStore appends and reads', () => {
  it('gives each queue dense offsets and reads messages back with every field', async () => {
    const store = await openStore();
    const results = await Promise.all(Array.from({ length: 10 }, (_, n) => store.append(message(n))));
    expect(results.filter((r) => r.queueId === 0).map((r) => r.queueOffset)).toEqual([0, 1, 2, 3, 4]);
    expect(results.filter((r) => r.queueId === 1).map((r) => r.queueOffset)).toEqual([0, 1, 2, 3, 4]);
    const got = store.getMessages('orders', 1, 0, 32);
    expect(got.status).toBe('FOUND');
    expect(got.messages.map((m) => m.messageId)).toEqual(['ID-1', 'ID-3', 'ID-5', 'ID-7', 'ID-9']);
    expect(got.nextOffset).toBe(5);
    expect(got.maxOffset).toBe(5);
    const third = got.messages[1]!;
    expect(third.body.toString()).toBe(message(3).body.toString());
    expect(third).toMatchObject({
      topic: 'orders',
      queueId: 1,
      queueOffset: 1,
      tag: 'paid',
      keys: ['order-3'],
    });
    expect(third.physicalOffset).toBe(results[3]!.physicalOffset);
    expect(store.getMessageByPhysicalOffset(results[3]!.physicalOffset)?.messageId).toBe('ID-3');
  });

  it('appendBatch stores all or nothing: one invalid message rejects the batch with its status code', async () => {
    const store = await openStore();
    const bad = message(2, { body: Buffer.alloc(MAX_BODY_SIZE + 1) });
    await expect(store.appendBatch([message(0), message(1), bad])).rejects.toMatchObject({
      code: StatusCode.MESSAGE_BODY_TOO_LARGE,
    });
    expect(store.maxOffset('orders', 0)).toBe(0);
    const ok = await store.appendBatch([message(0), message(1), message(2)]);
    expect(ok.map((r) => r.messageId)).toEqual(['ID-0', 'ID-1', 'ID-2']);
    expect(store.maxOffset('orders', 0)).toBe(2);
  });

  it('reports RocketMQ read statuses at the edges of a queue', async () => {
    const store = await openStore();
    expect(store.getMessages('nope', 0, 0, 1).status).toBe('NO_MATCHED_LOGIC_QUEUE');
    await store.append(message(0));
    expect(store.getMessages('orders', 0, 1, 1)).toMatchObject({
      status: 'OFFSET_OVERFLOW_ONE',
      nextOffset: 1,
    });
    expect(store.getMessages('orders', 0, 9, 1)).toMatchObject({
      status: 'OFFSET_OVERFLOW_BADLY',
      nextOffset: 1,
    });
    expect(store.getMessages('orders', 0, 0, 1).status).toBe('FOUND');
  });

  it('filters by tag hash from the consume queue, still advancing past skipped entries', async () => {
    const store = await openStore();
    for (let n = 0; n < 30; n++) await store.append(message(n, { queueId: 0 }));
    const paid = tagHash('paid');
    const r = store.getMessages('orders', 0, 0, 100, { tagFilter: (code) => code === paid });
    expect(r.messages.map((m) => m.messageId)).toEqual(Array.from({ length: 10 }, (_, i) => `ID-${i * 3}`));
    expect(r.nextOffset).toBe(30);
    const none = store.getMessages('orders', 0, 0, 100, { tagFilter: () => false });
    expect(none).toMatchObject({ status: 'NO_MATCHED_MESSAGE', messages: [], nextOffset: 30 });
  });

  it('bounds a read by count and by bytes, and resumes exactly where it stopped', async () => {
    const store = await openStore();
    for (let n = 0; n < 20; n++) await store.append(message(n, { queueId: 0, body: Buffer.alloc(1000, n) }));
    const first = store.getMessages('orders', 0, 0, 100, { maxBytes: 3500 });
    expect(first.messages).toHaveLength(3);
    const second = store.getMessages('orders', 0, first.nextOffset, 5);
    expect(second.messages.map((m) => m.queueOffset)).toEqual([3, 4, 5, 6, 7]);
  });

  it('finds messages by id and by key, newest first, within a time range', async () => {
    const store = await openStore();
    await store.append(message(1, { keys: ['k-shared', 'k-one'] }));
    await store.append(message(2, { keys: ['k-shared'] }));
    await store.append(message(3, { topic: 'other', keys: ['k-shared'] }));
    await store.append(message(1)); // a producer retry: same id stored twice
    expect((await store.queryByKey('orders', 'k-shared')).map((m) => m.messageId)).toEqual(['ID-2', 'ID-1']);
    expect((await store.queryByKey('other', 'k-shared')).map((m) => m.messageId)).toEqual(['ID-3']);
    expect(await store.queryByKey('orders', 'k-one')).toHaveLength(1);
    expect(await store.queryByKey('orders', 'missing')).toEqual([]);
    expect(await store.queryByMessageId('ID-1')).toHaveLength(2);
    expect(await store.queryByKey('orders', 'k-shared', 32, Date.now() + 60_000)).toEqual([]);
  });

  it('rejects an invalid message on its own: appends staged in the same turn are stored', async () => {
    const store = await openStore();
    const appends = [
      store.append(message(0)),
      store.append(message(1, { keys: ['ok', ''] })),
      store.append(message(2, { topic: 'x'.repeat(300) })),
      store.append(message(3)),
    ];
    const [first, blankKey, longTopic, last] = await Promise.allSettled(appends);
    expect(blankKey).toMatchObject({ status: 'rejected', reason: { code: StatusCode.ILLEGAL_MESSAGE_KEY } });
    expect(longTopic).toMatchObject({ status: 'rejected', reason: { code: StatusCode.ILLEGAL_TOPIC } });
    expect(first).toMatchObject({ status: 'fulfilled', value: { queueId: 0, queueOffset: 0 } });
    expect(last).toMatchObject({ status: 'fulfilled', value: { queueId: 1, queueOffset: 0 } });
    const ids = [0, 1].flatMap((q) => store.getMessages('orders', q, 0, 10).messages.map((m) => m.messageId));
    expect(ids.sort()).toEqual(['ID-0', 'ID-3']);
    expect(store.verify()).toMatchObject({ records: 2, corruptions: [] });
  });

  it('rejects appends after close with a typed error', async () => {
    const store = await openStore();
    await closeStore(store);
    await expect(store.append(message(0))).rejects.toBeInstanceOf(StoreClosedError);
  });
});

describe('MessageStore segments', () => {
  it('rolls over to a new segment named by its 20-digit offset; no record spans two segments', async () => {
    const segmentSize = 4096;
    const store = await openStore({ segmentSize });
    const results = [];
    for (let n = 0; n < 60; n++)
      results.push(await store.append(message(n, { body: Buffer.alloc(300 + n, n) })));
    const files = readdirSync(join(dataDir, 'commitlog')).sort();
    expect(files.length).toBeGreaterThan(5);
    files.forEach((f, i) => expect(f).toBe(String(i * segmentSize).padStart(20, '0')));
    for (const r of results) {
      expect(Math.floor(r.physicalOffset / segmentSize)).toBe(
        Math.floor((r.physicalOffset + r.size - 1) / segmentSize),
      );
      const m = store.getMessageByPhysicalOffset(r.physicalOffset)!;
      expect(m.messageId).toBe(r.messageId);
    }
    const all = [
      ...store.getMessages('orders', 0, 0, 100).messages,
      ...store.getMessages('orders', 1, 0, 100).messages,
    ];
    expect(all).toHaveLength(60);
    expect(store.verify()).toMatchObject({ records: 60, corruptions: [] });
  });

  it('with preallocation, rolls into segments prepared by the allocator thread and leaves no temporary files', async () => {
    const segmentSize = 64 * 1024;
    let store = await openStore({ segmentSize, preallocate: true, flushMode: 'sync' });
    const waitForPreparedNext = async (): Promise<void> => {
      const next = String(store.stats.segments * segmentSize).padStart(20, '0') + '.preallocating';
      for (let i = 0; i < 200; i++) {
        const files = readdirSync(join(dataDir, 'commitlog'));
        if (files.includes(next) && statSync(join(dataDir, 'commitlog', next)).size === segmentSize) {
          await new Promise((r) => setTimeout(r, 20)); // the worker reports after its last write
          return;
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const ids: string[] = [];
    for (let n = 0; n < 300; n++) {
      if (n % 50 === 0) await waitForPreparedNext();
      ids.push((await store.append(message(n, { queueId: 0, body: Buffer.alloc(600, n) }))).messageId);
    }
    const files = readdirSync(join(dataDir, 'commitlog')).filter((f) => !f.endsWith('.preallocating'));
    expect(files.length).toBeGreaterThan(2);
    // Every segment, the first one of the new log included, was prepared by the allocator: full
    // size, zero-filled beyond its records.
    for (const f of files) expect(statSync(join(dataDir, 'commitlog', f)).size).toBe(segmentSize);
    await closeStore(store);
    expect(readdirSync(join(dataDir, 'commitlog')).filter((f) => f.endsWith('.preallocating'))).toEqual([]);
    store = await openStore({ segmentSize, preallocate: true });
    expect(store.recoveryReport).toMatchObject({ abnormal: false, truncated: undefined, corruptions: [] });
    expect(store.getMessages('orders', 0, 0, 1000).messages.map((m) => m.messageId)).toEqual(ids);
  });

  it('refuses a record that cannot fit a segment with MESSAGE_BODY_TOO_LARGE', async () => {
    const store = await openStore({ segmentSize: 4096 });
    await expect(store.append(message(0, { body: Buffer.alloc(5000) }))).rejects.toMatchObject({
      code: StatusCode.MESSAGE_BODY_TOO_LARGE,
    });
    await expect(store.append(message(1))).resolves.toMatchObject({ queueOffset: 0 });
  });

  it('rejects a record too large for a segment alone, next to appends of the same turn and a roll-over', async () => {
    const store = await openStore({ segmentSize: 4096 });
    const appends = Array.from({ length: 12 }, (_, n) =>
      store.append(message(n, { queueId: 0, body: Buffer.alloc(n === 5 ? 5000 : 600, n) })),
    );
    const settled = await Promise.allSettled(appends);
    expect(settled[5]).toMatchObject({
      status: 'rejected',
      reason: { code: StatusCode.MESSAGE_BODY_TOO_LARGE },
    });
    const stored = settled.filter((r) => r.status === 'fulfilled');
    expect(stored).toHaveLength(11);
    expect(store.stats.segments).toBeGreaterThan(1);
    const read = store.getMessages('orders', 0, 0, 100).messages;
    expect(read.map((m) => m.messageId)).toEqual(
      Array.from({ length: 12 }, (_, n) => `ID-${n}`).filter((id) => id !== 'ID-5'),
    );
    expect(read.every((m, i) => m.queueOffset === i)).toBe(true);
  });
});

describe('MessageStore flush modes', () => {
  it('sync: an append resolves only once fdatasync covered it, and consumers only see durable records', async () => {
    const store = await openStore({ flushMode: 'sync' });
    const dispatched: DispatchRequest[] = [];
    let flushedAtDispatch = Infinity;
    store.onDispatch((batch) => {
      dispatched.push(...batch);
      flushedAtDispatch = Math.min(
        flushedAtDispatch,
        store.stats.flushedOffset - Math.max(...batch.map((r) => r.physicalOffset + r.size)),
      );
    });
    const pending = Array.from({ length: 200 }, (_, n) => store.append(message(n)));
    expect(store.getMessages('orders', 0, 0, 10).messages).toHaveLength(0);
    const results = await Promise.all(
      pending.map((p) =>
        p.then((r) => {
          expect(store.stats.flushedOffset).toBeGreaterThanOrEqual(r.physicalOffset + r.size);
          return r;
        }),
      ),
    );
    expect(results).toHaveLength(200);
    expect(dispatched).toHaveLength(200);
    expect(flushedAtDispatch).toBeGreaterThanOrEqual(0);
  });

  it('async: an append resolves once written and becomes durable on the flush interval', async () => {
    const store = await openStore({ flushMode: 'async', asyncFlushIntervalMs: 20 });
    const r = await store.append(message(0));
    expect(store.getMessages('orders', 0, 0, 1).messages).toHaveLength(1);
    const end = r.physicalOffset + r.size;
    for (let i = 0; i < 50 && store.stats.flushedOffset < end; i++)
      await new Promise((res) => setTimeout(res, 20));
    expect(store.stats.flushedOffset).toBeGreaterThanOrEqual(end);
  });
});

describe('MessageStore restart and rebuild', () => {
  it('restarts cleanly without re-dispatching, and continues queue offsets', async () => {
    let store = await openStore();
    for (let n = 0; n < 10; n++) await store.append(message(n));
    await closeStore(store);
    store = await openStore();
    expect(store.recoveryReport).toMatchObject({ abnormal: false, redispatched: 0, truncated: undefined });
    expect((await store.append(message(10))).queueOffset).toBe(5);
    expect(store.getMessages('orders', 0, 0, 100).messages.map((m) => m.messageId)).toContain('ID-10');
  });

  it('rebuilds consume queues and the index from the commit log when they are gone', async () => {
    let store = await openStore({ segmentSize: 8192 });
    for (let n = 0; n < 80; n++) await store.append(message(n));
    const before = [0, 1].map((q) => store.getMessages('orders', q, 0, 100).messages.map((m) => m.messageId));
    await closeStore(store);
    rmSync(join(dataDir, 'consumequeue'), { recursive: true });
    rmSync(join(dataDir, 'index'), { recursive: true });
    store = await openStore({ segmentSize: 8192 });
    expect(store.recoveryReport!.redispatched).toBe(80);
    expect(
      [0, 1].map((q) => store.getMessages('orders', q, 0, 100).messages.map((m) => m.messageId)),
    ).toEqual(before);
    expect((await store.queryByKey('orders', 'order-42')).map((m) => m.messageId)).toEqual(['ID-42']);
    expect((await store.append(message(80))).queueOffset).toBe(40);
  });

  it('refuses a data directory another live process holds', async () => {
    const store = await openStore();
    await closeStore(store);
    // PID 1 always exists: the directory looks owned by a live process.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dataDir, 'abort'), '1\n');
    await expect(MessageStore.open({ dataDir, logger: quiet })).rejects.toMatchObject({
      message: expect.stringContaining('in use by process 1'),
    });
  });

  it('refuses a data directory a store of this same process holds, and opens it again once closed', async () => {
    const store = await openStore();
    await expect(MessageStore.open({ dataDir: `${dataDir}/.`, logger: quiet })).rejects.toMatchObject({
      message: expect.stringContaining(`in use by process ${process.pid} (this process)`),
    });
    await closeStore(store);
    const again = await openStore();
    expect(again.recoveryReport!.abnormal).toBe(false);
  });
});

describe('MessageStore retention', () => {
  it('deletes segments past the retention time with their queue and index entries; readers move forward', async () => {
    const segmentSize = 4096;
    const store = await openStore({
      segmentSize,
      retentionHours: 1,
      consumeQueueEntriesPerFile: 8,
      flushMode: 'sync',
    });
    for (let n = 0; n < 80; n++) await store.append(message(n, { queueId: 0, body: Buffer.alloc(400, n) }));
    const segments = readdirSync(join(dataDir, 'commitlog')).sort();
    expect(segments.length).toBeGreaterThan(6);
    const old = Date.now() / 1000 - 2 * 3600;
    for (const f of segments.slice(0, 4)) utimesSync(join(dataDir, 'commitlog', f), old, old);

    expect(store.runRetention()).toBe(4);
    const remaining = readdirSync(join(dataDir, 'commitlog')).sort();
    expect(remaining).toEqual(segments.slice(4));
    const min = store.stats.minPhysicalOffset;
    expect(min).toBe(4 * segmentSize);

    const r = store.getMessages('orders', 0, 0, 200);
    expect(r.offsetCorrected).toBe(true);
    expect(r.minOffset).toBeGreaterThan(0);
    expect(r.messages[0]!.queueOffset).toBe(r.minOffset);
    expect(r.messages[0]!.physicalOffset).toBeGreaterThanOrEqual(min);
    expect(r.messages.at(-1)!.messageId).toBe('ID-79');
    expect(await store.queryByMessageId('ID-0')).toEqual([]);
    expect(await store.queryByMessageId('ID-79')).toHaveLength(1);
    // Consume-queue files whose entries all point below the minimum are gone.
    const cqFiles = readdirSync(join(dataDir, 'consumequeue', 'orders', '0'));
    expect(cqFiles.length).toBeLessThan(10);
    expect(store.runRetention()).toBe(0);
  });

  it('deletes oldest segments while the disk is over the usage limit, never the active one', async () => {
    let usage = 0.9;
    const store = await openStore({
      segmentSize: 4096,
      diskUsageLimit: 0.75,
      diskUsage: () => usage,
      flushMode: 'sync',
    });
    for (let n = 0; n < 40; n++) await store.append(message(n, { body: Buffer.alloc(500) }));
    const count = readdirSync(join(dataDir, 'commitlog')).length;
    expect(store.runRetention()).toBe(Math.min(10, count - 1));
    usage = 0.5;
    expect(store.runRetention()).toBe(0);
    expect(statSync(join(dataDir, 'commitlog')).isDirectory()).toBe(true);
    expect(readdirSync(join(dataDir, 'commitlog')).length).toBeGreaterThanOrEqual(1);
    expect((await store.append(message(99))).messageId).toBe('ID-99');
  });
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { MessageStore } from '../store/message-store.js';
import { StatusCode } from '../status-code.js';
import { ManualClock } from './clock.js';
import { ConsumerOffsets } from './consumer-offsets.js';
import { BadRequestError } from './errors.js';
import {
  computeLag,
  consumeOffsetOrStart,
  resetOffsetsToTimestamp,
  startOffset,
  type QueueBounds,
} from './lag.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };

let dir: string;
let store: MessageStore;
let offsets: ConsumerOffsets;
let seq = 0;
/** A fresh topic per test: one store (slow to open) serves the whole file. */
let T: string;
let test = 0;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'lag-'));
  store = await MessageStore.open({ dataDir: join(dir, 'store'), retentionIntervalMs: 0, logger: quiet });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  T = `orders${++test}`;
  offsets = new ConsumerOffsets({
    configDir: join(dir, `config${test}`),
    clock: new ManualClock(),
    logger: quiet,
  });
});

afterEach(() => offsets.close());

/** Appends `count` messages to (topic, queueId); returns their store timestamp. */
async function send(topic: string, queueId: number, count: number): Promise<number> {
  const results = await store.appendBatch(
    Array.from({ length: count }, () => ({
      topic,
      queueId,
      body: Buffer.from(`message ${++seq}`),
      messageId: `ID-${seq}`,
    })),
  );
  return results[0]!.storeTimestamp;
}

/** Appends in two rounds with distinct store timestamps; returns the second round's timestamp. */
async function twoRounds(): Promise<number> {
  const first = await send(T, 0, 5);
  await send(T, 1, 2);
  await sleep(5);
  const second = await send(T, 0, 5);
  await send(T, 1, 2);
  expect(second).toBeGreaterThan(first);
  return second;
}

describe('computeLag', () => {
  it('reports lag per queue and in total against a real store', async () => {
    await send(T, 0, 10);
    await send(T, 1, 4);
    offsets.commit('g', T, 0, 6);
    expect(computeLag(store, offsets, 'g', T)).toEqual({
      group: 'g',
      topic: T,
      queues: [
        { queueId: 0, committedOffset: 6, minOffset: 0, maxOffset: 10, lag: 4 },
        { queueId: 1, committedOffset: undefined, minOffset: 0, maxOffset: 4, lag: 4 },
      ],
      total: 8,
    });
  });

  it('includes configured empty queues and queues known only from offsets', async () => {
    await send(T, 1, 3);
    offsets.commit('g', T, 5, 0);
    const lag = computeLag(store, offsets, 'g', T, { queueCount: 3 });
    expect(lag.queues.map((q) => [q.queueId, q.lag])).toEqual([
      [0, 0],
      [1, 3],
      [2, 0],
      [5, 0],
    ]);
    expect(lag.total).toBe(3);
  });

  it('is zero once everything is committed, and for unknown topics', async () => {
    await send(T, 0, 3);
    offsets.commit('g', T, 0, 3);
    expect(computeLag(store, offsets, 'g', T).total).toBe(0);
    expect(computeLag(store, offsets, 'g', 'nothing')).toEqual({
      group: 'g',
      topic: 'nothing',
      queues: [],
      total: 0,
    });
  });

  it('does not count messages removed by retention, nor go negative', () => {
    const bounds: QueueBounds = {
      minOffset: () => 100,
      maxOffset: () => 150,
      queueIds: () => [0],
    };
    offsets.commit('g', 't', 0, 20);
    expect(computeLag(bounds, offsets, 'g', 't').queues[0]!.lag).toBe(50);
    expect(computeLag(bounds, offsets, 'h', 't').queues[0]!.lag).toBe(50);
    offsets.commit('g', 't', 0, 200);
    expect(computeLag(bounds, offsets, 'g', 't').queues[0]!.lag).toBe(0);
  });
});

describe('resetOffsetsToTimestamp', () => {
  it('moves every queue to the first message at or after the timestamp, and persists', async () => {
    const second = await twoRounds();
    offsets.commit('g', T, 0, 10);
    offsets.commit('g', T, 1, 4);
    const resets: unknown[] = [];
    offsets.onReset((...args) => resets.push(args));

    expect(resetOffsetsToTimestamp(store, offsets, 'g', T, second)).toEqual([
      { queueId: 0, offset: 5 },
      { queueId: 1, offset: 2 },
    ]);
    expect(resets).toEqual([
      ['g', T, 0, 5],
      ['g', T, 1, 2],
    ]);
    expect(offsets.dirty).toBe(false);
    const reopened = new ConsumerOffsets({ configDir: join(dir, `config${test}`), clock: new ManualClock() });
    expect(reopened.forGroup('g')).toEqual([
      { topic: T, queueId: 0, offset: 5 },
      { topic: T, queueId: 1, offset: 2 },
    ]);
    expect(computeLag(store, offsets, 'g', T).total).toBe(7);
  });

  it('moves to the start for an old timestamp and to the end for a future one', async () => {
    await twoRounds();
    resetOffsetsToTimestamp(store, offsets, 'g', T, 0);
    expect(offsets.forGroup('g').map((o) => o.offset)).toEqual([0, 0]);
    resetOffsetsToTimestamp(store, offsets, 'g', T, Date.now() + 60_000);
    expect(offsets.forGroup('g').map((o) => o.offset)).toEqual([10, 4]);
    expect(computeLag(store, offsets, 'g', T).total).toBe(0);
  });

  it('rejects a timestamp that is not a number with BAD_REQUEST', () => {
    expect(() => resetOffsetsToTimestamp(store, offsets, 'g', T, Number.NaN)).toThrow(BadRequestError);
    try {
      resetOffsetsToTimestamp(store, offsets, 'g', T, Number.POSITIVE_INFINITY);
    } catch (err) {
      expect((err as BadRequestError).code).toBe(StatusCode.BAD_REQUEST);
    }
  });
});

describe('where a new group starts', () => {
  it('first, last and timestamp against a real store', async () => {
    const second = await twoRounds();
    expect(startOffset(store, { kind: 'first' }, T, 0)).toBe(0);
    expect(startOffset(store, { kind: 'last' }, T, 0)).toBe(10);
    expect(startOffset(store, { kind: 'timestamp', timestamp: second }, T, 0)).toBe(5);
    expect(startOffset(store, { kind: 'timestamp', timestamp: 0 }, T, 1)).toBe(0);
    expect(startOffset(store, { kind: 'timestamp', timestamp: Date.now() + 60_000 }, T, 1)).toBe(4);
    expect(startOffset(store, { kind: 'first' }, 'empty', 0)).toBe(0);
    expect(startOffset(store, { kind: 'last' }, 'empty', 0)).toBe(0);
  });

  it('retry and DLQ topics always start at the first message', async () => {
    await send(`%RETRY%g${test}`, 0, 3);
    await send(`%DLQ%g${test}`, 0, 2);
    expect(startOffset(store, { kind: 'last' }, `%RETRY%g${test}`, 0)).toBe(0);
    expect(
      startOffset(store, { kind: 'timestamp', timestamp: Date.now() + 60_000 }, `%DLQ%g${test}`, 0),
    ).toBe(0);
  });

  it('consumeOffsetOrStart commits the start point on first contact, then keeps the committed offset', async () => {
    await send(T, 0, 4);
    const group = { name: 'g', consumeFrom: { kind: 'last' } as const };
    expect(consumeOffsetOrStart(store, offsets, group, T, 0)).toBe(4);
    expect(offsets.get('g', T, 0)).toBe(4);
    await send(T, 0, 3);
    // The start point does not drift with the queue: the 3 new messages are for the group.
    expect(consumeOffsetOrStart(store, offsets, group, T, 0)).toBe(4);
    offsets.commit('g', T, 0, 6);
    expect(consumeOffsetOrStart(store, offsets, group, T, 0)).toBe(6);
    expect(consumeOffsetOrStart(store, offsets, { name: 'h', consumeFrom: { kind: 'first' } }, T, 0)).toBe(0);
  });
});

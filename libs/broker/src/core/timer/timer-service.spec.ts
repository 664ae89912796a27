import type { MessageStore } from '../../store/index.js';
import { StatusCode } from '../../status-code.js';
import { ManualClock, type Clock } from '../clock.js';
import { IllegalDeliveryTimeError } from '../errors.js';
import { DELAY_LEVELS_MS, SCHEDULE_TOPIC } from '../limits.js';
import { IllegalDelayLevelError, TimerServiceClosedError } from './timer-errors.js';
import { DELAY, REAL_QID, REAL_TOPIC, TIMER_DELIVER_MS } from './timer-message.js';
import { freshTimerProgress, writeTimerProgress } from './timer-progress.js';
import { TimerService, type TimerServiceOptions } from './timer-service.js';
import {
  advance,
  capturingLogger,
  message,
  openTestStore,
  readQueue,
  removeDir,
  settle,
  tempDir,
  type CapturingLogger,
} from './timer-testing.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
/** 2025-01-01T00:00:00Z: buckets line up with wall-clock quarters. */
const T0 = Date.UTC(2025, 0, 1);

/** A clock whose `now()` is shifted by a settable `offset`: a wall clock stepping back or ahead. */
function offsetClock(base: Clock): Clock & { offset: number } {
  const shifted = {
    offset: 0,
    now: () => base.now() + shifted.offset,
    setTimeout: (fn: () => void, ms: number) => base.setTimeout(fn, ms),
    clearTimeout: (handle: Parameters<Clock['clearTimeout']>[0]) => base.clearTimeout(handle),
  };
  return shifted;
}

describe('TimerService', () => {
  let dir: string;
  let logger: CapturingLogger;
  let store: MessageStore;
  let clock: ManualClock;
  const services: TimerService[] = [];

  beforeEach(async () => {
    dir = tempDir('svc');
    logger = capturingLogger();
    store = await openTestStore(dir, logger);
    clock = new ManualClock(T0);
  });

  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
    await store.close();
    removeDir(dir);
  });

  async function open(options: Partial<TimerServiceOptions> = {}): Promise<TimerService> {
    const service = await TimerService.open({ store, clock, stateDir: dir, logger, ...options });
    services.push(service);
    return service;
  }

  /** Records (message id, clock time) of each delivery. */
  function recordFires(service: TimerService): Array<[string, number, number]> {
    const fires: Array<[string, number, number]> = [];
    service.onFired = (id, late) => fires.push([id, clock.now(), late]);
    return fires;
  }

  it('fires every timer at its due time, in due order, across buckets', async () => {
    const timer = await open({ bucketMs: MINUTE, maxDelayMs: 10 * MINUTE });
    const fires = recordFires(timer);
    // Due times scattered over 10 buckets, scheduled out of order.
    const dues = [
      9 * MINUTE + 1,
      1,
      59_999,
      60_000,
      2 * MINUTE + 500,
      30 * SECOND,
      5 * MINUTE,
      7 * MINUTE + 3,
    ];
    for (const [i, d] of dues.entries()) await timer.schedule(message(`m${i}`), T0 + d);
    expect(timer.pending).toBe(dues.length);

    await advance(clock, 10 * MINUTE);
    const expected = dues.map((d, i) => [`m${i}`, T0 + d] as const).sort((a, b) => a[1] - b[1]);
    expect(fires.map(([id, at]) => [id, at])).toEqual(expected);
    expect(fires.every(([, , late]) => late === 0)).toBe(true);
    // Delivered in due order on the real queue.
    expect(readQueue(store, 'orders', 0).map((m) => m.messageId)).toEqual(expected.map(([id]) => id));
    expect(timer.pending).toBe(0);
  });

  it('does not fire a timer a millisecond early', async () => {
    const timer = await open();
    await timer.schedule(message('a'), T0 + 5 * MINUTE);
    await advance(clock, 5 * MINUTE - 1);
    expect(readQueue(store, 'orders', 0)).toHaveLength(0);
    await advance(clock, 1);
    expect(readQueue(store, 'orders', 0).map((m) => m.messageId)).toEqual(['a']);
  });

  it('parks the message in SCHEDULE_TOPIC with its destination and due time', async () => {
    const timer = await open();
    await timer.schedule(message('a', { topic: 'pay', queueId: 3 }), T0 + 20 * MINUTE);
    const parked = store.topics().includes(SCHEDULE_TOPIC)
      ? store.queueIds(SCHEDULE_TOPIC).flatMap((q) => readQueue(store, SCHEDULE_TOPIC, q))
      : [];
    expect(parked).toHaveLength(1);
    expect(parked[0]!.systemProperties).toMatchObject({
      [REAL_TOPIC]: 'pay',
      [REAL_QID]: '3',
      [TIMER_DELIVER_MS]: String(T0 + 20 * MINUTE),
    });
    expect(readQueue(store, 'pay', 3)).toHaveLength(0);
  });

  it('delivers the real message with the same id, body, tag, keys and properties', async () => {
    const timer = await open();
    const original = message('MSG-1', {
      topic: 'shipments',
      queueId: 5,
      body: Buffer.from([0, 1, 2, 255, 254]),
      tag: 'urgent',
      keys: ['k1', 'k2'],
      userProperties: { color: 'blue', size: 'XL' },
      systemProperties: { __SHARDINGKEY: 'g1', ORIGIN_MESSAGE_ID: 'orig' },
      flag: 7,
      bornTimestamp: T0 - 5_000,
      bornHost: '10.1.2.3:4567',
      reconsumeTimes: 2,
    });
    const result = await timer.schedule(original, T0 + 90 * SECOND);
    expect(result).toEqual({ messageId: 'MSG-1', deliverAt: T0 + 90 * SECOND, queueOffset: 0 });
    await advance(clock, 90 * SECOND);
    const [m, ...rest] = readQueue(store, 'shipments', 5);
    expect(rest).toHaveLength(0);
    expect(m).toMatchObject({
      topic: 'shipments',
      queueId: 5,
      messageId: 'MSG-1',
      tag: 'urgent',
      keys: ['k1', 'k2'],
      userProperties: { color: 'blue', size: 'XL' },
      systemProperties: {
        __SHARDINGKEY: 'g1',
        ORIGIN_MESSAGE_ID: 'orig',
        [TIMER_DELIVER_MS]: String(T0 + 90 * SECOND),
      },
      flag: 7,
      bornTimestamp: T0 - 5_000,
      bornHost: '10.1.2.3:4567',
      reconsumeTimes: 2,
    });
    expect(m!.body).toEqual(Buffer.from([0, 1, 2, 255, 254]));
    expect(m!.systemProperties[REAL_TOPIC]).toBeUndefined();
    expect(m!.systemProperties[REAL_QID]).toBeUndefined();
    // Findable by id and key on its real topic.
    const byId = await store.queryByMessageId('MSG-1');
    expect(byId.map((x) => x.topic).sort()).toEqual([SCHEDULE_TOPIC, 'shipments'].sort());
    expect((await store.queryByKey('shipments', 'k2')).map((x) => x.messageId)).toEqual(['MSG-1']);
  });

  it('delivers at once when the delivery time is now or past', async () => {
    const timer = await open();
    const fires = recordFires(timer);
    await expect(timer.schedule(message('now'), T0)).resolves.toEqual({
      messageId: 'now',
      deliverAt: T0,
      queueOffset: 0,
    });
    await expect(timer.schedule(message('past'), T0 - HOUR)).resolves.toEqual({
      messageId: 'past',
      deliverAt: T0,
      queueOffset: 1,
    });
    const delivered = readQueue(store, 'orders', 0);
    expect(delivered.map((m) => m.messageId)).toEqual(['now', 'past']);
    expect(delivered[0]!.systemProperties[TIMER_DELIVER_MS]).toBe(String(T0));
    expect(fires.map(([id]) => id)).toEqual(['now', 'past']);
    expect(store.topics()).not.toContain(SCHEDULE_TOPIC);
  });

  it('rejects a delivery time beyond the max delay with ILLEGAL_DELIVERY_TIME', async () => {
    const timer = await open();
    await expect(timer.schedule(message('ok'), T0 + 24 * HOUR)).resolves.toBeDefined();
    for (const bad of [T0 + 24 * HOUR + 1, T0 + 48 * HOUR, NaN, Infinity]) {
      const err: unknown = await timer.schedule(message('bad'), bad).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IllegalDeliveryTimeError);
      expect((err as IllegalDeliveryTimeError).code).toBe(StatusCode.ILLEGAL_DELIVERY_TIME);
    }
  });

  it('honours a configured max delay', async () => {
    const timer = await open({ maxDelayMs: 2 * HOUR });
    await expect(timer.schedule(message('ok'), T0 + 2 * HOUR)).resolves.toBeDefined();
    await expect(timer.schedule(message('bad'), T0 + 2 * HOUR + 1)).rejects.toBeInstanceOf(
      IllegalDeliveryTimeError,
    );
    const week = await open({ maxDelayMs: 7 * 24 * HOUR, stateDir: `${dir}/week` });
    await expect(week.schedule(message('w'), T0 + 7 * 24 * HOUR)).resolves.toBeDefined();
  });

  it('rejects an undeliverable message before parking it', async () => {
    const timer = await open();
    await expect(timer.schedule(message('x', { topic: '' }), T0 + MINUTE)).rejects.toMatchObject({
      code: StatusCode.ILLEGAL_TOPIC,
    });
    await expect(timer.schedule(message('x', { queueId: -1 }), T0 + MINUTE)).rejects.toMatchObject({
      code: StatusCode.BAD_REQUEST,
    });
    await expect(timer.schedule(message('x', { topic: SCHEDULE_TOPIC }), T0 + MINUTE)).rejects.toMatchObject({
      code: StatusCode.ILLEGAL_TOPIC,
    });
    expect(timer.pending).toBe(0);
  });

  it('fires the 18 delay levels after their delays', async () => {
    const timer = await open();
    const fires = recordFires(timer);
    for (let level = 18; level >= 1; level--) {
      const r = await timer.scheduleLevel(message(`L${level}`), level);
      expect(r.deliverAt).toBe(T0 + DELAY_LEVELS_MS[level - 1]!);
    }
    await advance(clock, 2 * HOUR);
    expect(fires.map(([id, at]) => [id, at - T0])).toEqual(DELAY_LEVELS_MS.map((ms, i) => [`L${i + 1}`, ms]));
    const delivered = readQueue(store, 'orders', 0);
    expect(delivered).toHaveLength(18);
    for (const m of delivered) expect(m.systemProperties[DELAY]).toBeUndefined();
  });

  it('accepts level delays even when the max delay is shorter', async () => {
    const timer = await open({ maxDelayMs: 10 * MINUTE });
    await expect(timer.scheduleLevel(message('two-hours'), 18)).resolves.toMatchObject({
      deliverAt: T0 + 2 * HOUR,
    });
    await advance(clock, 2 * HOUR);
    expect(readQueue(store, 'orders', 0)).toHaveLength(1);
  });

  it('rejects a bad delay level with a typed error', async () => {
    const timer = await open();
    for (const level of [0, 19, -1, 1.5, NaN]) {
      const err: unknown = await timer.scheduleLevel(message('x'), level).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IllegalDelayLevelError);
      expect((err as IllegalDelayLevelError).code).toBe(StatusCode.ILLEGAL_DELIVERY_TIME);
    }
  });

  it('fires timers scheduled into the bucket being fired, and ones scheduled by a firing', async () => {
    const timer = await open({ bucketMs: MINUTE, maxDelayMs: 10 * MINUTE });
    const fires = recordFires(timer);
    await timer.schedule(message('first'), T0 + 10 * SECOND);
    await advance(clock, 5 * SECOND);
    await timer.schedule(message('same-bucket'), T0 + 8 * SECOND);
    await timer.schedule(message('next-bucket'), T0 + 70 * SECOND);
    await advance(clock, 65 * SECOND);
    await timer.schedule(message('later'), T0 + 3 * MINUTE);
    await advance(clock, 5 * MINUTE);
    expect(fires.map(([id, at]) => [id, at - T0])).toEqual([
      ['same-bucket', 8 * SECOND],
      ['first', 10 * SECOND],
      ['next-bucket', 70 * SECOND],
      ['later', 3 * MINUTE],
    ]);
  });

  it('spans a whole day: a timer 24 h ahead fires on time', async () => {
    const timer = await open();
    const fires = recordFires(timer);
    await timer.schedule(message('day'), T0 + 24 * HOUR);
    await timer.schedule(message('hour'), T0 + HOUR + 1);
    await advance(clock, 12 * HOUR);
    await timer.schedule(message('again'), T0 + 36 * HOUR);
    await advance(clock, 24 * HOUR);
    expect(fires.map(([id, at]) => [id, at - T0])).toEqual([
      ['hour', HOUR + 1],
      ['day', 24 * HOUR],
      ['again', 36 * HOUR],
    ]);
  });

  it('keeps memory to the current and next buckets', async () => {
    const timer = await open({ bucketMs: MINUTE, maxDelayMs: HOUR });
    for (let i = 0; i < 50; i++) await timer.schedule(message(`m${i}`), T0 + 30 * MINUTE + i);
    await timer.schedule(message('near'), T0 + 30 * SECOND);
    expect(timer.pending).toBe(51);
    // The far bucket is not loaded: only the near timer is in memory.
    expect(timer.stats.windows.reduce((n, w) => n + w.loaded, 0)).toBe(1);
    await advance(clock, 29 * MINUTE + 30 * SECOND);
    expect(timer.stats.windows.reduce((n, w) => n + w.loaded, 0)).toBe(50);
    await advance(clock, MINUTE);
    expect(timer.pending).toBe(0);
    expect(readQueue(store, 'orders', 0)).toHaveLength(51);
  });

  it('re-reads a wrapped queue one lap later when the saved geometry is too short for the delay', async () => {
    // A state directory created with 3 one-minute buckets (a 3-minute cycle) reopened with a 10-min max:
    // timers several laps ahead share queues with live buckets and must still fire on time, once.
    writeTimerProgress(dir, freshTimerProgress(MINUTE, 3));
    const timer = await open({ bucketMs: MINUTE, maxDelayMs: 10 * MINUTE });
    expect(timer.geometry.bucketCount).toBe(3);
    expect(logger.lines.some((l) => l.includes('keeping the saved geometry'))).toBe(true);
    const fires = recordFires(timer);
    const dues = [10 * MINUTE, 30 * SECOND, 3 * MINUTE + 30 * SECOND, 6 * MINUTE + 1, 4 * MINUTE];
    for (const [i, d] of dues.entries()) await timer.schedule(message(`w${i}`), T0 + d);
    await advance(clock, 11 * MINUTE);
    expect(fires.map(([id, at]) => [id, at - T0])).toEqual(
      dues.map((d, i) => [`w${i}`, d] as const).sort((a, b) => a[1] - b[1]),
    );
    expect(readQueue(store, 'orders', 0)).toHaveLength(dues.length);
  });

  it('survives a clock stepping back: nothing fires early, twice or never', async () => {
    const jumpy = offsetClock(clock);
    const timer = await open({ clock: jumpy });
    const fires: Array<[string, number]> = [];
    timer.onFired = (id) => fires.push([id, jumpy.now()]);
    await timer.schedule(message('a'), T0 + 10 * MINUTE);
    await timer.schedule(message('later'), T0 + 2 * HOUR);
    await advance(clock, 40 * MINUTE);
    // The clock steps back one hour: buckets between T0 − 20 min and T0 + 40 min were finished.
    jumpy.offset = -HOUR;
    await timer.schedule(message('b'), T0 - 15 * MINUTE);
    await timer.schedule(message('c'), T0 + 5 * MINUTE);
    await timer.schedule(message('d'), T0 + 30 * MINUTE + 1);
    await advance(clock, 3 * HOUR);
    expect(fires).toEqual([
      ['a', T0 + 10 * MINUTE],
      ['b', T0 - 15 * MINUTE],
      ['c', T0 + 5 * MINUTE],
      ['d', T0 + 30 * MINUTE + 1],
      ['later', T0 + 2 * HOUR],
    ]);
    expect(readQueue(store, 'orders', 0)).toHaveLength(5);
  });

  it('survives a clock jumping a year ahead and back', async () => {
    const jumpy = offsetClock(clock);
    const timer = await open({ clock: jumpy });
    const fires: Array<[string, number]> = [];
    timer.onFired = (id) => fires.push([id, jumpy.now()]);
    await timer.schedule(message('early'), T0 + 10 * MINUTE);
    jumpy.offset = 365 * 24 * HOUR;
    // The next wake-up (armed for 'early') sees a clock a year ahead: everything is due, it fires.
    await advance(clock, 10 * MINUTE);
    expect(fires.map(([id]) => id)).toEqual(['early']);
    jumpy.offset = 0;
    await timer.schedule(message('x'), T0 + 20 * MINUTE);
    await timer.schedule(message('y'), T0 + 5 * HOUR);
    await advance(clock, 6 * HOUR);
    expect(fires.slice(1)).toEqual([
      ['x', T0 + 20 * MINUTE],
      ['y', T0 + 5 * HOUR],
    ]);
  });

  it('rejects schedules after close', async () => {
    const timer = await open();
    await timer.close();
    await expect(timer.schedule(message('x'), T0 + MINUTE)).rejects.toBeInstanceOf(TimerServiceClosedError);
    await expect(timer.scheduleLevel(message('x'), 1)).rejects.toBeInstanceOf(TimerServiceClosedError);
  });

  it('close waits for parks in flight', async () => {
    const timer = await open();
    const parks = Array.from({ length: 20 }, (_, i) => timer.schedule(message(`p${i}`), T0 + MINUTE));
    await timer.close();
    await expect(Promise.all(parks)).resolves.toHaveLength(20);
    await settle();
  });

  it('survives a throwing onFired hook', async () => {
    const timer = await open();
    timer.onFired = () => {
      throw new Error('metrics down');
    };
    await timer.schedule(message('a'), T0 + SECOND);
    await timer.schedule(message('b'), T0 + 2 * SECOND);
    await advance(clock, 2 * SECOND);
    expect(readQueue(store, 'orders', 0)).toHaveLength(2);
    expect(logger.lines.some((l) => l.includes('onFired hook failed'))).toBe(true);
  });
});

import type { MessageStore } from '../../store/index.js';
import { ManualClock } from '../clock.js';
import { freshTimerProgress, writeTimerProgress } from './timer-progress.js';
import { TimerService } from './timer-service.js';
import {
  advance,
  capturingLogger,
  message,
  openTestStore,
  readQueue,
  removeDir,
  tempDir,
  type CapturingLogger,
} from './timer-testing.js';

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const T0 = Date.UTC(2025, 0, 1);

function countIds(ids: readonly string[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
  return counts;
}

describe('TimerService across restarts', () => {
  let dir: string;
  let logger: CapturingLogger;
  let store: MessageStore;
  const services: TimerService[] = [];

  beforeEach(async () => {
    dir = tempDir('restart');
    logger = capturingLogger();
    store = await openTestStore(dir, logger);
  });

  afterEach(async () => {
    for (const s of services.splice(0)) await s.close();
    await store.close();
    removeDir(dir);
  });

  async function open(clock: ManualClock, bucketMs?: number): Promise<TimerService> {
    const service = await TimerService.open({ store, clock, stateDir: dir, logger, bucketMs });
    services.push(service);
    return service;
  }

  async function restartStore(): Promise<void> {
    await store.close();
    store = await openTestStore(dir, logger);
  }

  it('close → reopen: every timer fires exactly once, on time', async () => {
    let clock = new ManualClock(T0);
    const a = await open(clock);
    // 60 timers over 2 hours: across several buckets, some due before the restart.
    const dues = Array.from({ length: 60 }, (_, i) => T0 + (i + 1) * 2 * MINUTE);
    for (const [i, d] of dues.entries()) await a.schedule(message(`t${i}`), d);
    await advance(clock, 30 * MINUTE + 30 * SECOND);
    expect(readQueue(store, 'orders', 0)).toHaveLength(15);
    await a.close();
    services.length = 0;
    await restartStore();

    clock = new ManualClock(clock.now());
    const b = await open(clock);
    expect(b.pending).toBe(45);
    const fires: Array<[string, number]> = [];
    b.onFired = (id) => fires.push([id, clock.now()]);
    await advance(clock, 2 * HOUR);
    const ids = readQueue(store, 'orders', 0).map((m) => m.messageId);
    expect(ids).toEqual(dues.map((_, i) => `t${i}`));
    expect(fires).toEqual(dues.slice(15).map((d, i) => [`t${i + 15}`, d]));
    expect(b.pending).toBe(0);
  });

  it('timers due while the broker was down fire at once on restart, in due order, the rest on time', async () => {
    let clock = new ManualClock(T0);
    const a = await open(clock);
    const dues = [5 * MINUTE, 50 * MINUTE, 2 * HOUR, 3 * HOUR + 10 * MINUTE, 20 * HOUR];
    for (const [i, d] of dues.entries()) await a.schedule(message(`d${i}`), T0 + d);
    await a.close();
    services.length = 0;
    await restartStore();

    // Down for three hours.
    clock = new ManualClock(T0 + 3 * HOUR);
    const b = await open(clock);
    const fires: Array<[string, number, number]> = [];
    b.onFired = (id, late) => fires.push([id, clock.now() - T0, late]);
    await advance(clock, 0);
    expect(fires).toEqual([
      ['d0', 3 * HOUR, 3 * HOUR - 5 * MINUTE],
      ['d1', 3 * HOUR, 3 * HOUR - 50 * MINUTE],
      ['d2', 3 * HOUR, HOUR],
    ]);
    await advance(clock, 21 * HOUR);
    expect(fires.slice(3)).toEqual([
      ['d3', 3 * HOUR + 10 * MINUTE, 0],
      ['d4', 20 * HOUR, 0],
    ]);
    expect(readQueue(store, 'orders', 0)).toHaveLength(5);
  });

  it('down for longer than a whole cycle: everything overdue is delivered once', async () => {
    let clock = new ManualClock(T0);
    const a = await open(clock);
    for (let i = 0; i < 24; i++) await a.schedule(message(`h${i}`), T0 + i * HOUR + 7 * MINUTE);
    await a.close();
    services.length = 0;
    clock = new ManualClock(T0 + 3 * 24 * HOUR);
    const b = await open(clock);
    await advance(clock, 0);
    await advance(clock, 0);
    const ids = readQueue(store, 'orders', 0).map((m) => m.messageId);
    expect(ids.sort()).toEqual(Array.from({ length: 24 }, (_, i) => `h${i}`).sort());
    expect(b.pending).toBe(0);
  });

  it('crash (no close) → reopen: every timer fires at least once; duplicates only since the last progress write', async () => {
    const clockA = new ManualClock(T0);
    const a = await open(clockA, MINUTE);
    const n = 300;
    // 300 timers, one every 100 ms over 30 s.
    for (let i = 0; i < n; i++) await a.schedule(message(`c${i}`), T0 + (i + 1) * 100);
    let firedByA = 0;
    a.onFired = () => firedByA++;
    await advance(clockA, 15 * SECOND + 450);
    expect(firedByA).toBe(154);
    // "Crash": A is abandoned without close (its clock never moves again, it never writes again).
    services.length = 0;

    const clockB = new ManualClock(clockA.now());
    const b = await open(clockB, MINUTE);
    let firedByB = 0;
    b.onFired = () => firedByB++;
    await advance(clockB, 0);
    const refiredAtOnce = firedByB;
    await advance(clockB, 20 * SECOND);
    const counts = countIds(readQueue(store, 'orders', 0).map((m) => m.messageId));
    expect(counts.size).toBe(n);
    const duplicates = [...counts.values()].filter((c) => c > 1).length;
    console.log(
      `crash test: A fired ${firedByA}, B fired ${firedByB} (${refiredAtOnce} at once on reopen), ` +
        `${duplicates} duplicate deliveries of ${n}`,
    );
    for (const c of counts.values()) expect(c).toBeLessThanOrEqual(2);
    // Progress is written every second while firing: at most ~1 s of fires (10 timers) repeat.
    expect(duplicates).toBeLessThanOrEqual(10);
    expect(duplicates).toBe(refiredAtOnce);
  });

  it('crash mid-bucket, then a clock behind the crash: skips only what was delivered, never new parks', async () => {
    const clockA = new ManualClock(T0);
    const a = await open(clockA);
    for (let i = 1; i <= 10; i++) await a.schedule(message(`s${i}`), T0 + i * MINUTE);
    await advance(clockA, 5 * MINUTE + 2 * SECOND);
    expect(readQueue(store, 'orders', 0)).toHaveLength(5);
    services.length = 0; // crash

    // Reopened with a clock three minutes behind the crash; a new timer lands in the same bucket queue,
    // due before timers that were already delivered.
    const clockB = new ManualClock(T0 + 2 * MINUTE);
    const b = await open(clockB);
    await b.schedule(message('new'), T0 + 3 * MINUTE);
    await advance(clockB, 10 * MINUTE);
    const ids = readQueue(store, 'orders', 0).map((m) => m.messageId);
    expect(ids).toEqual(['s1', 's2', 's3', 's4', 's5', 'new', 's6', 's7', 's8', 's9', 's10']);
  });

  it('progress ahead of a store that lost its tail does not hide new parks', async () => {
    const clock = new ManualClock(T0);
    // Saved progress claims 50 records of every queue were read and delivered; the store has none.
    const state = freshTimerProgress(15 * MINUTE, 98);
    for (const q of state.queues) Object.assign(q, { offset: 50, readTo: 50, skipBelow: T0 + 24 * HOUR });
    writeTimerProgress(dir, state);
    const timer = await open(clock);
    expect(logger.lines.some((l) => l.includes('below saved progress'))).toBe(true);
    await timer.schedule(message('fresh'), T0 + MINUTE);
    await timer.schedule(message('far'), T0 + 5 * HOUR);
    await advance(clock, 6 * HOUR);
    expect(readQueue(store, 'orders', 0).map((m) => m.messageId)).toEqual(['fresh', 'far']);
  });

  it('crash right after parking, before any progress write: nothing is lost', async () => {
    const clockA = new ManualClock(T0);
    const a = await open(clockA);
    await a.schedule(message('p1'), T0 + 10 * MINUTE);
    await a.schedule(message('p2'), T0 + 20 * HOUR);
    services.length = 0;
    const clockB = new ManualClock(T0 + MINUTE);
    const b = await open(clockB);
    expect(b.pending).toBe(2);
    await advance(clockB, 20 * HOUR);
    expect(readQueue(store, 'orders', 0).map((m) => m.messageId)).toEqual(['p1', 'p2']);
  });
});

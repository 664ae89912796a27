/**
 * MEMORY: 1,000,000 pending timers in the near bucket (issue 3's scheduler test). Loaded timers cost
 * 16 B each in typed arrays outside the JS heap; bodies stay on disk; timers in far buckets cost
 * nothing until their bucket comes. Prints heap / array-buffer / RSS growth over a baseline taken
 * after the parked records were written, then fires the first 200,000 in one burst and checks that
 * they arrive in due order.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { MessageStore, MessageToStore } from '../../store/index.js';
import { ManualClock } from '../clock.js';
import { TimerService } from './timer-service.js';
import { TIMER_DELIVER_MS, toScheduleRecord } from './timer-message.js';
import { TimerGeometry } from './timer-geometry.js';
import { capturingLogger, openTestStore, removeDir, settle, tempDir, until } from './timer-testing.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MB = 1024 * 1024;
const MINUTE = 60_000;
const BUCKET = 15 * MINUTE;
const T0 = Date.UTC(2025, 0, 1);
const NEAR = 1_000_000;
const FAR = 100_000;
/** The first fifth of the near bucket is fired (a 200k burst): all of it would take ~40 s more. */
const FIRE_SPAN = BUCKET / 5;
const CHUNK = 20_000;

interface Memory {
  heapUsed: number;
  arrayBuffers: number;
  rss: number;
}

function memory(): Memory {
  gc();
  gc();
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, arrayBuffers: m.arrayBuffers, rss: m.rss };
}

function mb(bytes: number): string {
  return `${(bytes / MB).toFixed(1)} MB`;
}

describe('TimerService MEMORY: 1,000,000 pending timers', () => {
  let dir: string;
  let store: MessageStore;
  let timer: TimerService | undefined;

  beforeAll(async () => {
    dir = tempDir('million');
    store = await openTestStore(dir, capturingLogger());
  });

  afterAll(async () => {
    await timer?.close();
    await store.close();
    removeDir(dir);
  });

  /** Parks `count` timers due inside bucket `bucket`, in a scrambled order, straight into the store. */
  async function park(prefix: string, count: number, bucket: number, geometry: TimerGeometry): Promise<void> {
    const body = Buffer.alloc(16, 7);
    const queueId = geometry.queueOf(bucket);
    const start = geometry.startOf(bucket);
    for (let from = 0; from < count; from += CHUNK) {
      const batch: MessageToStore[] = [];
      for (let i = from; i < Math.min(count, from + CHUNK); i++) {
        // 7919 is prime and coprime to the bucket width: due times visit the bucket out of order.
        const due = start + ((i * 7919) % BUCKET);
        batch.push(
          toScheduleRecord({ topic: 'bulk', queueId: 0, body, messageId: `${prefix}${i}` }, due, queueId),
        );
      }
      await store.appendBatch(batch);
    }
  }

  it('loads 1M near timers in bounded memory, keeps far ones on disk, then fires a 200k burst', async () => {
    const clock = new ManualClock(T0);
    const geometry = TimerGeometry.forMaxDelay(24 * 60 * MINUTE, BUCKET);
    const current = geometry.bucketOf(T0);
    let t = Date.now();
    await park('n', NEAR, current + 1, geometry);
    await park('f', FAR, current + 40, geometry);
    const parkMs = Date.now() - t;
    await settle();
    const before = memory();

    t = Date.now();
    timer = await TimerService.open({ store, clock, stateDir: dir, logger: capturingLogger() });
    await until(() => timer!.stats.windows.every((w) => !w.loading), 300_000);
    const loadMs = Date.now() - t;
    const after = memory();
    const loaded = timer.stats.windows.reduce((n, w) => n + w.loaded, 0);
    const heapBytes = timer.stats.windows.reduce((n, w) => n + w.heapBytes, 0);
    const growth = {
      heapUsed: after.heapUsed - before.heapUsed,
      arrayBuffers: after.arrayBuffers - before.arrayBuffers,
      rss: after.rss - before.rss,
    };
    console.log(
      `1M timers: parked ${NEAR + FAR} in ${parkMs} ms; loaded ${loaded} near timers in ${loadMs} ms ` +
        `(${(loaded / (loadMs / 1000)).toFixed(0)}/s); timer arrays ${mb(heapBytes)}; growth over baseline: ` +
        `JS heap ${mb(growth.heapUsed)}, array buffers ${mb(growth.arrayBuffers)}, RSS ${mb(growth.rss)} ` +
        `(RSS ${mb(before.rss)} before, ${mb(after.rss)} after; JS heap ${mb(before.heapUsed)} → ${mb(after.heapUsed)})`,
    );
    expect(loaded).toBe(NEAR);
    expect(timer.pending).toBe(NEAR + FAR);
    expect(heapBytes).toBeLessThanOrEqual(NEAR * 16 * 1.5);
    expect(growth.heapUsed + growth.arrayBuffers).toBeLessThan(80 * MB);

    // Jump to 3 min into the near bucket: 200k timers are due at once.
    let due = 0;
    for (let i = 0; i < NEAR; i++) if ((i * 7919) % BUCKET < FIRE_SPAN) due++;
    t = Date.now();
    let fired = 0;
    let peak = 0;
    let peakRss = 0;
    timer.onFired = () => {
      fired++;
      if (fired % 20_000 === 0) {
        // Live memory (after a full GC) in the middle of the burst.
        const m = memory();
        peak = Math.max(peak, m.heapUsed + m.arrayBuffers);
        peakRss = Math.max(peakRss, m.rss);
      }
    };
    clock.advanceTo(geometry.startOf(current + 1) + FIRE_SPAN - 1);
    await until(() => fired === due, 300_000);
    await settle();
    const fireMs = Date.now() - t;
    console.log(
      `1M timers: fired ${fired} in ${fireMs} ms (${(fired / (fireMs / 1000)).toFixed(0)}/s); ` +
        `live heap + array buffers while firing ≤ ${mb(peak - before.heapUsed - before.arrayBuffers)} over baseline, ` +
        `RSS ≤ ${mb(peakRss)} (${mb(before.rss)} before loading)`,
    );
    expect(fired).toBe(due);
    expect(store.maxOffset('bulk', 0)).toBe(due);
    expect(timer.pending).toBe(NEAR + FAR - due);
    expect(peak - before.heapUsed - before.arrayBuffers).toBeLessThan(80 * MB);
    // Delivered in due order.
    const head = store
      .getMessages('bulk', 0, 0, 1024)
      .messages.map((m) => Number(m.systemProperties[TIMER_DELIVER_MS]));
    expect(head).toEqual([...head].sort((a, b) => a - b));
    expect(head[0]).toBe(geometry.startOf(current + 1));
  }, 900_000); // a memory proof, not a speed test: generous under a loaded CI machine
});

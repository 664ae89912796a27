import { FlushService, type FlushTarget } from './flush-service.js';

/** A log whose syncs complete when the test says so. */
class FakeLog implements FlushTarget {
  committedOffset = 0;
  readonly syncs: Array<{ from: number; to: number; done: (err: Error | null) => void }> = [];

  sync(from: number, to: number, callback: (err: Error | null) => void): void {
    this.syncs.push({ from, to, done: callback });
  }

  /** Completes the oldest sync still running. */
  finish(err: Error | null = null): void {
    const s = this.syncs.find((x) => x.done !== finished);
    if (!s) throw new Error('no sync in flight');
    const done = s.done;
    s.done = finished;
    done(err);
  }

  get inFlight(): number {
    return this.syncs.filter((s) => s.done !== finished).length;
  }
}

function finished(): void {}

describe('FlushService', () => {
  it('sync mode: a completed fdatasync starts the next one at once for what was written meanwhile', () => {
    const log = new FakeLog();
    const flushed: number[] = [];
    const service = new FlushService(
      log,
      0,
      (o) => flushed.push(o),
      () => undefined,
    );
    log.committedOffset = 100;
    service.kick();
    log.committedOffset = 250;
    service.kick(); // one in flight at most
    expect(log.inFlight).toBe(1);
    log.finish();
    expect(flushed).toEqual([100]);
    expect(log.syncs.map((s) => [s.from, s.to])).toEqual([
      [0, 100],
      [100, 250],
    ]);
    log.finish();
    expect(service.flushedOffset).toBe(250);
    expect(log.inFlight).toBe(0);
  });

  it('async mode: syncs on the interval only, not back to back while appends keep coming', async () => {
    const log = new FakeLog();
    const service = new FlushService(
      log,
      0,
      () => undefined,
      () => undefined,
    );
    service.startInterval(20);
    log.committedOffset = 100;
    await new Promise((r) => setTimeout(r, 35));
    expect(log.syncs).toHaveLength(1);
    log.committedOffset = 200;
    log.finish();
    expect(log.inFlight).toBe(0); // 100..200 waits for the next tick
    await new Promise((r) => setTimeout(r, 35));
    expect(log.syncs.map((s) => [s.from, s.to])).toEqual([
      [0, 100],
      [100, 200],
    ]);
    service.stop();
  });

  it('async mode: drain() makes everything written durable, syncing again after one in flight', async () => {
    const log = new FakeLog();
    const service = new FlushService(
      log,
      0,
      () => undefined,
      () => undefined,
    );
    service.startInterval(60_000);
    log.committedOffset = 100;
    service.kick();
    log.committedOffset = 300;
    let drained = false;
    const drain = service.drain().then(() => (drained = true));
    log.finish(); // 0..100 done; 100..300 must follow because drain() waits
    expect(log.inFlight).toBe(1);
    await Promise.resolve();
    expect(drained).toBe(false);
    log.finish();
    await drain;
    expect(service.flushedOffset).toBe(300);
    service.stop();
  });

  it('stops syncing after a failed fdatasync and reports it once', () => {
    const log = new FakeLog();
    const failures: Error[] = [];
    const service = new FlushService(
      log,
      0,
      () => undefined,
      (e) => failures.push(e),
    );
    log.committedOffset = 10;
    service.kick();
    log.finish(new Error('EIO'));
    log.committedOffset = 20;
    service.kick();
    expect(log.syncs).toHaveLength(1);
    expect(failures.map((e) => e.message)).toEqual(['EIO']);
    expect(service.failed?.message).toBe('EIO');
  });
});

import { ManualClock, systemClock, type TimerHandle } from './clock.js';

describe('ManualClock', () => {
  it('starts where told and moves only when advanced', () => {
    const clock = new ManualClock(1_000);
    expect(clock.now()).toBe(1_000);
    clock.advance(500);
    expect(clock.now()).toBe(1_500);
    clock.advanceTo(2_000);
    expect(clock.now()).toBe(2_000);
  });

  it('fires due timers in time order, reading each due time from now()', () => {
    const clock = new ManualClock(0);
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => fired.push(['c', clock.now()]), 300);
    clock.setTimeout(() => fired.push(['a', clock.now()]), 100);
    clock.setTimeout(() => fired.push(['b', clock.now()]), 200);
    clock.setTimeout(() => fired.push(['late', clock.now()]), 1_000);
    expect(clock.pending).toBe(4);

    clock.advance(250);
    expect(fired).toEqual([
      ['a', 100],
      ['b', 200],
    ]);
    expect(clock.now()).toBe(250);
    expect(clock.pending).toBe(2);

    clock.advance(50);
    expect(fired.at(-1)).toEqual(['c', 300]);
    expect(clock.pending).toBe(1);
    expect(clock.nextDueAt).toBe(1_000);
  });

  it('fires timers due at the same instant in scheduling order', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    for (let i = 0; i < 50; i++) clock.setTimeout(() => fired.push(i), 10);
    clock.setTimeout(() => fired.push(-1), 5);
    clock.advance(10);
    expect(fired).toEqual([-1, ...Array.from({ length: 50 }, (_, i) => i)]);
  });

  it('fires timers scheduled by fired timers within the window', () => {
    const clock = new ManualClock();
    const fired: Array<[string, number]> = [];
    clock.setTimeout(() => {
      fired.push(['outer', clock.now()]);
      clock.setTimeout(() => fired.push(['zero', clock.now()]), 0);
      clock.setTimeout(() => {
        fired.push(['inner', clock.now()]);
        clock.setTimeout(() => fired.push(['innermost', clock.now()]), 30);
      }, 20);
      clock.setTimeout(() => fired.push(['beyond', clock.now()]), 1_000);
    }, 10);
    clock.setTimeout(() => fired.push(['sibling', clock.now()]), 25);

    clock.advance(100);
    expect(fired).toEqual([
      ['outer', 10],
      ['zero', 10],
      ['sibling', 25],
      ['inner', 30],
      ['innermost', 60],
    ]);
    expect(clock.now()).toBe(100);
    expect(clock.pending).toBe(1);
    clock.advance(910);
    expect(fired.at(-1)).toEqual(['beyond', 1_010]);
  });

  it('clears timers, also from inside a firing timer', () => {
    const clock = new ManualClock();
    const fired: string[] = [];
    const a = clock.setTimeout(() => fired.push('a'), 10);
    const b = clock.setTimeout(() => fired.push('b'), 20);
    clock.setTimeout(() => {
      fired.push('x');
      clock.clearTimeout(b);
    }, 5);
    clock.clearTimeout(a);
    clock.clearTimeout(a); // twice is harmless
    clock.clearTimeout(undefined);
    expect(clock.pending).toBe(2);
    clock.advance(100);
    expect(fired).toEqual(['x']);
    expect(clock.pending).toBe(0);
    expect(clock.nextDueAt).toBeUndefined();
  });

  it('ignores clearing a fired timer or another clock’s timer', () => {
    const clock = new ManualClock();
    const other = new ManualClock();
    const fired: string[] = [];
    const t = clock.setTimeout(() => fired.push('t'), 1);
    clock.advance(1);
    clock.clearTimeout(t);
    const u = clock.setTimeout(() => fired.push('u'), 1);
    other.clearTimeout(u);
    systemClock.clearTimeout(u);
    expect(clock.pending).toBe(1);
    clock.advance(1);
    expect(fired).toEqual(['t', 'u']);
    expect(clock.pending).toBe(0);
  });

  it('treats negative and NaN delays as zero and never fires an infinite one', () => {
    const clock = new ManualClock(50);
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(1), -10);
    clock.setTimeout(() => fired.push(2), NaN);
    clock.setTimeout(() => fired.push(3), Infinity);
    clock.advance(0);
    expect(fired).toEqual([1, 2]);
    clock.advance(1e15);
    expect(fired).toEqual([1, 2]);
    expect(clock.pending).toBe(1);
    expect(clock.runNext()).toBe(false);
  });

  it('refuses to go back in time or to infinity', () => {
    const clock = new ManualClock(100);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.advanceTo(99)).toThrow(RangeError);
    expect(() => clock.advanceTo(Infinity)).toThrow(RangeError);
    expect(() => clock.advance(NaN)).toThrow(RangeError);
    expect(() => new ManualClock(NaN)).toThrow(RangeError);
  });

  it('runs the next timer on demand', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => fired.push(clock.now()), 70);
    clock.setTimeout(() => fired.push(clock.now()), 30);
    expect(clock.runNext()).toBe(true);
    expect(fired).toEqual([30]);
    expect(clock.now()).toBe(30);
    expect(clock.runNext()).toBe(true);
    expect(clock.runNext()).toBe(false);
    expect(fired).toEqual([30, 70]);
  });

  it('propagates a throwing callback and keeps later timers', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    clock.setTimeout(() => {
      throw new Error('boom');
    }, 10);
    clock.setTimeout(() => fired.push(clock.now()), 20);
    expect(() => clock.advance(100)).toThrow('boom');
    expect(clock.now()).toBe(10);
    expect(clock.pending).toBe(1);
    clock.advance(90);
    expect(fired).toEqual([20]);
  });

  it('stays correct when many timers are cleared (heap compaction)', () => {
    const clock = new ManualClock();
    const fired: number[] = [];
    const handles = Array.from({ length: 1_000 }, (_, i) => clock.setTimeout(() => fired.push(i), 1_000 - i));
    handles.forEach((h, i) => {
      if (i % 10 !== 0) clock.clearTimeout(h);
    });
    expect(clock.pending).toBe(100);
    clock.advance(1_000);
    expect(fired).toEqual(Array.from({ length: 100 }, (_, k) => 990 - 10 * k));
  });

  it('lets promise chains schedule timers inside the window with advanceAsync', async () => {
    const clock = new ManualClock();
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));
    const seen: number[] = [];
    const task = (async () => {
      for (let i = 0; i < 3; i++) {
        await sleep(1_000);
        seen.push(clock.now());
      }
    })();
    await clock.advanceAsync(3_000);
    await task;
    expect(seen).toEqual([1_000, 2_000, 3_000]);
    expect(clock.now()).toBe(3_000);
  });
});

describe('systemClock', () => {
  it('reads wall-clock time', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });

  it('fires real timers, unref’d', async () => {
    const start = Date.now();
    let handle: TimerHandle | undefined;
    await new Promise<void>((resolve) => {
      handle = systemClock.setTimeout(resolve, 20);
      const inner = (handle as unknown as { timer: NodeJS.Timeout }).timer;
      expect(inner.hasRef()).toBe(false);
    });
    expect(Date.now() - start).toBeGreaterThanOrEqual(15);
    systemClock.clearTimeout(handle); // already fired: harmless
  });

  it('clears timers', async () => {
    let fired = false;
    const handle = systemClock.setTimeout(() => {
      fired = true;
    }, 5);
    systemClock.clearTimeout(handle);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(fired).toBe(false);
  });

  it('chains delays beyond Node’s 24.8-day limit instead of firing early', async () => {
    let fired = false;
    const handle = systemClock.setTimeout(
      () => {
        fired = true;
      },
      2 ** 31 + 1_000,
    );
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(fired).toBe(false);
    systemClock.clearTimeout(handle);
    const never = systemClock.setTimeout(() => {
      fired = true;
    }, Infinity);
    systemClock.clearTimeout(never);
  });
});

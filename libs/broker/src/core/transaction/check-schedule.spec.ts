import { ManualClock } from '../clock.js';
import { CheckSchedule } from './check-schedule.js';

describe('CheckSchedule', () => {
  it('fires items in due order from a single clock timer', () => {
    const clock = new ManualClock(1_000);
    const fired: Array<[string, number]> = [];
    const schedule = new CheckSchedule<string>(clock, (item) => fired.push([item, clock.now()]));
    schedule.add('c', 1_300);
    schedule.add('a', 1_100);
    schedule.add('b', 1_200);
    schedule.add('a2', 1_100);
    expect(clock.pending).toBe(1);
    expect(schedule.size).toBe(4);
    clock.advance(150);
    expect(fired).toEqual([
      ['a', 1_100],
      ['a2', 1_100],
    ]);
    clock.advance(1_000);
    expect(fired.map(([item, at]) => `${item}@${at}`)).toEqual(['a@1100', 'a2@1100', 'b@1200', 'c@1300']);
    expect(schedule.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('re-arms for an earlier item and skips cancelled ones', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    const schedule = new CheckSchedule<string>(clock, (item) => fired.push(item));
    const late = schedule.add('late', 10_000);
    schedule.add('early', 10);
    const cancelled = schedule.add('cancelled', 20);
    schedule.cancel(cancelled);
    schedule.cancel(cancelled); // twice is harmless
    expect(schedule.nextDueAt).toBe(10);
    clock.advance(100);
    expect(fired).toEqual(['early']);
    schedule.cancel(late);
    clock.advance(100_000);
    expect(fired).toEqual(['early']);
    expect(schedule.size).toBe(0);
  });

  it('an item rescheduled from its own callback for "now" fires on the next turn, not in a loop', () => {
    const clock = new ManualClock(0);
    let count = 0;
    const schedule: CheckSchedule<string> = new CheckSchedule<string>(clock, (item) => {
      count++;
      if (count < 3) schedule.add(item, clock.now());
    });
    schedule.add('x', 5);
    clock.advance(5);
    expect(count).toBe(3);
  });

  it('stop cancels the timer and ignores later adds', () => {
    const clock = new ManualClock(0);
    const fired: string[] = [];
    const schedule = new CheckSchedule<string>(clock, (item) => fired.push(item));
    schedule.add('a', 10);
    schedule.stop();
    schedule.add('b', 5);
    clock.advance(100);
    expect(fired).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it('compacts cancelled slots: 100k items, 99% cancelled, the rest fire in order', () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const schedule = new CheckSchedule<number>(clock, (item) => fired.push(item));
    const slots = Array.from({ length: 100_000 }, (_, i) => schedule.add(i, 1 + ((i * 7919) % 100_000)));
    slots.forEach((slot, i) => {
      if (i % 100 !== 0) schedule.cancel(slot);
    });
    expect(schedule.size).toBe(1_000);
    clock.advance(200_000);
    expect(fired).toHaveLength(1_000);
    const dueOf = (i: number): number => 1 + ((i * 7919) % 100_000);
    for (let k = 1; k < fired.length; k++)
      expect(dueOf(fired[k]!)).toBeGreaterThanOrEqual(dueOf(fired[k - 1]!));
  });
});

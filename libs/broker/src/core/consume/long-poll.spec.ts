import { ManualClock } from '../clock.js';
import { LongPollRegistry } from './long-poll.js';

describe('LongPollRegistry', () => {
  it('wakes every waiter of a topic once, and only them', async () => {
    const clock = new ManualClock();
    const polls = new LongPollRegistry(clock);
    const a = polls.wait(['A', '%RETRY%g'], 1_000);
    const b = polls.wait(['B'], 1_000);
    const a2 = polls.wait(['A'], 1_000);
    expect(polls.size).toBe(3);
    expect(polls.has('A')).toBe(true);
    polls.notify('%RETRY%g');
    await expect(a).resolves.toBe('notified');
    expect(polls.size).toBe(2);
    polls.notify('A');
    await expect(a2).resolves.toBe('notified');
    expect(polls.has('A')).toBe(false);
    expect(polls.has('%RETRY%g')).toBe(false);
    polls.notify('nobody');
    clock.advance(1_000);
    await expect(b).resolves.toBe('timeout');
    expect(polls.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('with a count, wakes that many of the oldest waiters of each group, and leaves the rest parked', async () => {
    const clock = new ManualClock();
    const polls = new LongPollRegistry(clock);
    const outcome = new Map<string, string>();
    const park = (name: string, group: string, topics = ['T']) =>
      void polls.wait(topics, 1_000, undefined, group).then((reason) => outcome.set(name, reason));
    park('g1-first', 'g1');
    park('g1-second', 'g1');
    park('g1-third', 'g1', ['T', '%RETRY%g1']);
    park('g2-first', 'g2');
    park('g2-second', 'g2');
    polls.notify('T', 1);
    await Promise.resolve();
    expect([...outcome.keys()].sort()).toEqual(['g1-first', 'g2-first']);
    polls.notify('T', 2);
    await Promise.resolve();
    expect([...outcome.keys()].sort()).toEqual([
      'g1-first',
      'g1-second',
      'g1-third',
      'g2-first',
      'g2-second',
    ]);
    // g1-third also waited on its retry topic: woken once, gone from both.
    expect(polls.has('%RETRY%g1')).toBe(false);
    expect(polls.size).toBe(0);
    expect(clock.pending).toBe(0);
  });

  it('resolves at once for a zero timeout or an aborted signal, and on closeAll', async () => {
    const clock = new ManualClock();
    const polls = new LongPollRegistry(clock);
    await expect(polls.wait(['A'], 0)).resolves.toBe('timeout');
    await expect(polls.wait(['A'], NaN)).resolves.toBe('timeout');
    await expect(polls.wait(['A'], 10, AbortSignal.abort())).resolves.toBe('aborted');
    const controller = new AbortController();
    const aborted = polls.wait(['A'], 1_000, controller.signal);
    controller.abort();
    await expect(aborted).resolves.toBe('aborted');
    const closed = [polls.wait(['A', 'A'], 1_000), polls.wait(['B'], 1_000)];
    polls.closeAll();
    await expect(Promise.all(closed)).resolves.toEqual(['closed', 'closed']);
    expect(polls.size).toBe(0);
    expect(clock.pending).toBe(0);
  });
});

import { QueueState, newEntry } from './queue-state.js';

describe('QueueState', () => {
  it('advances the committed offset over the finished prefix and counts entries by state', () => {
    const state = new QueueState('g', 't', 0, 10);
    state.scanned = 15;
    const entries = [11, 13].map((o) => newEntry(o, o * 100, 't', undefined, 1, undefined));
    for (const e of entries) state.add(e);
    state.setState(entries[0]!, 'leased');
    expect([state.held, state.waiting]).toEqual([1, 1]);
    expect(state.advance()).toBe(true); // 10 was finished: up to 11
    expect(state.committed).toBe(11);
    expect(state.advance()).toBe(false);
    expect(state.remove(entries[0]!)).toBe(true);
    expect(state.remove(entries[0]!)).toBe(false);
    expect(state.held).toBe(0);
    state.advance();
    expect(state.committed).toBe(13);
    state.remove(entries[1]!);
    state.advance();
    expect(state.committed).toBe(15);
    expect(state.owns(entries[1]!)).toBe(false);
  });

  it('clear drops everything', () => {
    const state = new QueueState('g', 't', 0, 0, 3);
    const e = newEntry(1, 0, 't', 'mg', 1, undefined);
    state.add(e);
    state.setState(e, 'backoff');
    expect(state.count('backoff')).toBe(1);
    expect(state.clear()).toEqual([e]);
    expect([state.entries.size, state.held, state.waiting, state.count('backoff')]).toEqual([0, 0, 0, 0]);
  });
});

import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusCode } from '../status-code.js';
import { codeOf } from '../testing/code-of.js';
import { ManualClock } from './clock.js';
import {
  CONSUMER_OFFSETS_FILE,
  ConsumerOffsets,
  IllegalOffsetError,
  OFFSET_PERSIST_INTERVAL_MS,
  type ConsumerOffsetsOptions,
} from './consumer-offsets.js';
import { CorruptJsonFileError } from './json-file.js';

let configDir: string;
let clock: ManualClock;
const open: ConsumerOffsets[] = [];
const quiet = { warn: () => undefined, error: () => undefined };

function offsets(options: Partial<ConsumerOffsetsOptions> = {}): ConsumerOffsets {
  const o = new ConsumerOffsets({ configDir, clock, logger: quiet, ...options });
  open.push(o);
  return o;
}

/** What a broker restarting after a crash would read (no flush, no close). */
function afterCrash(): ConsumerOffsets {
  return new ConsumerOffsets({ configDir, clock: new ManualClock(), logger: quiet });
}

function file(): string {
  return join(configDir, CONSUMER_OFFSETS_FILE);
}

beforeEach(() => {
  configDir = mkdtempSync(join(tmpdir(), 'consumer-offsets-'));
  clock = new ManualClock(1_000_000);
});

afterEach(() => {
  for (const o of open.splice(0)) o.close();
  rmSync(configDir, { recursive: true, force: true });
});

describe('ConsumerOffsets', () => {
  it('is empty at first', () => {
    const o = offsets();
    expect(o.get('g', 't', 0)).toBeUndefined();
    expect(o.groupsOf('t')).toEqual([]);
    expect(o.forGroup('g')).toEqual([]);
    expect(o.dirty).toBe(false);
  });

  it('commits per (group, topic, queue)', () => {
    const o = offsets();
    expect(o.commit('g1', 't', 0, 5)).toBe(true);
    o.commit('g1', 't', 1, 7);
    o.commit('g2', 't', 0, 3);
    o.commit('g1', 'u', 0, 9);
    expect(o.get('g1', 't', 0)).toBe(5);
    expect(o.get('g1', 't', 1)).toBe(7);
    expect(o.get('g2', 't', 0)).toBe(3);
    expect(o.get('g1', 'u', 0)).toBe(9);
    expect(o.get('g2', 'u', 0)).toBeUndefined();
    expect(o.groupsOf('t')).toEqual(['g1', 'g2']);
    expect(o.forGroup('g1')).toEqual([
      { topic: 't', queueId: 0, offset: 5 },
      { topic: 't', queueId: 1, offset: 7 },
      { topic: 'u', queueId: 0, offset: 9 },
    ]);
    expect(o.forGroup('g1', 'u')).toEqual([{ topic: 'u', queueId: 0, offset: 9 }]);
  });

  it('never moves a committed offset backwards', () => {
    const o = offsets();
    o.commit('g', 't', 0, 10);
    expect(o.commit('g', 't', 0, 4)).toBe(false);
    expect(o.commit('g', 't', 0, 10)).toBe(false);
    expect(o.get('g', 't', 0)).toBe(10);
    expect(o.commit('g', 't', 0, 11)).toBe(true);
    expect(o.get('g', 't', 0)).toBe(11);
  });

  it('resets backwards and forwards and tells listeners', () => {
    const o = offsets();
    const seen: unknown[] = [];
    const unsubscribe = o.onReset((...args) => seen.push(args));
    o.commit('g', 't', 0, 10);
    o.reset('g', 't', 0, 2);
    expect(o.get('g', 't', 0)).toBe(2);
    o.reset('g', 't', 0, 50);
    expect(o.get('g', 't', 0)).toBe(50);
    o.reset('g', 't', 3, 0);
    expect(o.get('g', 't', 3)).toBe(0);
    expect(seen).toEqual([
      ['g', 't', 0, 2],
      ['g', 't', 0, 50],
      ['g', 't', 3, 0],
    ]);
    unsubscribe();
    o.reset('g', 't', 0, 1);
    expect(seen).toHaveLength(3);
  });

  it.each([
    ['a negative offset', () => offsets().commit('g', 't', 0, -1)],
    ['a fractional offset', () => offsets().commit('g', 't', 0, 1.5)],
    ['an unsafe offset', () => offsets().commit('g', 't', 0, 2 ** 53)],
    ['NaN', () => offsets().reset('g', 't', 0, Number.NaN)],
    ['a negative queue id', () => offsets().commit('g', 't', -1, 0)],
    ['a queue id above 65535', () => offsets().reset('g', 't', 65536, 0)],
    ['a group with @', () => offsets().commit('g@x', 't', 0, 0)],
    ['an empty topic', () => offsets().commit('g', '', 0, 0)],
  ])('rejects %s with ILLEGAL_OFFSET', (_what, fn) => {
    expect(codeOf(fn)).toBe(StatusCode.ILLEGAL_OFFSET);
  });

  it('throws IllegalOffsetError instances and changes nothing', () => {
    const o = offsets();
    expect(() => o.commit('g', 't', 0, -5)).toThrow(IllegalOffsetError);
    expect(o.forGroup('g')).toEqual([]);
    expect(o.dirty).toBe(false);
  });

  it('deletes groups and topics', () => {
    const o = offsets();
    o.commit('g1', 't', 0, 1);
    o.commit('g2', 't', 0, 2);
    o.commit('g1', 'u', 0, 3);
    expect(o.deleteGroup('g1')).toBe(true);
    expect(o.deleteGroup('g1')).toBe(false);
    expect(o.forGroup('g1')).toEqual([]);
    expect(o.groupsOf('u')).toEqual([]);
    expect(o.groupsOf('t')).toEqual(['g2']);
    expect(o.deleteTopic('t')).toBe(true);
    expect(o.deleteTopic('t')).toBe(false);
    expect(o.get('g2', 't', 0)).toBeUndefined();
    o.flush();
    expect(afterCrash().forGroup('g2')).toEqual([]);
  });

  describe('persistence', () => {
    it('survives close and reopen, in RocketMQ layout', () => {
      const o = offsets();
      o.commit('g', 't', 0, 5);
      o.commit('g', 't', 7, 12);
      o.commit('h', 't', 0, 1);
      o.close();
      expect(JSON.parse(readFileSync(file(), 'utf8'))).toEqual({
        version: 1,
        offsetTable: { 't@g': { '0': 5, '7': 12 }, 't@h': { '0': 1 } },
      });
      const reopened = offsets();
      expect(reopened.get('g', 't', 0)).toBe(5);
      expect(reopened.get('g', 't', 7)).toBe(12);
      expect(reopened.groupsOf('t')).toEqual(['g', 'h']);
    });

    it('persists 5 s after the first unsaved commit, with one timer', () => {
      const o = offsets();
      o.commit('g', 't', 0, 1);
      o.commit('g', 't', 0, 2);
      expect(clock.pending).toBe(1);
      clock.advance(OFFSET_PERSIST_INTERVAL_MS - 1);
      expect(existsSync(file())).toBe(false);
      expect(o.dirty).toBe(true);
      clock.advance(1);
      expect(o.dirty).toBe(false);
      expect(clock.pending).toBe(0);
      expect(afterCrash().get('g', 't', 0)).toBe(2);
    });

    it('loses at most the last interval of progress in a crash, never goes ahead of commits', () => {
      const o = offsets();
      o.commit('g', 't', 0, 10);
      clock.advance(OFFSET_PERSIST_INTERVAL_MS);
      o.commit('g', 't', 0, 20);
      clock.advance(OFFSET_PERSIST_INTERVAL_MS - 1);
      // Crash now: the restarted broker resumes from 10, redelivering 10..19 (at-least-once).
      expect(afterCrash().get('g', 't', 0)).toBe(10);
      clock.advance(1);
      expect(afterCrash().get('g', 't', 0)).toBe(20);
    });

    it('schedules nothing while clean and nothing for ignored commits', () => {
      const o = offsets();
      o.commit('g', 't', 0, 10);
      clock.advance(OFFSET_PERSIST_INTERVAL_MS);
      expect(clock.pending).toBe(0);
      o.commit('g', 't', 0, 3);
      expect(clock.pending).toBe(0);
      expect(o.dirty).toBe(false);
    });

    it('honours a custom interval', () => {
      const o = offsets({ persistIntervalMs: 100 });
      o.commit('g', 't', 0, 1);
      clock.advance(100);
      expect(o.dirty).toBe(false);
    });

    it('flush writes at once and cancels the timer', () => {
      const o = offsets();
      o.reset('g', 't', 0, 4);
      o.flush();
      expect(clock.pending).toBe(0);
      expect(afterCrash().get('g', 't', 0)).toBe(4);
    });

    it('retries a failed periodic persist on the next interval', () => {
      const errors: string[] = [];
      const o = offsets({ logger: { warn: () => undefined, error: (m) => errors.push(m) } });
      o.commit('g', 't', 0, 1);
      // A directory where the temporary file goes makes the write fail, even for root.
      mkdirSync(file() + '.tmp');
      clock.advance(OFFSET_PERSIST_INTERVAL_MS);
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(file());
      expect(o.dirty).toBe(true);
      expect(clock.pending).toBe(1);
      o.commit('g', 't', 0, 2);
      expect(() => o.flush()).toThrow();
      expect(o.dirty).toBe(true);
      expect(clock.pending).toBe(1); // a failed flush leaves the retry armed
      rmSync(file() + '.tmp', { recursive: true });
      clock.advance(OFFSET_PERSIST_INTERVAL_MS);
      expect(o.dirty).toBe(false);
      expect(clock.pending).toBe(0);
      expect(afterCrash().get('g', 't', 0)).toBe(2);
    });

    it('after close, commits are only written by an explicit flush', () => {
      const o = offsets();
      o.close();
      o.commit('g', 't', 0, 1);
      expect(clock.pending).toBe(0);
      o.flush();
      expect(afterCrash().get('g', 't', 0)).toBe(1);
    });

    it('recovers a corrupt file from its backup', () => {
      const o = offsets();
      o.commit('g', 't', 0, 1);
      o.flush();
      o.commit('g', 't', 0, 2);
      o.flush();
      writeFileSync(file(), '{"version":1,"offsetTable":{"t@g":{"0":');
      expect(afterCrash().get('g', 't', 0)).toBe(1);
    });

    it.each([
      ['garbage', 'not json'],
      ['a key without @', JSON.stringify({ version: 1, offsetTable: { tg: { '0': 1 } } })],
      ['a negative offset', JSON.stringify({ version: 1, offsetTable: { 't@g': { '0': -1 } } })],
      ['a bad queue id', JSON.stringify({ version: 1, offsetTable: { 't@g': { '01': 1 } } })],
      ['a string offset', JSON.stringify({ version: 1, offsetTable: { 't@g': { '0': '1' } } })],
      ['another version', JSON.stringify({ version: 9, offsetTable: {} })],
    ])('fails with a typed error naming the file for %s without a backup', (_what, content) => {
      writeFileSync(file(), content);
      expect(() => afterCrash()).toThrow(CorruptJsonFileError);
      expect(() => afterCrash()).toThrow(file());
    });
  });
});

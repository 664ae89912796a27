import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusCode } from '../status-code.js';
import { codeOf } from '../testing/code-of.js';
import { ManualClock } from './clock.js';
import { ConsumerGroupNotFoundError } from './errors.js';
import {
  GROUPS_FILE,
  GroupRegistry,
  MAX_BACKOFF_MS,
  MAX_DELIVERY_ATTEMPTS_LIMIT,
  backoffFor,
  type GroupRegistryOptions,
} from './group-registry.js';
import { CorruptJsonFileError } from './json-file.js';
import { DEFAULT_MAX_DELIVERY_ATTEMPTS, RETRY_BACKOFF_MS, retryBackoffMs } from './limits.js';

let configDir: string;
const clock = new ManualClock(1_700_000_000_000);
const quiet = { warn: () => undefined, error: () => undefined };

function registry(options: Partial<GroupRegistryOptions> = {}): GroupRegistry {
  return new GroupRegistry({ configDir, clock, logger: quiet, ...options });
}

beforeEach(() => {
  configDir = mkdtempSync(join(tmpdir(), 'group-registry-'));
});

afterEach(() => rmSync(configDir, { recursive: true, force: true }));

describe('GroupRegistry', () => {
  it('creates groups with the RocketMQ defaults', () => {
    const group = registry().create('billing');
    expect(group).toEqual({
      name: 'billing',
      fifo: false,
      maxDeliveryAttempts: DEFAULT_MAX_DELIVERY_ATTEMPTS,
      retryBackoffMs: RETRY_BACKOFF_MS,
      consumeFrom: { kind: 'first' },
      createdAt: clock.now(),
    });
    expect(group.maxDeliveryAttempts).toBe(17);
    expect(Object.isFrozen(group)).toBe(true);
  });

  it('creates groups with a given policy and persists it across instances', () => {
    registry().create('billing', {
      fifo: true,
      maxDeliveryAttempts: 3,
      retryBackoffMs: [1_000, 5_000],
      consumeFrom: { kind: 'timestamp', timestamp: 1_600_000_000_000 },
    });
    registry().create('audit', { consumeFrom: { kind: 'last' } });
    const reopened = registry();
    expect(reopened.list().map((g) => g.name)).toEqual(['audit', 'billing']);
    expect(reopened.get('billing')).toEqual({
      name: 'billing',
      fifo: true,
      maxDeliveryAttempts: 3,
      retryBackoffMs: [1_000, 5_000],
      consumeFrom: { kind: 'timestamp', timestamp: 1_600_000_000_000 },
      createdAt: clock.now(),
    });
    expect(reopened.get('audit')!.consumeFrom).toEqual({ kind: 'last' });
  });

  it('takes configured defaults for new groups', () => {
    const r = registry({ defaults: { fifo: true, maxDeliveryAttempts: 5 } });
    expect(r.getOrCreate('g')).toMatchObject({ fifo: true, maxDeliveryAttempts: 5 });
    expect(r.create('h', { fifo: false })).toMatchObject({ fifo: false, maxDeliveryAttempts: 5 });
    expect(codeOf(() => registry({ defaults: { maxDeliveryAttempts: 0 } }))).toBe(StatusCode.BAD_REQUEST);
  });

  it('rejects a second create with BAD_REQUEST', () => {
    const r = registry();
    r.create('billing');
    expect(codeOf(() => r.create('billing'))).toBe(StatusCode.BAD_REQUEST);
  });

  describe('validation', () => {
    it.each(['', ' ', 'bad name', 'g'.repeat(121), 'CID_RMQ_SYS_X', 'DEFAULT_CONSUMER', 'TOOLS_CONSUMER'])(
      'group name %j → ILLEGAL_CONSUMER_GROUP',
      (name) => {
        expect(codeOf(() => registry().create(name))).toBe(StatusCode.ILLEGAL_CONSUMER_GROUP);
        expect(codeOf(() => registry().getOrCreate(name))).toBe(StatusCode.ILLEGAL_CONSUMER_GROUP);
      },
    );

    it('accepts a 120-character name', () => {
      expect(registry().create('g'.repeat(120)).name).toHaveLength(120);
    });

    it.each([
      [{ fifo: 'yes' }],
      [{ maxDeliveryAttempts: 0 }],
      [{ maxDeliveryAttempts: 2.5 }],
      [{ maxDeliveryAttempts: MAX_DELIVERY_ATTEMPTS_LIMIT + 1 }],
      [{ maxDeliveryAttempts: '17' }],
      [{ retryBackoffMs: [] }],
      [{ retryBackoffMs: [0] }],
      [{ retryBackoffMs: [-1_000] }],
      [{ retryBackoffMs: [1.5] }],
      [{ retryBackoffMs: [MAX_BACKOFF_MS + 1] }],
      [{ retryBackoffMs: new Array(65).fill(1_000) }],
      [{ retryBackoffMs: 1_000 }],
      [{ retryBackoffMs: [Number.POSITIVE_INFINITY] }],
      [{ consumeFrom: 'first' }],
      [{ consumeFrom: { kind: 'middle' } }],
      [{ consumeFrom: { kind: 'timestamp' } }],
      [{ consumeFrom: { kind: 'timestamp', timestamp: -1 } }],
      [{ consumeFrom: { kind: 'timestamp', timestamp: Number.NaN } }],
      [null],
    ])('options %j → BAD_REQUEST', (options) => {
      expect(codeOf(() => registry().create('billing', options as never))).toBe(StatusCode.BAD_REQUEST);
    });

    it('accepts the bounds', () => {
      const g = registry().create('billing', {
        maxDeliveryAttempts: MAX_DELIVERY_ATTEMPTS_LIMIT,
        retryBackoffMs: [1, MAX_BACKOFF_MS],
        consumeFrom: { kind: 'timestamp', timestamp: 0 },
      });
      expect(g.retryBackoffMs).toEqual([1, MAX_BACKOFF_MS]);
    });
  });

  describe('update and delete', () => {
    it('changes only the given fields, persistently', () => {
      const r = registry();
      r.create('billing', { maxDeliveryAttempts: 4 });
      const updated = r.update('billing', { fifo: true });
      expect(updated).toMatchObject({ fifo: true, maxDeliveryAttempts: 4 });
      expect(registry().get('billing')).toMatchObject({ fifo: true, maxDeliveryAttempts: 4 });
      expect(codeOf(() => r.update('billing', { maxDeliveryAttempts: -1 }))).toBe(StatusCode.BAD_REQUEST);
      expect(r.get('billing')!.maxDeliveryAttempts).toBe(4);
    });

    it('is CONSUMER_GROUP_NOT_FOUND when updating an unknown group', () => {
      expect(codeOf(() => registry().update('nope', { fifo: true }))).toBe(
        StatusCode.CONSUMER_GROUP_NOT_FOUND,
      );
    });

    it('deletes persistently, calls the hook, and is idempotent', () => {
      const deleted: string[] = [];
      const r = registry({ onDelete: (g) => deleted.push(g) });
      r.create('billing');
      expect(r.delete('billing')).toBe(true);
      expect(r.delete('billing')).toBe(false);
      expect(deleted).toEqual(['billing']);
      expect(registry().has('billing')).toBe(false);
    });
  });

  describe('getOrCreate', () => {
    it('auto-creates by default, persistently, and returns the same config after', () => {
      const r = registry();
      const g = r.getOrCreate('billing');
      expect(r.getOrCreate('billing')).toBe(g);
      expect(registry().get('billing')).toEqual(g);
    });

    it('is CONSUMER_GROUP_NOT_FOUND for an unknown group when auto-creation is off', () => {
      const r = registry({ autoCreateGroups: false });
      let err: unknown;
      try {
        r.getOrCreate('billing');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConsumerGroupNotFoundError);
      expect((err as ConsumerGroupNotFoundError).code).toBe(StatusCode.CONSUMER_GROUP_NOT_FOUND);
      r.create('billing');
      expect(r.getOrCreate('billing').name).toBe('billing');
    });
  });

  describe('backoff', () => {
    it('follows RocketMQ levels by default, the last step repeating', () => {
      const r = registry();
      r.create('billing');
      expect(r.backoffFor('billing', 1)).toBe(10_000);
      expect(r.backoffFor('billing', 2)).toBe(30_000);
      expect(r.backoffFor('billing', 16)).toBe(2 * 3_600_000);
      expect(r.backoffFor('billing', 100)).toBe(2 * 3_600_000);
      for (let attempt = 1; attempt <= 20; attempt++) {
        expect(r.backoffFor('billing', attempt)).toBe(retryBackoffMs(attempt));
      }
      expect(r.backoffFor('unknown-group', 1)).toBe(10_000);
    });

    it('uses the group schedule', () => {
      const g = registry().create('billing', { retryBackoffMs: [100, 200, 400] });
      expect([0, 1, 2, 3, 4, 50].map((a) => backoffFor(g, a))).toEqual([100, 100, 200, 400, 400, 400]);
      expect(backoffFor(g, Number.NaN)).toBe(400);
    });
  });

  describe('file safety', () => {
    it('recovers from a corrupt groups.json through the backup', () => {
      const r = registry();
      r.create('a');
      r.create('b');
      writeFileSync(join(configDir, GROUPS_FILE), 'garbage');
      expect(
        registry()
          .list()
          .map((g) => g.name),
      ).toEqual(['a']);
    });

    it.each([
      ['no usable copy', 'garbage'],
      ['a wrong version', JSON.stringify({ version: 0, groups: [] })],
      ['a bad name', JSON.stringify({ version: 1, groups: [{ name: 'a b', createdAt: 1 }] })],
      ['a bad policy', JSON.stringify({ version: 1, groups: [{ name: 'a', createdAt: 1, fifo: 1 }] })],
      [
        'a duplicate',
        JSON.stringify({
          version: 1,
          groups: [
            { name: 'a', createdAt: 1 },
            { name: 'a', createdAt: 1 },
          ],
        }),
      ],
    ])('fails with a typed error naming the file for %s', (_what, content) => {
      writeFileSync(join(configDir, GROUPS_FILE), content);
      expect(() => registry()).toThrow(CorruptJsonFileError);
      expect(() => registry()).toThrow(join(configDir, GROUPS_FILE));
    });
  });
});

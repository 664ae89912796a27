import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusCode } from '../status-code.js';
import { codeOf } from '../testing/code-of.js';
import { ManualClock } from './clock.js';
import { TopicNotFoundError } from './errors.js';
import { CorruptJsonFileError } from './json-file.js';
import { validateTopicName } from './validation.js';
import {
  MAX_QUEUE_COUNT,
  TOPICS_FILE,
  TopicRegistry,
  dlqTopicOf,
  retryTopicOf,
  topicKind,
  type TopicRegistryOptions,
} from './topic-registry.js';

let configDir: string;
const clock = new ManualClock(1_700_000_000_000);
const quiet = { warn: () => undefined, error: () => undefined };

function registry(options: Partial<TopicRegistryOptions> = {}): TopicRegistry {
  return new TopicRegistry({ configDir, clock, logger: quiet, ...options });
}

beforeEach(() => {
  configDir = mkdtempSync(join(tmpdir(), 'topic-registry-'));
});

afterEach(() => rmSync(configDir, { recursive: true, force: true }));

describe('TopicRegistry', () => {
  it('creates topics with RocketMQ defaults: 8 queues, all message types', () => {
    const topic = registry().create('orders');
    expect(topic).toMatchObject({ name: 'orders', kind: 'user', queueCount: 8, createdAt: clock.now() });
    expect([...topic.messageTypes].sort()).toEqual(['DELAY', 'FIFO', 'NORMAL', 'TRANSACTION']);
    expect(Object.isFrozen(topic)).toBe(true);
  });

  it('creates topics with given queue count and message types', () => {
    const topic = registry().create('fifo-orders', { queueCount: 3, messageTypes: ['FIFO'] });
    expect(topic.queueCount).toBe(3);
    expect([...topic.messageTypes]).toEqual(['FIFO']);
  });

  it('persists across instances', () => {
    const a = registry();
    a.create('orders', { queueCount: 4, messageTypes: ['NORMAL', 'DELAY'] });
    a.create('payments');
    a.ensureDlqTopic('billing');
    const b = registry();
    expect(b.list().map((t) => t.name)).toEqual(['%DLQ%billing', 'orders', 'payments']);
    const orders = b.get('orders')!;
    expect(orders.queueCount).toBe(4);
    expect([...orders.messageTypes].sort()).toEqual(['DELAY', 'NORMAL']);
    expect(orders.createdAt).toBe(clock.now());
    expect(b.get('%DLQ%billing')).toMatchObject({ kind: 'dlq', queueCount: 1 });
    const file = JSON.parse(readFileSync(join(configDir, TOPICS_FILE), 'utf8'));
    expect(file.version).toBe(1);
  });

  it('rejects a second create of the same topic with BAD_REQUEST', () => {
    const r = registry();
    r.create('orders');
    expect(codeOf(() => r.create('orders'))).toBe(StatusCode.BAD_REQUEST);
  });

  describe('validation', () => {
    it.each([
      ['', StatusCode.ILLEGAL_TOPIC],
      ['   ', StatusCode.ILLEGAL_TOPIC],
      ['has space', StatusCode.ILLEGAL_TOPIC],
      ['a'.repeat(128), StatusCode.ILLEGAL_TOPIC],
      ['TBW102', StatusCode.ILLEGAL_TOPIC],
      ['RMQ_SYS_TRANS_HALF_TOPIC', StatusCode.ILLEGAL_TOPIC],
      ['rmq_sys_wheel', StatusCode.ILLEGAL_TOPIC],
      ['%RETRY%g', StatusCode.ILLEGAL_TOPIC],
      ['%DLQ%g', StatusCode.ILLEGAL_TOPIC],
    ])('create(%j) → %d', (name, code) => {
      expect(codeOf(() => registry().create(name))).toBe(code);
    });

    it('accepts the longest legal name', () => {
      expect(registry().create('a'.repeat(127)).name).toHaveLength(127);
    });

    it.each([
      [{ queueCount: 0 }],
      [{ queueCount: -1 }],
      [{ queueCount: 1.5 }],
      [{ queueCount: MAX_QUEUE_COUNT + 1 }],
      [{ queueCount: Number.NaN }],
      [{ queueCount: '8' }],
      [{ messageTypes: [] }],
      [{ messageTypes: ['NORMAL', 'LITE'] }],
      [{ messageTypes: 'NORMAL' }],
      [{ messageTypes: [7] }],
      [null],
      ['x'],
    ])('create with options %j → BAD_REQUEST', (options) => {
      expect(codeOf(() => registry().create('orders', options as never))).toBe(StatusCode.BAD_REQUEST);
    });

    it('checks the configured default queue count', () => {
      expect(codeOf(() => registry({ defaultQueueCount: 0 }))).toBe(StatusCode.BAD_REQUEST);
      expect(registry({ defaultQueueCount: 2 }).create('t').queueCount).toBe(2);
    });

    it('writes nothing when a create is rejected', () => {
      const r = registry();
      expect(() => r.create('orders', { queueCount: 0 })).toThrow();
      expect(r.list()).toEqual([]);
      expect(registry().list()).toEqual([]);
    });
  });

  describe('update', () => {
    it('grows the queue count and changes message types, persistently', () => {
      const r = registry();
      r.create('orders', { queueCount: 2 });
      const updated = r.update('orders', { queueCount: 6, messageTypes: ['NORMAL'] });
      expect(updated.queueCount).toBe(6);
      expect([...updated.messageTypes]).toEqual(['NORMAL']);
      expect(registry().get('orders')!.queueCount).toBe(6);
    });

    it('keeps fields that are not given', () => {
      const r = registry();
      r.create('orders', { queueCount: 2, messageTypes: ['FIFO'] });
      expect(r.update('orders', { queueCount: 3 }).messageTypes).toEqual(new Set(['FIFO']));
      expect(r.update('orders', { messageTypes: ['NORMAL'] }).queueCount).toBe(3);
    });

    it('refuses to shrink the queue count (BAD_REQUEST)', () => {
      const r = registry();
      r.create('orders', { queueCount: 4 });
      expect(codeOf(() => r.update('orders', { queueCount: 3 }))).toBe(StatusCode.BAD_REQUEST);
      expect(r.get('orders')!.queueCount).toBe(4);
    });

    it('is TOPIC_NOT_FOUND for an unknown topic and ILLEGAL_TOPIC for a reserved one', () => {
      const r = registry();
      expect(codeOf(() => r.update('nope', { queueCount: 9 }))).toBe(StatusCode.TOPIC_NOT_FOUND);
      r.ensureSystemTopic('RMQ_SYS_TRANS_HALF_TOPIC');
      expect(codeOf(() => r.update('RMQ_SYS_TRANS_HALF_TOPIC', { queueCount: 9 }))).toBe(
        StatusCode.ILLEGAL_TOPIC,
      );
    });
  });

  describe('delete', () => {
    it('removes the topic persistently and calls the hook after persisting', () => {
      const deleted: string[] = [];
      const r = registry({
        onDelete: (topic) => {
          deleted.push(topic);
          expect(registry().has(topic)).toBe(false);
        },
      });
      r.create('orders');
      expect(r.delete('orders')).toBe(true);
      expect(deleted).toEqual(['orders']);
      expect(r.get('orders')).toBeUndefined();
      expect(registry().get('orders')).toBeUndefined();
    });

    it('returns false for a missing topic without calling the hook', () => {
      const deleted: string[] = [];
      expect(registry({ onDelete: (t) => deleted.push(t) }).delete('orders')).toBe(false);
      expect(deleted).toEqual([]);
    });

    it('deletes retry and DLQ topics but not system topics', () => {
      const r = registry();
      r.ensureRetryTopic('g', 'orders');
      expect(r.delete(retryTopicOf('g', 'orders'))).toBe(true);
      r.ensureSystemTopic('RMQ_SYS_TRANS_HALF_TOPIC');
      expect(codeOf(() => r.delete('RMQ_SYS_TRANS_HALF_TOPIC'))).toBe(StatusCode.ILLEGAL_TOPIC);
    });
  });

  describe('getOrCreate', () => {
    it('auto-creates unknown topics by default and returns the same config after', () => {
      const r = registry();
      const created = r.getOrCreate('orders');
      expect(created.queueCount).toBe(8);
      expect(r.getOrCreate('orders')).toBe(created);
      expect(registry().has('orders')).toBe(true);
    });

    it('is TOPIC_NOT_FOUND for an unknown topic when auto-creation is off', () => {
      const r = registry({ autoCreateTopics: false });
      const err = (() => {
        try {
          r.getOrCreate('orders');
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(TopicNotFoundError);
      expect((err as TopicNotFoundError).code).toBe(StatusCode.TOPIC_NOT_FOUND);
      expect(r.has('orders')).toBe(false);
      r.create('orders');
      expect(r.getOrCreate('orders').name).toBe('orders');
    });

    it('still validates the name of an unknown topic', () => {
      expect(codeOf(() => registry().getOrCreate('bad name'))).toBe(StatusCode.ILLEGAL_TOPIC);
      expect(codeOf(() => registry({ autoCreateTopics: false }).getOrCreate('bad name'))).toBe(
        StatusCode.ILLEGAL_TOPIC,
      );
    });

    it('refuses system topics, even existing ones', () => {
      const r = registry();
      expect(codeOf(() => r.getOrCreate('TBW102'))).toBe(StatusCode.ILLEGAL_TOPIC);
      r.ensureSystemTopic('RMQ_SYS_TRANS_HALF_TOPIC');
      expect(codeOf(() => r.getOrCreate('RMQ_SYS_TRANS_HALF_TOPIC'))).toBe(StatusCode.ILLEGAL_TOPIC);
    });

    it('refuses names from extraSystemTopics', () => {
      const r = registry({ extraSystemTopics: new Set(['DefaultCluster']) });
      expect(codeOf(() => r.getOrCreate('DefaultCluster'))).toBe(StatusCode.ILLEGAL_TOPIC);
      expect(r.ensureSystemTopic('DefaultCluster').kind).toBe('system');
    });

    it('creates retry and DLQ topics on demand with one queue, even with auto-creation off', () => {
      const r = registry({ autoCreateTopics: false });
      expect(r.getOrCreate('%DLQ%billing')).toMatchObject({ kind: 'dlq', queueCount: 1 });
      expect(r.getOrCreate('%RETRY%billing')).toMatchObject({ kind: 'retry', queueCount: 1 });
    });
  });

  describe('system topics', () => {
    it('ensureSystemTopic creates, then returns or grows the existing topic', () => {
      const r = registry({ autoCreateTopics: false });
      const half = r.ensureSystemTopic('RMQ_SYS_TRANS_HALF_TOPIC');
      expect(half).toMatchObject({ kind: 'system', queueCount: 1 });
      expect(r.ensureSystemTopic('RMQ_SYS_TRANS_HALF_TOPIC')).toBe(half);
      expect(r.ensureSystemTopic('RMQ_SYS_TRANS_HALF_TOPIC', 4).queueCount).toBe(4);
      expect(r.ensureSystemTopic('RMQ_SYS_TRANS_HALF_TOPIC', 2).queueCount).toBe(4);
      expect(r.ensureSystemTopic('rmq_sys_wheel_timer', 1, ['NORMAL']).messageTypes).toEqual(
        new Set(['NORMAL']),
      );
    });

    it('still checks the name pattern and queue count', () => {
      const r = registry();
      expect(codeOf(() => r.ensureSystemTopic('RMQ SYS'))).toBe(StatusCode.ILLEGAL_TOPIC);
      expect(codeOf(() => r.ensureSystemTopic('RMQ_SYS_X', 0))).toBe(StatusCode.BAD_REQUEST);
    });

    it('retry and DLQ topics of a 120-character group and a 127-character topic fit the 255 limit', () => {
      const group = 'g'.repeat(120);
      const topic = 't'.repeat(127);
      const r = registry();
      const retry = r.ensureRetryTopic(group, topic);
      expect(retry.name).toBe(`%RETRY%${group}_${topic}`);
      expect(retry.name).toHaveLength(255);
      expect(retry).toMatchObject({ kind: 'retry', queueCount: 1 });
      expect(r.ensureDlqTopic(group).name).toBe(dlqTopicOf(group));
    });

    it('names the retry topic per (group, topic) as RocketMQ 5 pop does', () => {
      expect(retryTopicOf('billing', 'orders')).toBe('%RETRY%billing_orders');
      // A retry topic consumed directly retries into itself (RocketMQ's revive).
      expect(retryTopicOf('billing', '%RETRY%billing_orders')).toBe('%RETRY%billing_orders');
      // Consuming a DLQ retries into the consumer's own retry topic, naming the DLQ.
      expect(retryTopicOf('g', '%DLQ%other')).toBe('%RETRY%g_%DLQ%other');
      expect(() => validateTopicName(retryTopicOf('g', '%DLQ%other'), { allowRetryDlq: true })).not.toThrow();
    });

    it('classifies names', () => {
      expect(topicKind('orders')).toBe('user');
      expect(topicKind('%RETRY%g')).toBe('retry');
      expect(topicKind('%DLQ%g')).toBe('dlq');
      expect(topicKind('SCHEDULE_TOPIC_XXXX')).toBe('system');
      expect(topicKind('Cluster', new Set(['Cluster']))).toBe('system');
    });
  });

  describe('file safety', () => {
    it('recovers from a corrupt topics.json through the backup', () => {
      const r = registry();
      r.create('orders');
      r.create('payments');
      writeFileSync(join(configDir, TOPICS_FILE), '{"version":1,"topics":[{"na');
      const warnings: string[] = [];
      const recovered = registry({ logger: { warn: (m) => warnings.push(m), error: () => undefined } });
      expect(recovered.list().map((t) => t.name)).toEqual(['orders']);
      expect(warnings).toHaveLength(1);
    });

    it('fails with a typed error naming the file when there is no usable copy', () => {
      writeFileSync(join(configDir, TOPICS_FILE), '{"version":1,"topics":[{"name":"a b"}]}');
      expect(() => registry()).toThrow(CorruptJsonFileError);
      expect(() => registry()).toThrow(join(configDir, TOPICS_FILE));
    });

    it.each([
      ['a wrong version', { version: 2, topics: [] }],
      ['topics not a list', { version: 1, topics: {} }],
      ['a duplicate', { version: 1, topics: [entry('a'), entry('a')] }],
      ['a bad queue count', { version: 1, topics: [{ ...entry('a'), queueCount: 0 }] }],
      ['no createdAt', { version: 1, topics: [{ ...entry('a'), createdAt: null }] }],
      ['a non-string name', { version: 1, topics: [{ ...entry('a'), name: 3 }] }],
    ])('rejects a file with %s', (_what, content) => {
      writeFileSync(join(configDir, TOPICS_FILE), JSON.stringify(content));
      expect(() => registry()).toThrow(CorruptJsonFileError);
    });
  });
});

function entry(name: string): object {
  return { name, queueCount: 1, messageTypes: ['NORMAL'], createdAt: 1 };
}

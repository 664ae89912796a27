import { resolveRocketMQOptions } from '../module/rocketmq-options.js';
import { BatchCollector } from './batch-collector.js';
import { BatchResult } from './batch-result.js';
import { defineListener, type ListenerSource } from './listener-definition.js';
import { broadcastGroupName, defaultGroupName, GROUP_NAME_MAX_LENGTH } from './listener-group.js';
import { consumeResultOf } from './listener-runner.js';

const module = resolveRocketMQOptions({ instanceName: 'pod-1', consumer: { concurrency: 7 } }, {});

function source(options: ListenerSource['options'], extra: Partial<ListenerSource> = {}): ListenerSource {
  return {
    className: 'Orders',
    methodName: 'onOrder',
    options,
    orderly: false,
    onMethod: 1,
    invoke: () => Promise.resolve(undefined),
    ...extra,
  };
}

describe('listener groups', () => {
  it('derives a stable default group from class, method and topic, legal for RocketMQ', () => {
    expect(defaultGroupName('Orders', 'onOrder', 'orders')).toBe('Orders_onOrder_orders');
    expect(defaultGroupName('A', 'b', 'x.y')).toBe('A_b_x_y');
    const long = defaultGroupName('C'.repeat(100), 'm'.repeat(50), 't');
    expect(long.length).toBeLessThanOrEqual(GROUP_NAME_MAX_LENGTH);
    expect(defaultGroupName('C'.repeat(100), 'm'.repeat(50), 't')).toBe(long);
    expect(defaultGroupName('C'.repeat(100), 'm'.repeat(50), 'u')).not.toBe(long);
  });

  it('gives a broadcasting listener a group of its instance', () => {
    expect(broadcastGroupName('cfg', 'pod-1')).toBe('cfg-BROADCAST-pod-1');
  });
});

describe('defineListener', () => {
  it('applies the module defaults, the default group and the tag pattern', () => {
    const d = defineListener(source({ topic: 'orders', tag: 'created' }), module);
    expect(d).toMatchObject({
      id: 'Orders.onOrder',
      group: 'Orders_onOrder_orders',
      pattern: 'orders:created',
      filter: { type: 'TAG', expression: 'created' },
      concurrency: 7,
      model: 'clustering',
    });
  });

  it('names the id after the topic when a method has several listeners, and broadcasts per instance', () => {
    const d = defineListener(
      source({ topic: 'cfg', group: 'cfg-g', model: 'broadcasting' }, { onMethod: 2 }),
      module,
    );
    expect(d.id).toBe('Orders.onOrder#cfg');
    expect(d.group).toBe('cfg-g-BROADCAST-pod-1');
  });

  it('runs one batch at a time unless told otherwise', () => {
    const d = defineListener(source({ topic: 'audit', batch: { size: 10, waitMs: 50 } }), module);
    expect(d.concurrency).toBe(1);
  });

  it('refuses contradictory or out-of-range options with the listener named', () => {
    expect(() => defineListener(source({ topic: 't', tag: 'a', sql: 'a > 1' }), module)).toThrow(
      /Orders.onOrder.*tag or sql/,
    );
    expect(() =>
      defineListener(source({ topic: 't', model: 'broadcasting' }, { orderly: true }), module),
    ).toThrow(/Orderly/);
    expect(() => defineListener(source({ topic: 't', batch: { size: 0, waitMs: 1 } }), module)).toThrow(
      /batch.size/,
    );
    expect(() => defineListener(source({ topic: 't', batch: { size: 2, waitMs: -1 } }), module)).toThrow(
      /batch.waitMs/,
    );
    expect(() => defineListener(source({ topic: 't', group: 'bad group' }), module)).toThrow();
    expect(() => defineListener(source({ topic: '' }), module)).toThrow(/topic/);
  });
});

describe('consumeResultOf', () => {
  it('acknowledges anything but FAILURE and Reconsume', () => {
    expect(consumeResultOf(undefined)).toBeUndefined();
    expect(consumeResultOf({ some: 'value' })).toBeUndefined();
    expect(consumeResultOf('SUCCESS')).toBeUndefined();
    expect(consumeResultOf('FAILURE')).toBe('FAILURE');
    expect(consumeResultOf({ kind: 'retry-after', delayMs: 5 })).toEqual({ kind: 'retry-after', delayMs: 5 });
  });
});

describe('BatchResult', () => {
  it('keeps the failed indexes and checks them', () => {
    const r = BatchResult.failed([2, 0, 2], { retryAfterMs: 100 });
    expect([...r.failedIndexes].sort()).toEqual([0, 2]);
    expect(r.retryAfterMs).toBe(100);
    expect(BatchResult.is(r)).toBe(true);
    expect(BatchResult.is({ failedIndexes: new Set() })).toBe(false);
    expect(() => BatchResult.failed([-1])).toThrow(RangeError);
    expect(() => BatchResult.failed([1.5])).toThrow(RangeError);
    expect(() => BatchResult.failed([1], { retryAfterMs: -5 })).toThrow(RangeError);
  });
});

describe('BatchCollector', () => {
  it('hands a full batch at once and settles each message by its own outcome', async () => {
    const seen: number[][] = [];
    const collector = new BatchCollector<number>({
      size: 3,
      waitMs: 60_000,
      handle: (items) => {
        seen.push([...items]);
        return Promise.resolve(items.map((i) => (i === 2 ? { ok: false, retryAfterMs: 10 } : { ok: true })));
      },
    });
    const results = await Promise.allSettled([1, 2, 3].map((i) => collector.add(i)));
    expect(seen).toEqual([[1, 2, 3]]);
    expect(results).toEqual([
      { status: 'fulfilled', value: undefined },
      { status: 'fulfilled', value: { kind: 'retry-after', delayMs: 10 } },
      { status: 'fulfilled', value: undefined },
    ]);
  });

  it('hands a partial batch after waitMs, and fails every message when the handler throws', async () => {
    const collector = new BatchCollector<string>({
      size: 100,
      waitMs: 20,
      handle: () => Promise.reject(new Error('db down')),
    });
    const results = await Promise.allSettled([collector.add('a'), collector.add('b')]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(collector.batches).toBe(1);
  });
});

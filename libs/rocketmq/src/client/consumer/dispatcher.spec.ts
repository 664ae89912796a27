import { Delivery } from './delivery.js';
import { Dispatcher, type TaskResult } from './dispatcher.js';
import { decodeDelivery } from './received-message.js';
import { delay, waitFor } from './testing/consumer-testing.js';
import { deliveredMessage } from './testing/fake-transport.js';

function delivery(group?: string, body?: string): Delivery {
  return new Delivery(
    decodeDelivery(deliveredMessage({ ...(group ? { group } : {}), ...(body ? { body } : {}) })),
    null,
    Date.now(),
    30_000,
  );
}

test('FIFO: one message group runs in order, one at a time; other groups and ungrouped messages run alongside', async () => {
  const order: string[] = [];
  const running = new Set<string>();
  const overlaps: string[] = [];
  const done: Delivery[] = [];
  const dispatcher = new Dispatcher({
    maxConcurrency: 8,
    fifo: true,
    run: async (d) => {
      const g = d.view.messageGroup ?? `solo-${d.messageId}`;
      if (running.has(g)) overlaps.push(d.view.body.toString());
      running.add(g);
      await delay(5);
      running.delete(g);
      order.push(d.view.body.toString());
      return 'done';
    },
    onDone: (d) => done.push(d),
  });
  const batch = [
    delivery('a', 'a0'),
    delivery('b', 'b0'),
    delivery('a', 'a1'),
    delivery(undefined, 'u0'),
    delivery('a', 'a2'),
    delivery('b', 'b1'),
  ];
  dispatcher.submit(batch);
  dispatcher.submit([delivery('a', 'a3')]); // a later receive of the same group waits too
  await waitFor(() => done.length === 7, 'all done');
  expect(overlaps).toEqual([]);
  expect(order.filter((b) => b.startsWith('a'))).toEqual(['a0', 'a1', 'a2', 'a3']);
  expect(order.filter((b) => b.startsWith('b'))).toEqual(['b0', 'b1']);
  expect(order.indexOf('b0')).toBeLessThan(order.indexOf('a1')); // b did not wait for a
  expect(dispatcher.highWater).toBe(3); // a, b and the ungrouped one
});

test('a retry keeps its place at the head of its group, without holding a slot while it waits', async () => {
  const order: string[] = [];
  const tries = new Map<string, number>();
  const dispatcher = new Dispatcher({
    maxConcurrency: 1,
    fifo: true,
    run: async (d): Promise<TaskResult> => {
      const body = d.view.body.toString();
      const n = (tries.get(body) ?? 0) + 1;
      tries.set(body, n);
      order.push(`${body}#${n}`);
      return body === 'x0' && n < 3 ? { retryInMs: 60 } : 'done';
    },
    onDone: () => undefined,
  });
  dispatcher.submit([delivery('x', 'x0'), delivery('x', 'x1'), delivery('y', 'y0')]);
  await waitFor(() => order.length === 5, 'all attempts');
  expect(order).toEqual(['x0#1', 'y0#1', 'x0#2', 'x0#3', 'x1#1']);
});

test('without FIFO, message groups are not ordered and concurrency is the only limit', async () => {
  let running = 0;
  let max = 0;
  const dispatcher = new Dispatcher({
    maxConcurrency: 4,
    fifo: false,
    run: async () => {
      running++;
      max = Math.max(max, running);
      await delay(10);
      running--;
      return 'done';
    },
    onDone: () => undefined,
  });
  dispatcher.submit(Array.from({ length: 12 }, () => delivery('same')));
  expect(await dispatcher.whenIdle(Date.now() + 2_000)).toBe(true);
  expect(max).toBe(4);
});

test('stop() hands back what never started or waits for a retry; running handlers finish; whenIdle times out', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const done: Delivery[] = [];
  const dispatcher = new Dispatcher({
    maxConcurrency: 1,
    fifo: true,
    run: async (d) => {
      if (d.view.body.toString() === 'slow') await gate;
      return d.view.body.toString() === 'retry' ? { retryInMs: 10_000 } : 'done';
    },
    onDone: (d) => done.push(d),
  });
  const retry = delivery('r', 'retry');
  dispatcher.submit([retry]);
  await delay(20); // now waiting for its retry
  const slow = delivery('s', 'slow');
  const queued = [delivery('s', 'q1'), delivery(undefined, 'q2')];
  dispatcher.submit([slow, ...queued]);
  await delay(20);
  const left = dispatcher.stop();
  expect(new Set(left)).toEqual(new Set([retry, ...queued]));
  expect(await dispatcher.whenIdle(Date.now() + 50)).toBe(false);
  expect(dispatcher.runningDeliveries()).toEqual([slow]);
  release();
  expect(await dispatcher.whenIdle(Date.now() + 1_000)).toBe(true);
  expect(new Set(done)).toEqual(new Set([retry, slow, ...queued]));
  expect(done).toHaveLength(4); // each one left exactly once
});

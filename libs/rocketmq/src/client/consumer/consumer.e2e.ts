/**
 * The consumer against a real built-in broker over gRPC: delivery and acks, filters, backpressure,
 * ack batching, nack and redelivery, the server-side dead-letter queue.
 */
import { silentLogger } from '../logger.js';
import { RpcClient } from '../rpc-client.js';
import { startSilentServer } from '../testing/silent-server.js';
import { ConsumeResult, Reconsume } from './consume-result.js';
import { Consumer } from './consumer.js';
import { type ReceivedMessageView } from './received-message.js';
import { Filter } from './subscription.js';
import {
  deadLetterIds,
  delay,
  RecordingLogger,
  sendMessages,
  startTestBroker,
  waitFor,
  type TestBroker,
} from './testing/consumer-testing.js';
import { RecordingTransport } from './testing/recording-transport.js';

let tb: TestBroker;
const open: { consumer?: Consumer; transport: RecordingTransport }[] = [];

beforeAll(async () => {
  tb = await startTestBroker();
});

afterEach(async () => {
  for (const { consumer, transport } of open.splice(0)) {
    await consumer?.close();
    await transport.close();
  }
});

afterAll(async () => {
  const problems = tb.logger.problems();
  await tb.close();
  expect(problems).toEqual([]); // the broker saw nothing to warn about
});

function transport(): RecordingTransport {
  const t = new RecordingTransport(tb.endpoint);
  open.push({ transport: t });
  return t;
}

async function start(options: Omit<Parameters<typeof Consumer.start>[0], 'transport'>, t = transport()) {
  const consumer = await Consumer.start({ transport: t, ...options });
  open.find((o) => o.transport === t)!.consumer = consumer;
  return consumer;
}

test('every message is delivered once with its content and acked; nothing comes back', async () => {
  const topic = 'consumer-basic';
  const group = 'consumer-basic-g';
  const logger = new RecordingLogger();
  const sent = Array.from({ length: 50 }, (_, i) => ({
    body: `body-${i}`,
    tag: i % 2 === 0 ? 'even' : 'odd',
    keys: [`key-${i}`],
    properties: { index: String(i), kind: 'basic' },
  }));
  const ids = await sendMessages(tb.broker, topic, sent);
  const seen: ReceivedMessageView[] = [];
  const consumer = await start({
    group,
    subscriptions: [{ topic }],
    handler: (m) => void seen.push(m),
    logger,
  });

  await waitFor(() => seen.length >= 50, '50 deliveries');
  await waitFor(() => tb.broker.core.inFlightCount(group, topic) === 0, 'every lease settled');
  await delay(300); // anything redelivered would show up now
  expect(seen).toHaveLength(50);
  const byId = new Map(seen.map((m) => [m.messageId, m]));
  expect([...byId.keys()].sort()).toEqual([...ids].sort());
  ids.forEach((id, i) => {
    const m = byId.get(id)!;
    expect(m.topic).toBe(topic);
    expect(m.body.toString()).toBe(`body-${i}`);
    expect(m.tag).toBe(i % 2 === 0 ? 'even' : 'odd');
    expect(m.keys).toEqual([`key-${i}`]);
    expect(m.properties).toEqual({ index: String(i), kind: 'basic' });
    expect(m.deliveryAttempt).toBe(1);
    expect(m.messageType).toBe('NORMAL');
    expect(m.bornTimestamp).toBeGreaterThan(Date.now() - 60_000);
  });
  expect(tb.broker.core.lag(group, topic).total).toBe(0);
  expect(consumer.stats()).toMatchObject({ received: 50, succeeded: 50, failed: 0, nacks: 0, inFlight: 0 });
  expect(logger.problems()).toEqual([]);
});

test('a TAG filter delivers only the listed tags; the rest never reach the handler', async () => {
  const topic = 'consumer-tags';
  const group = 'consumer-tags-g';
  await sendMessages(tb.broker, topic, [
    { body: 'a1', tag: 'a' },
    { body: 'b1', tag: 'b' },
    { body: 'c1', tag: 'c' },
    { body: 'none' },
    { body: 'a2', tag: 'a' },
  ]);
  const seen: string[] = [];
  await start({
    group,
    subscriptions: [{ topic, filter: Filter.tag('a || c') }],
    handler: (m) => void seen.push(m.body.toString()),
  });
  await waitFor(() => seen.length >= 3, 'the three matching messages');
  await waitFor(() => tb.broker.core.lag(group, topic).total === 0, 'the topic consumed');
  await delay(200);
  expect(seen.sort()).toEqual(['a1', 'a2', 'c1']);
});

test('a SQL92 filter delivers only messages whose properties match, across two subscribed topics', async () => {
  const group = 'consumer-sql-g';
  await sendMessages(tb.broker, 'consumer-sql-1', [
    { body: 'eu-big', properties: { region: 'eu', amount: '50' } },
    { body: 'eu-small', properties: { region: 'eu', amount: '5' } },
    { body: 'us-big', properties: { region: 'us', amount: '70' } },
    { body: 'no-props' },
  ]);
  await sendMessages(tb.broker, 'consumer-sql-2', [
    { body: 'other-x', tag: 'x' },
    { body: 'other-y', tag: 'y' },
  ]);
  const seen: string[] = [];
  await start({
    group,
    subscriptions: [
      { topic: 'consumer-sql-1', filter: Filter.sql("region = 'eu' AND amount > 10") },
      { topic: 'consumer-sql-2', filter: Filter.sql("TAGS = 'y'") },
    ],
    handler: (m) => void seen.push(`${m.topic}:${m.body.toString()}`),
  });
  await waitFor(() => seen.length >= 2, 'the matching messages');
  await delay(300);
  expect(seen.sort()).toEqual(['consumer-sql-1:eu-big', 'consumer-sql-2:other-y']);
});

test('a bad filter fails the start with ILLEGAL_FILTER_EXPRESSION, before anything is sent', async () => {
  const t = transport();
  await expect(
    Consumer.start({
      transport: t,
      group: 'consumer-bad-filter-g',
      subscriptions: [{ topic: 'consumer-bad-filter', filter: Filter.sql('amount >') }],
      handler: () => undefined,
    }),
  ).rejects.toMatchObject({ code: 40010 });
  expect(t.requests.size).toBe(0);
});

test('backpressure: never more than maxInFlight held nor maxConcurrency running, and receives ask only for what fits', async () => {
  const topic = 'consumer-backpressure';
  const group = 'consumer-backpressure-g';
  await sendMessages(
    tb.broker,
    topic,
    Array.from({ length: 60 }, (_, i) => ({ body: `m${i}` })),
  );
  const t = transport();
  let running = 0;
  let maxRunning = 0;
  const done = new Set<string>();
  const consumer = await start(
    {
      group,
      subscriptions: [{ topic }],
      maxInFlight: 8,
      maxConcurrency: 3,
      handler: async (m) => {
        running++;
        maxRunning = Math.max(maxRunning, running);
        await delay(15);
        running--;
        done.add(m.body.toString());
      },
    },
    t,
  );
  // The broker also counts messages whose handler finished and whose ack is still on its way (their
  // slots are free already); those are at most the handled ones whose AckMessage has not answered.
  let maxHeldOnBroker = 0;
  await waitFor(() => {
    const ackNotAnswered = done.size - t.ackEntriesAnswered;
    maxHeldOnBroker = Math.max(maxHeldOnBroker, tb.broker.core.inFlightCount(group, topic) - ackNotAnswered);
    return done.size === 60;
  }, 'all 60 handled');
  const stats = consumer.stats();
  expect(maxRunning).toBe(3);
  expect(stats.maxRunningSeen).toBe(3);
  expect(stats.maxInFlightSeen).toBeLessThanOrEqual(8);
  expect(stats.maxInFlightSeen).toBeGreaterThan(3); // it did buffer ahead of the handlers
  expect(maxHeldOnBroker).toBeLessThanOrEqual(8);
  const batchSizes = (t.requests.get('ReceiveMessage') as { batch_size: number }[]).map((r) => r.batch_size);
  expect(Math.max(...batchSizes)).toBeLessThanOrEqual(8);
  expect(Math.min(...batchSizes)).toBeGreaterThanOrEqual(1);
});

test('acks are batched: far fewer AckMessage calls than messages, every message acked exactly once', async () => {
  const topic = 'consumer-ack-batch';
  const group = 'consumer-ack-batch-g';
  const ids = await sendMessages(
    tb.broker,
    topic,
    Array.from({ length: 300 }, (_, i) => ({ body: `m${i}` })),
  );
  const t = transport();
  let handled = 0;
  await start({ group, subscriptions: [{ topic }], handler: () => void handled++ }, t);
  await waitFor(() => handled >= 300, '300 handled');
  await waitFor(() => tb.broker.core.inFlightCount(group, topic) === 0, 'all acked');
  const acks = t.requests.get('AckMessage') as { entries: { message_id: string }[] }[];
  const acked = acks.flatMap((r) => r.entries.map((e) => e.message_id));
  expect(acked.sort()).toEqual([...ids].sort());
  expect(acks.length).toBeLessThanOrEqual(300 / 8);
  expect(tb.broker.core.lag(group, topic).total).toBe(0);
});

test('a failed message comes back with attempt + 1 after the group backoff, then is acked', async () => {
  const topic = 'consumer-nack';
  const group = 'consumer-nack-g';
  tb.broker.core.createGroup(group, { retryBackoffMs: [400], maxDeliveryAttempts: 5 });
  const [id] = await sendMessages(tb.broker, topic, [{ body: 'retry me' }]);
  const deliveries: { attempt: number; at: number; body: string; topic: string; id: string }[] = [];
  const consumer = await start({
    group,
    subscriptions: [{ topic }],
    logger: new RecordingLogger(),
    handler: (m) => {
      deliveries.push({
        attempt: m.deliveryAttempt,
        at: Date.now(),
        body: m.body.toString(),
        topic: m.topic,
        id: m.messageId,
      });
      if (m.deliveryAttempt === 1) throw new Error('first attempt fails');
    },
  });
  await waitFor(() => deliveries.length >= 2, 'the redelivery');
  await waitFor(() => tb.broker.core.inFlightCount(group) === 0, 'the ack');
  await delay(300);
  expect(deliveries.map((d) => d.attempt)).toEqual([1, 2]);
  // The redelivery is the same message: same id, body and (original) topic.
  expect(deliveries.every((d) => d.body === 'retry me' && d.id === id && d.topic === topic)).toBe(true);
  expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(380);
  expect(deliveries[1]!.at - deliveries[0]!.at).toBeLessThan(1_500); // the backoff once, not twice
  expect(consumer.stats()).toMatchObject({ nacks: 1, failed: 1, succeeded: 1 });
  expect(deadLetterIds(tb.broker, group)).not.toContain(id);
});

test('Reconsume.after(ms) retries after exactly that delay instead of the backoff', async () => {
  const topic = 'consumer-reconsume';
  const group = 'consumer-reconsume-g';
  tb.broker.core.createGroup(group, { retryBackoffMs: [5_000], maxDeliveryAttempts: 5 });
  await sendMessages(tb.broker, topic, [{ body: 'later' }]);
  const at: number[] = [];
  await start({
    group,
    subscriptions: [{ topic }],
    handler: (m) => {
      at.push(Date.now());
      return m.deliveryAttempt === 1 ? Reconsume.after(700) : ConsumeResult.SUCCESS;
    },
  });
  await waitFor(() => at.length >= 2, 'the redelivery', 4_000);
  expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(680);
  expect(at[1]! - at[0]!).toBeLessThan(3_000); // not the group's 5 s
});

test('after the max delivery attempts the server moves the message to the DLQ; the client does not retry further', async () => {
  const topic = 'consumer-dlq';
  const group = 'consumer-dlq-g';
  tb.broker.core.createGroup(group, { retryBackoffMs: [100], maxDeliveryAttempts: 3 });
  const [id, okId] = await sendMessages(tb.broker, topic, [{ body: 'poison' }, { body: 'fine' }]);
  const attempts: number[] = [];
  const okSeen: string[] = [];
  const consumer = await start({
    group,
    subscriptions: [{ topic }],
    logger: new RecordingLogger(),
    handler: (m) => {
      if (m.body.toString() === 'fine') {
        okSeen.push(m.messageId);
        return;
      }
      attempts.push(m.deliveryAttempt);
      return ConsumeResult.FAILURE;
    },
  });
  await waitFor(() => deadLetterIds(tb.broker, group).includes(id!), 'the dead letter');
  await delay(500);
  expect(attempts).toEqual([1, 2, 3]);
  expect(okSeen).toEqual([okId]);
  expect(consumer.stats().nacks).toBe(3);
  expect(tb.broker.core.inFlightCount(group)).toBe(0);
});

test('a handler that runs past the invisible duration keeps its message: the lease is renewed, nothing is redelivered', async () => {
  const topic = 'consumer-renew';
  const group = 'consumer-renew-g';
  await sendMessages(tb.broker, topic, [{ body: 'long job' }]);
  const deliveries: number[] = [];
  const consumer = await start({
    group,
    subscriptions: [{ topic }],
    invisibleDurationMs: 10_000, // the least Apache and the built-in broker accept
    handler: async (m) => {
      deliveries.push(m.deliveryAttempt);
      await delay(11_500);
    },
  });
  const other = await start({
    group,
    subscriptions: [{ topic }],
    handler: (m) => void deliveries.push(m.deliveryAttempt),
  });
  await waitFor(() => consumer.stats().succeeded === 1, 'the long handler done', 20_000);
  await waitFor(() => tb.broker.core.inFlightCount(group, topic) === 0, 'the ack');
  expect(deliveries).toEqual([1]);
  expect(consumer.stats().leaseRenewals).toBeGreaterThanOrEqual(1);
  expect(other.stats().received).toBe(0);
}, 30_000);

test('a group the server does not know (no auto-creation) fails the start with CONSUMER_GROUP_NOT_FOUND', async () => {
  const strict = await startTestBroker({ core: { autoCreateGroups: false } });
  const t = new RecordingTransport(strict.endpoint);
  try {
    await expect(
      Consumer.start({
        transport: t,
        group: 'nobody-made-me',
        subscriptions: [{ topic: 'strict' }],
        handler: () => undefined,
      }),
    ).rejects.toMatchObject({ code: 40403 });
  } finally {
    await t.close();
    await strict.close();
  }
});

test('a consumer on a shared RpcClient uses its connection and leaves it open when it closes', async () => {
  const topic = 'consumer-shared-client';
  const group = 'consumer-shared-client-g';
  const client = await RpcClient.connect({ endpoints: tb.endpoint, logger: silentLogger });
  try {
    await sendMessages(tb.broker, topic, [{ body: 'shared' }]);
    const seen: string[] = [];
    const consumer = await Consumer.start({
      client,
      group,
      subscriptions: [{ topic }],
      handler: (m) => void seen.push(`${m.body.toString()}#${m.deliveryAttempt}`),
    });
    await waitFor(() => seen.length === 1, 'the message');
    await consumer.close();
    expect(client.closed).toBe(false);
    expect(seen).toEqual(['shared#1']);
    expect(tb.broker.core.lag(group, topic).total).toBe(0);
    // The client still works for others.
    const again = await Consumer.start({
      client,
      group,
      subscriptions: [{ topic }],
      handler: () => undefined,
    });
    await again.close();
  } finally {
    await client.close();
  }
});

test('a consumer pointed at an endpoint that accepts TCP but never answers fails to start within the startup timeout', async () => {
  const silent = await startSilentServer();
  try {
    const began = Date.now();
    await expect(
      Consumer.start({
        client: { endpoints: silent.endpoint, startupTimeoutMs: 800, logger: silentLogger },
        group: 'consumer-silent-g',
        subscriptions: [{ topic: 'consumer-silent' }],
        handler: () => undefined,
      }),
    ).rejects.toMatchObject({ code: 40800 });
    expect(Date.now() - began).toBeLessThan(3_000);
  } finally {
    await silent.close();
  }
});

test('against a broker raised to maxReceiveBatchSize 128, receives ask for and get up to 128 messages at once', async () => {
  const big = await startTestBroker({ core: { maxReceiveBatchSize: 128 } });
  const t = new RecordingTransport(big.endpoint);
  let consumer: Consumer | undefined;
  try {
    const topic = 'consumer-big-batch';
    const group = 'consumer-big-batch-g';
    await sendMessages(
      big.broker,
      topic,
      Array.from({ length: 300 }, (_, i) => ({ body: `m${i}` })),
    );
    let handled = 0;
    consumer = await Consumer.start({
      transport: t,
      group,
      subscriptions: [{ topic }],
      receiveConcurrency: 1, // one receive at a time: each takes what the last left
      handler: () => void handled++,
    });
    await waitFor(() => handled >= 300, '300 handled');
    const receives = t.of<{ batch_size: number }>('ReceiveMessage');
    expect(receives[0]!.batch_size).toBe(128);
    expect(consumer.stats().received).toBe(300);
    // 300 messages in 128-message answers: three receives carry them all (more only come back empty).
    expect(consumer.stats().receives).toBeLessThanOrEqual(3 + 1);
  } finally {
    await consumer?.close();
    await t.close();
    await big.close();
  }
});

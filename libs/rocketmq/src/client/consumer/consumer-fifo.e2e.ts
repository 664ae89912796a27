/**
 * FIFO groups against a real built-in broker: per message group strict order with groups in
 * parallel, local retries that block only their own group, and the dead-letter forward after the
 * last attempt.
 */
import { ConsumeResult } from './consume-result.js';
import { Consumer } from './consumer.js';
import {
  deadLetterIds,
  delay,
  RecordingLogger,
  sendMessages,
  startTestBroker,
  waitFor,
  type TestBroker,
  type TestMessage,
} from './testing/consumer-testing.js';
import { RecordingTransport } from './testing/recording-transport.js';

let tb: TestBroker;
const open: { consumer: Consumer; transport: RecordingTransport }[] = [];

beforeAll(async () => {
  tb = await startTestBroker();
});

afterEach(async () => {
  for (const { consumer, transport } of open.splice(0)) {
    await consumer.close();
    await transport.close();
  }
});

afterAll(async () => {
  const problems = tb.logger.problems();
  await tb.close();
  expect(problems).toEqual([]); // the broker saw nothing to warn about
});

async function start(options: Omit<Parameters<typeof Consumer.start>[0], 'transport'>): Promise<Consumer> {
  const transport = new RecordingTransport(tb.endpoint);
  const consumer = await Consumer.start({ transport, ...options });
  open.push({ consumer, transport });
  return consumer;
}

/** `groups` × `perGroup` messages, interleaved across groups, bodies `<group>:<index>`. */
function interleaved(groups: readonly string[], perGroup: number): TestMessage[] {
  const messages: TestMessage[] = [];
  for (let i = 0; i < perGroup; i++) {
    for (const g of groups) messages.push({ body: `${g}:${i}`, messageGroup: g });
  }
  return messages;
}

test('a FIFO group delivers each message group strictly in order while groups run in parallel', async () => {
  const topic = 'fifo-order';
  const group = 'fifo-order-g';
  tb.broker.core.createGroup(group, { fifo: true, retryBackoffMs: [50], maxDeliveryAttempts: 3 });
  const groups = Array.from({ length: 24 }, (_, i) => `order-${i}`);
  await sendMessages(tb.broker, topic, interleaved(groups, 25));
  const seen = new Map<string, number[]>(groups.map((g) => [g, []]));
  const active = new Set<string>();
  const violations: string[] = [];
  let running = 0;
  let maxRunning = 0;
  const consumer = await start({
    group,
    subscriptions: [{ topic }],
    maxConcurrency: 16,
    handler: async (m) => {
      const g = m.messageGroup!;
      if (active.has(g)) violations.push(`${m.body.toString()} started while ${g} had one running`);
      active.add(g);
      running++;
      maxRunning = Math.max(maxRunning, running);
      await delay(Math.floor(Math.random() * 3));
      running--;
      active.delete(g);
      seen.get(g)!.push(Number(m.body.toString().split(':')[1]));
    },
  });
  expect(consumer.fifo).toBe(true);
  await waitFor(() => [...seen.values()].every((s) => s.length >= 25), 'every message', 30_000);
  await waitFor(() => tb.broker.core.inFlightCount(group, topic) === 0, 'every ack');
  expect(violations).toEqual([]);
  for (const g of groups) expect(seen.get(g)).toEqual(Array.from({ length: 25 }, (_, i) => i));
  expect(maxRunning).toBeGreaterThan(1); // groups did run in parallel
  expect(tb.broker.core.lag(group, topic).total).toBe(0);
});

test('a failing FIFO message is retried locally and blocks only its own message group', async () => {
  const topic = 'fifo-retry';
  const group = 'fifo-retry-g';
  tb.broker.core.createGroup(group, { fifo: true, retryBackoffMs: [300], maxDeliveryAttempts: 4 });
  const groups = ['blocked', 'free-1', 'free-2'];
  await sendMessages(tb.broker, topic, interleaved(groups, 6));
  const log: { body: string; attempt: number; at: number }[] = [];
  const consumer = await start({
    group,
    subscriptions: [{ topic }],
    logger: new RecordingLogger(),
    handler: (m) => {
      const body = m.body.toString();
      log.push({ body, attempt: m.deliveryAttempt, at: Date.now() });
      if (body === 'blocked:2' && m.deliveryAttempt < 3) throw new Error('not yet');
    },
  });
  await waitFor(
    () => log.filter((e) => e.body.startsWith('blocked') && e.attempt === 1).length >= 6,
    'group done',
    10_000,
  );
  const blocked = log.filter((e) => e.body.startsWith('blocked'));
  // Order of the blocked group: 0, 1, then 2 three times (attempts 1, 2, 3), then 3, 4, 5.
  expect(blocked.map((e) => `${e.body}#${e.attempt}`)).toEqual([
    'blocked:0#1',
    'blocked:1#1',
    'blocked:2#1',
    'blocked:2#2',
    'blocked:2#3',
    'blocked:3#1',
    'blocked:4#1',
    'blocked:5#1',
  ]);
  const tries = blocked.filter((e) => e.body === 'blocked:2');
  expect(tries[1]!.at - tries[0]!.at).toBeGreaterThanOrEqual(280); // the group's backoff
  // The other groups finished while `blocked:2` was waiting for its retries.
  const freeDone = Math.max(...log.filter((e) => e.body.startsWith('free')).map((e) => e.at));
  expect(log.filter((e) => e.body.startsWith('free'))).toHaveLength(12);
  expect(freeDone).toBeLessThan(tries[2]!.at);
  await waitFor(() => tb.broker.core.inFlightCount(group, topic) === 0, 'every ack');
  expect(consumer.stats()).toMatchObject({ nacks: 0, deadLetterForwards: 0, failed: 2 });
});

test('a FIFO message that fails every attempt is forwarded to the DLQ and its group moves on', async () => {
  const topic = 'fifo-dlq';
  const group = 'fifo-dlq-g';
  tb.broker.core.createGroup(group, { fifo: true, retryBackoffMs: [50], maxDeliveryAttempts: 3 });
  const ids = await sendMessages(tb.broker, topic, [
    { body: 'g:0', messageGroup: 'g' },
    { body: 'g:1', messageGroup: 'g' },
    { body: 'g:2', messageGroup: 'g' },
  ]);
  const log: string[] = [];
  const consumer = await start({
    group,
    subscriptions: [{ topic }],
    logger: new RecordingLogger(),
    handler: (m) => {
      log.push(`${m.body.toString()}#${m.deliveryAttempt}`);
      return m.body.toString() === 'g:1' ? ConsumeResult.FAILURE : ConsumeResult.SUCCESS;
    },
  });
  await waitFor(() => log.includes('g:2#1'), 'the message after the dead one');
  await waitFor(() => deadLetterIds(tb.broker, group).includes(ids[1]!), 'the dead letter');
  await delay(300);
  expect(log).toEqual(['g:0#1', 'g:1#1', 'g:1#2', 'g:1#3', 'g:2#1']);
  expect(deadLetterIds(tb.broker, group)).toEqual([ids[1]]);
  expect(consumer.stats()).toMatchObject({ deadLetterForwards: 1, nacks: 0 });
  await waitFor(() => tb.broker.core.inFlightCount(group, topic) === 0, 'nothing held');
});

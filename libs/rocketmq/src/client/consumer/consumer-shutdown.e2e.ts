/**
 * Graceful shutdown against a real built-in broker: receiving stops at once, running handlers
 * finish and are acked, a handler past the timeout is not acked and its message comes back, and a
 * process using the consumer exits by itself after close.
 */
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Consumer } from './consumer.js';
import {
  delay,
  RecordingLogger,
  sendMessages,
  startTestBroker,
  waitFor,
  type TestBroker,
} from './testing/consumer-testing.js';
import { RecordingTransport } from './testing/recording-transport.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'testing', 'consumer-exit.child.ts');

let tb: TestBroker;
const transports: RecordingTransport[] = [];
const consumers: Consumer[] = [];

beforeAll(async () => {
  tb = await startTestBroker();
});

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.close()));
  await Promise.all(transports.splice(0).map((t) => t.close()));
});

afterAll(async () => {
  const problems = tb.logger.problems();
  await tb.close();
  expect(problems).toEqual([]); // the broker saw nothing to warn about
});

async function start(options: Omit<Parameters<typeof Consumer.start>[0], 'transport'>) {
  const transport = new RecordingTransport(tb.endpoint);
  transports.push(transport);
  const consumer = await Consumer.start({ transport, ...options });
  consumers.push(consumer);
  return { consumer, transport };
}

/** A second consumer of `group` that records what it gets. */
async function observer(group: string, topic: string) {
  const got: { body: string; attempt: number }[] = [];
  const { consumer } = await start({
    group,
    subscriptions: [{ topic }],
    handler: (m) => void got.push({ body: m.body.toString(), attempt: m.deliveryAttempt }),
  });
  return { consumer, got };
}

test('close() on an idle consumer returns at once: the long poll is aborted, not waited out', async () => {
  const { consumer, transport } = await start({
    group: 'shutdown-idle-g',
    subscriptions: [{ topic: 'shutdown-idle' }],
    handler: () => undefined,
  });
  await waitFor(() => transport.count('ReceiveMessage') >= 1, 'a long poll under way');
  const began = Date.now();
  await consumer.close();
  // Waiting the poll out would take its 20 s; the bound only has to tell the two apart on a busy machine.
  expect(Date.now() - began).toBeLessThan(10_000);
  expect(transport.count('NotifyClientTermination')).toBe(1);
  expect(consumer.closed).toBe(true);
});

test('close() waits for a running handler, acks its message, and it never comes back', async () => {
  const topic = 'shutdown-graceful';
  const group = 'shutdown-graceful-g';
  await sendMessages(tb.broker, topic, [{ body: 'slow' }]);
  let finished = false;
  let started = false;
  const { consumer, transport } = await start({
    group,
    subscriptions: [{ topic }],
    shutdownTimeoutMs: 5_000,
    handler: async () => {
      started = true;
      await delay(600);
      finished = true;
    },
  });
  await waitFor(() => started, 'the handler running');
  await consumer.close();
  expect(finished).toBe(true);
  const acks = transport.requests.get('AckMessage') as { entries: unknown[] }[];
  expect(acks.flatMap((r) => r.entries)).toHaveLength(1);
  // The ack went out before NotifyClientTermination (which would otherwise hand the message back).
  expect(tb.broker.core.inFlightCount(group, topic)).toBe(0);
  expect(tb.broker.core.lag(group, topic).total).toBe(0);
  const second = await observer(group, topic);
  await delay(700);
  expect(second.got).toEqual([]);
});

test('a handler that outlives the shutdown timeout is not acked, and its message comes back to another consumer', async () => {
  const topic = 'shutdown-timeout';
  const group = 'shutdown-timeout-g';
  await sendMessages(tb.broker, topic, [{ body: 'stuck' }]);
  let started = false;
  let release: () => void = () => undefined;
  const stuck = new Promise<void>((resolve) => (release = resolve));
  const logger = new RecordingLogger();
  const { consumer, transport } = await start({
    group,
    subscriptions: [{ topic }],
    shutdownTimeoutMs: 300,
    logger,
    handler: async () => {
      started = true;
      await stuck;
    },
  });
  await waitFor(() => started, 'the handler running');
  const began = Date.now();
  await consumer.close();
  expect(Date.now() - began).toBeLessThan(10_000); // the handler never ends: without the timeout, close() would not
  expect(logger.problems().join('\n')).toMatch(/1 handler\(s\) did not finish within 300 ms/);

  const second = await observer(group, topic);
  await waitFor(() => second.got.length === 1, 'the redelivery');
  expect(second.got[0]!.body).toBe('stuck');
  release(); // the first handler finishes now: its answer must be ignored
  await delay(200);
  expect(transport.count('AckMessage')).toBe(0);
  expect(transport.count('ChangeInvisibleDuration')).toBe(0);
});

test('messages received but not started when close() begins are not acked and come back', async () => {
  const topic = 'shutdown-queued';
  const group = 'shutdown-queued-g';
  await sendMessages(
    tb.broker,
    topic,
    ['q0', 'q1', 'q2', 'q3', 'q4'].map((body) => ({ body })),
  );
  const handled: string[] = [];
  let started = 0;
  const { consumer } = await start({
    group,
    subscriptions: [{ topic }],
    maxConcurrency: 1,
    handler: async (m) => {
      started++;
      await delay(300);
      handled.push(m.body.toString());
    },
  });
  await waitFor(() => started === 1 && consumer.stats().inFlight === 5, 'one running, four waiting');
  await consumer.close();
  expect(handled).toHaveLength(1);
  const second = await observer(group, topic);
  await waitFor(() => second.got.length === 4, 'the four others');
  expect([...handled, ...second.got.map((g) => g.body)].sort()).toEqual(['q0', 'q1', 'q2', 'q3', 'q4']);
});

test('a process that used the consumer exits by itself after close()', async () => {
  const topic = 'shutdown-exit';
  const group = 'shutdown-exit-g';
  await sendMessages(
    tb.broker,
    topic,
    ['e0', 'e1', 'e2'].map((body) => ({ body })),
  );
  const child = spawn(
    process.execPath,
    [
      '--import',
      '@swc-node/register/esm-register',
      CHILD,
      JSON.stringify({ endpoint: tb.endpoint, topic, group, count: 3 }),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      resolve(null);
    }, 30_000);
    child.on('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
  const result = JSON.parse(stdout) as { bodies: string[] };
  expect(result.bodies.sort()).toEqual(['e0', 'e1', 'e2']);
  expect(tb.broker.core.lag(group, topic).total).toBe(0);
});

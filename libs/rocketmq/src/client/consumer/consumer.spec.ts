/**
 * The consumer against a scripted transport: the requests it builds, and how it copes with what a
 * server should not answer (failed calls, error statuses, corrupted messages, instant empty answers).
 */
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { millisOfDuration } from '@rocketnest/broker/grpc/proto-time.js';
import { FilterType } from '@rocketnest/broker/grpc/proto-types.js';
import { Consumer } from './consumer.js';
import { DEFAULT_RECEIVE_CONCURRENCY } from './consumer-options.js';
import { type MessageHandler } from './message-processor.js';
import { Filter } from './subscription.js';
import { delay, RecordingLogger, waitFor } from './testing/consumer-testing.js';
import { deliveredMessage, FakeTransport, OK_STATUS } from './testing/fake-transport.js';

const consumers: Consumer[] = [];
afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.close()));
});

async function start(transport: FakeTransport, options: Partial<Parameters<typeof Consumer.start>[0]> = {}) {
  const consumer = await Consumer.start({
    transport,
    group: 'g',
    subscriptions: [{ topic: 'topic' }],
    handler: () => undefined,
    logger: new RecordingLogger(),
    ...options,
  });
  consumers.push(consumer);
  return consumer;
}

test("receives ask the server's batch size and long poll, with an explicit lease and a deadline beyond the poll", async () => {
  const transport = new FakeTransport();
  transport.settings = { fifo: false, receiveBatchSize: 16, longPollingTimeoutMs: 1_500 };
  await start(transport, {
    subscriptions: [{ topic: 'topic', filter: Filter.sql('a > 1') }],
    invisibleDurationMs: 45_000,
  });
  await waitFor(() => transport.receives.length >= 1, 'a receive');
  const [request] = transport.receives;
  expect(request).toMatchObject({
    group: { name: 'g' },
    message_queue: transport.queues[0],
    filter_expression: { type: FilterType.SQL, expression: 'a > 1' },
    batch_size: 16,
    auto_renew: false,
  });
  expect(millisOfDuration(request!.invisible_duration)).toBe(45_000);
  expect(millisOfDuration(request!.long_polling_timeout)).toBe(1_500);
  expect(request!.attempt_id).toMatch(/^[0-9a-f-]{36}$/);
  expect(transport.receiveTimeouts[0]).toBe(1_500 + transport.requestTimeoutMs);
});

test.each([
  ['a raised server batch (a built-in broker at 128)', 128, undefined, 128],
  ['the server batch, capped by receiveBatchSize', 128, 48, 48],
  ['receiveBatchSize, capped by the server batch (Apache: 32)', 32, 100, 32],
  ['32 when the server says none', undefined, undefined, 32],
  ['receiveBatchSize when the server says none', undefined, 100, 100],
])('a receive asks %s', async (_what, server, asked, expected) => {
  const transport = new FakeTransport();
  transport.settings = { fifo: false, receiveBatchSize: server, longPollingTimeoutMs: 1_000 };
  await start(transport, asked === undefined ? {} : { receiveBatchSize: asked });
  await waitFor(() => transport.receives.length >= 1, 'a receive');
  expect(transport.receives[0]!.batch_size).toBe(expected);
});

test('a receive that failed without an answer is retried after 1 s with the same attempt id; an answer gets a new one', async () => {
  const transport = new FakeTransport();
  transport.receiveAnswers.push(new Error('UNAVAILABLE'), {
    status: { code: StatusCode.MESSAGE_NOT_FOUND },
    messages: [],
  });
  const logger = new RecordingLogger();
  await start(transport, { logger, receiveConcurrency: 1 }); // one loop: its receives in sequence
  await waitFor(() => transport.receives.length >= 3, 'three receives');
  const [a, b, c] = transport.receives;
  expect(b!.attempt_id).toBe(a!.attempt_id);
  expect(c!.attempt_id).not.toBe(b!.attempt_id);
  expect(transport.receiveTimes[1]! - transport.receiveTimes[0]!).toBeGreaterThanOrEqual(950);
  expect(logger.problems().join('\n')).toMatch(/receiving from topic .* failed: UNAVAILABLE/);
});

test('an error status waits 1 s before the next receive and is logged once', async () => {
  const transport = new FakeTransport();
  const refused = { status: { code: StatusCode.FORBIDDEN, message: 'no' }, messages: [] };
  transport.receiveAnswers.push(refused, refused);
  const logger = new RecordingLogger();
  await start(transport, { logger, receiveConcurrency: 1 });
  await waitFor(() => transport.receives.length >= 3, 'three receives', 5_000);
  expect(transport.receiveTimes[1]! - transport.receiveTimes[0]!).toBeGreaterThanOrEqual(950);
  expect(logger.problems().filter((p) => p.includes('status 40300'))).toHaveLength(1);
});

test('empty answers that come back at once (no long poll) are spaced out instead of spinning', async () => {
  const transport = new FakeTransport();
  for (let i = 0; i < 1_000; i++)
    transport.receiveAnswers.push({ status: { code: StatusCode.MESSAGE_NOT_FOUND }, messages: [] });
  await start(transport, { receiveConcurrency: 1 });
  await delay(600);
  expect(transport.receives.length).toBeLessThan(15);
});

test('a corrupted message never reaches the handler: nacked in a standard group', async () => {
  const transport = new FakeTransport();
  transport.receiveAnswers.push({ status: OK_STATUS, messages: [deliveredMessage({ digest: 'BAD' })] });
  let handled = 0;
  const logger = new RecordingLogger();
  const consumer = await start(transport, { logger, handler: () => void handled++ });
  await waitFor(() => transport.changes.length === 1, 'the nack');
  expect(handled).toBe(0);
  expect(consumer.stats().corrupted).toBe(1);
  expect(logger.problems().join('\n')).toMatch(/is corrupted \(body digest mismatch/);
});

test('a corrupted message of a FIFO group goes to the dead-letter queue', async () => {
  const transport = new FakeTransport();
  transport.settings = {
    fifo: true,
    receiveBatchSize: 32,
    longPollingTimeoutMs: 1_000,
    retryPolicy: { max_attempts: 7 },
  };
  transport.receiveAnswers.push({
    status: OK_STATUS,
    messages: [deliveredMessage({ digest: 'BAD', group: 'x' })],
  });
  await start(transport);
  await waitFor(() => transport.forwards.length === 1, 'the forward');
  expect(transport.forwards[0]).toMatchObject({
    group: { name: 'g' },
    delivery_attempt: 1,
    max_delivery_attempts: 7,
  });
  expect(transport.changes).toHaveLength(0);
});

test("a handler answer the consumer does not understand is a failure: nacked with the group's backoff", async () => {
  const transport = new FakeTransport();
  transport.settings = {
    fifo: false,
    receiveBatchSize: 32,
    longPollingTimeoutMs: 1_000,
    retryPolicy: {
      max_attempts: 5,
      customized_backoff: { next: [{ seconds: 2 }, { seconds: 9 }] },
      strategy: 'customized_backoff',
    },
  };
  transport.receiveAnswers.push({ status: OK_STATUS, messages: [deliveredMessage({ attempt: 2 })] });
  const logger = new RecordingLogger();
  // A JavaScript caller can answer anything; the types forbid it.
  await start(transport, { logger, handler: (() => 'done!') as unknown as MessageHandler });
  await waitFor(() => transport.changes.length === 1, 'the nack');
  expect(millisOfDuration(transport.changes[0]!.invisible_duration)).toBe(9_000); // attempt 2's step
  expect(logger.problems().join('\n')).toMatch(/answered "done!"/);
});

test('the handlers run with the message; close() ends the session once', async () => {
  const transport = new FakeTransport();
  transport.receiveAnswers.push({
    status: OK_STATUS,
    messages: [deliveredMessage({ body: 'x' }), deliveredMessage({ body: 'y' })],
  });
  const bodies: string[] = [];
  const consumer = await start(transport, { handler: (m) => void bodies.push(m.body.toString()) });
  await waitFor(() => transport.acks.length === 1, 'the ack');
  expect(bodies).toEqual(['x', 'y']);
  expect(transport.acks[0]!.entries).toHaveLength(2);
  await consumer.close();
  expect(transport.sessionsClosed).toBe(1);
  await consumer.close(); // idempotent
  expect(transport.sessionsClosed).toBe(1);
});

test('bad options are refused with typed errors before anything is sent', async () => {
  const transport = new FakeTransport();
  const base = { transport, group: 'g', subscriptions: [{ topic: 'topic' }], handler: () => undefined };
  await expect(Consumer.start({ ...base, group: 'bad group!' })).rejects.toMatchObject({ code: 40003 });
  await expect(Consumer.start({ ...base, subscriptions: [{ topic: 'a/b' }] })).rejects.toMatchObject({
    code: 40002,
  });
  await expect(Consumer.start({ ...base, invisibleDurationMs: 1_000 })).rejects.toMatchObject({
    code: 40011,
  });
  await expect(Consumer.start({ ...base, subscriptions: [] })).rejects.toThrow(RangeError);
  await expect(Consumer.start({ ...base, maxInFlight: 0 })).rejects.toThrow(RangeError);
  await expect(Consumer.start({ ...base, retryBackoff: [] })).rejects.toThrow(RangeError);
  await expect(Consumer.start({ ...base, subscriptions: [{ topic: 't' }, { topic: 't' }] })).rejects.toThrow(
    /subscribed twice/,
  );
  expect(transport.receives).toHaveLength(0);
});

test('a start whose assignment query fails leaves nothing running', async () => {
  const transport = new FakeTransport();
  transport.queryAssignments = () =>
    Promise.reject(Object.assign(new Error('topic not found'), { code: 40402 }));
  await expect(
    Consumer.start({ transport, group: 'g', subscriptions: [{ topic: 'topic' }], handler: () => undefined }),
  ).rejects.toMatchObject({
    code: 40402,
  });
  expect(transport.sessionsClosed).toBe(1);
  expect(transport.receives).toHaveLength(0);
});

test('by default a standard group keeps four receives in flight per queue, a FIFO group one', async () => {
  const standard = new FakeTransport();
  await start(standard);
  await waitFor(() => standard.receives.length >= DEFAULT_RECEIVE_CONCURRENCY, 'the default receives');
  await delay(50);
  expect(standard.receives).toHaveLength(DEFAULT_RECEIVE_CONCURRENCY);

  const fifo = new FakeTransport();
  fifo.settings = { ...fifo.settings, fifo: true };
  await start(fifo);
  await waitFor(() => fifo.receives.length >= 1, 'a receive');
  await delay(50);
  expect(fifo.receives).toHaveLength(1);
});

test('receiveConcurrency keeps that many receives in flight on a queue', async () => {
  const transport = new FakeTransport();
  await start(transport, { receiveConcurrency: 3 });
  await waitFor(() => transport.receives.length >= 3, 'three receives');
  await delay(50);
  expect(transport.receives).toHaveLength(3); // all long-polling at once, none finished
  expect(new Set(transport.receives.map((r) => r.attempt_id)).size).toBe(3);
});

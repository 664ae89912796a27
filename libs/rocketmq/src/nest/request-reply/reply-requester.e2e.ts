/**
 * Request-reply on a real built-in broker: ReplyRequester on one side, a plain consumer answering
 * with ReplyResponder on the other (the transport's @MessagePattern path is proved in
 * rocketmq-server.e2e.ts).
 */
import { type LoggerService } from '@nestjs/common';
import {
  ClientClosedError,
  Consumer,
  Producer,
  RpcClient,
  silentLogger,
  type ReceivedMessageView,
} from '../../client/index.js';
import { startBroker, type BrokerFixture } from '../../client/testing/broker-fixture.js';
import { delay, waitFor } from '../../client/consumer/testing/consumer-testing.js';
import { JsonPayloadCodec } from '../serialization/payload-codec.js';
import { RemoteHandlerError, ReplyTimeoutError } from './reply-errors.js';
import { replyAddressOf } from './reply-envelope.js';
import { CORRELATION_ID_PROPERTY, DEFAULT_REPLY_TOPIC } from './reply-properties.js';
import { ReplyRequester } from './reply-requester.js';
import { ReplyResponder, outcomeOf } from './reply-responder.js';

const codec = new JsonPayloadCodec();
let fixture: BrokerFixture;
const toClose: Array<{ close(): Promise<void> }> = [];

class LinesLogger implements LoggerService {
  readonly lines: string[] = [];
  log(m: string): void {
    this.lines.push(`log: ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error: ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn: ${m}`);
  }
  debug(m: string): void {
    this.lines.push(`debug: ${m}`);
  }
}

beforeAll(async () => {
  fixture = await startBroker();
});

afterEach(async () => {
  for (const c of toClose.splice(0).reverse()) await c.close();
});

afterAll(async () => {
  await fixture.close();
  expect(fixture.problems).toEqual([]);
});

async function producer(): Promise<Producer> {
  const p = await Producer.start({ endpoints: fixture.endpoint, logger: silentLogger });
  toClose.push(p);
  return p;
}

async function requester(logger: LoggerService = new LinesLogger()): Promise<ReplyRequester> {
  const client = await RpcClient.connect({ endpoints: fixture.endpoint, logger: silentLogger });
  toClose.push(client);
  const r = await ReplyRequester.start({ client, producer: await producer(), codec, logger });
  toClose.push(r);
  return r;
}

/** A service answering `topic` requests with `answer(payload, message)`. */
async function responder(
  topic: string,
  answer: (payload: unknown, message: ReceivedMessageView) => unknown,
  now?: () => number,
): Promise<Consumer> {
  const replies = new ReplyResponder({ producer: await producer(), codec, ...(now ? { now } : {}) });
  const consumer = await Consumer.start({
    client: { endpoints: fixture.endpoint, logger: silentLogger },
    group: `${topic}-service`,
    subscriptions: [{ topic }],
    handler: async (message) => {
      const address = replyAddressOf(message);
      if (!address) throw new Error('not a request');
      await replies.respond(address, await outcomeOf(answer(codec.deserialize(message), message)));
    },
  });
  toClose.push(consumer);
  return consumer;
}

it('a request resolves with the value its handler answered; concurrent requests each get their own', async () => {
  await responder('rr-double', (payload) => ({ doubled: (payload as { n: number }).n * 2 }));
  const r = await requester();
  const answers = await Promise.all(
    Array.from({ length: 20 }, (_, n) =>
      r.request<{ doubled: number }>({ topic: 'rr-double', payload: { n } }, { timeoutMs: 20_000 }),
    ),
  );
  expect(answers.map((a) => a.doubled)).toEqual(Array.from({ length: 20 }, (_, n) => n * 2));
  expect(r.pendingCount).toBe(0);
});

it('the handler sees the tag, keys and user properties of the request', async () => {
  const seen: ReceivedMessageView[] = [];
  await responder('rr-meta', (_payload, message) => {
    seen.push(message);
    return 'ok';
  });
  const r = await requester();
  await expect(
    r.request(
      { topic: 'rr-meta', tag: 'quote', keys: ['order-1'], payload: 'x', properties: { tenant: 'acme' } },
      { timeoutMs: 20_000 },
    ),
  ).resolves.toBe('ok');
  expect(seen[0]).toMatchObject({ tag: 'quote', keys: ['order-1'] });
  expect(seen[0]!.properties['tenant']).toBe('acme');
});

it('a handler that fails answers a RemoteHandlerError with its message, name and status', async () => {
  await responder('rr-fail', () =>
    Promise.reject(Object.assign(new RangeError('out of stock'), { status: 409 })),
  );
  const r = await requester();
  const error = await r
    .request({ topic: 'rr-fail', payload: 1 }, { timeoutMs: 20_000 })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RemoteHandlerError);
  expect(error).toMatchObject({ message: 'out of stock', remoteName: 'RangeError', remoteStatus: 409 });
});

it('no answer within the timeout rejects with ReplyTimeoutError; the late reply is acked and dropped', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  // This responder ignores deadlines (its clock stands still) so that a late reply is really sent.
  await responder(
    'rr-late',
    async () => {
      await gate;
      return 'too late';
    },
    () => 0,
  );
  const logger = new LinesLogger();
  const r = await requester(logger);
  const error = await r
    .request({ topic: 'rr-late', payload: 1 }, { timeoutMs: 1_000 })
    .catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ReplyTimeoutError);
  expect(error).toMatchObject({ code: 40800, destination: 'rr-late', timeoutMs: 1_000 });
  release();
  await waitFor(
    () => logger.lines.some((l) => l.startsWith('debug: dropped reply')),
    'the late reply dropped',
    20_000,
  );
  await waitFor(() => fixture.broker.core.inFlightCount(r.replyGroup) === 0, 'the late reply acked');
  await delay(500);
  expect(fixture.broker.core.inFlightCount(r.replyGroup)).toBe(0); // not redelivered
  expect(logger.lines.filter((l) => l.startsWith('debug: dropped reply'))).toHaveLength(1);
});

it('a responder does not answer a request whose deadline passed', async () => {
  const sent: string[] = [];
  const replies = new ReplyResponder({ producer: await producer(), codec, now: () => Date.now() + 60_000 });
  await Consumer.start({
    client: { endpoints: fixture.endpoint, logger: silentLogger },
    group: 'rr-expired-service',
    subscriptions: [{ topic: 'rr-expired' }],
    handler: async (message) => {
      const result = await replies.respond(replyAddressOf(message)!, { ok: true, value: 1 });
      sent.push(result.status);
    },
  }).then((c) => toClose.push(c));
  const r = await requester();
  await expect(r.request({ topic: 'rr-expired', payload: 1 }, { timeoutMs: 1_500 })).rejects.toBeInstanceOf(
    ReplyTimeoutError,
  );
  await waitFor(() => sent.length === 1, 'the responder saw the request');
  expect(sent).toEqual(['expired']);
});

it('two requesters on one reply topic each receive only their own replies', async () => {
  await responder('rr-two', (payload) => payload);
  const [logA, logB] = [new LinesLogger(), new LinesLogger()];
  const [a, b] = [await requester(logA), await requester(logB)];
  expect(a.requesterId).not.toBe(b.requesterId);
  expect(a.replyGroup).not.toBe(b.replyGroup);
  const results = await Promise.all([
    ...Array.from({ length: 10 }, (_, i) =>
      a.request({ topic: 'rr-two', payload: `a${i}` }, { timeoutMs: 20_000 }),
    ),
    ...Array.from({ length: 10 }, (_, i) =>
      b.request({ topic: 'rr-two', payload: `b${i}` }, { timeoutMs: 20_000 }),
    ),
  ]);
  expect(results).toEqual([
    ...Array.from({ length: 10 }, (_, i) => `a${i}`),
    ...Array.from({ length: 10 }, (_, i) => `b${i}`),
  ]);
  await delay(300);
  // Had a requester's filter let the other's replies through, it would have dropped them, saying so.
  expect([...logA.lines, ...logB.lines].filter((l) => l.includes('dropped reply'))).toEqual([]);
  expect(fixture.broker.core.lag(a.replyGroup, DEFAULT_REPLY_TOPIC).total).toBe(0);
});

it('close fails the requests still waiting with ClientClosedError, and refuses new ones', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  await responder('rr-close', () => gate); // answers only once the requester is gone
  const r = await requester();
  const waiting = r
    .request({ topic: 'rr-close', payload: 1 }, { timeoutMs: 60_000 })
    .catch((e: unknown) => e);
  await waitFor(
    () => fixture.broker.core.inFlightCount('rr-close-service') === 1,
    'the request being handled',
  );
  await r.close();
  expect(await waiting).toBeInstanceOf(ClientClosedError);
  expect(r.pendingCount).toBe(0);
  await expect(r.request({ topic: 'rr-close', payload: 1 }, { timeoutMs: 1_000 })).rejects.toBeInstanceOf(
    ClientClosedError,
  );
  release();
});

it('a request that cannot be sent rejects with the send error at once, nothing left waiting', async () => {
  const r = await requester();
  const error = await r
    .request({ topic: 'rr-bad', tag: 'a|b', payload: 1 }, { timeoutMs: 60_000 })
    .catch((e: unknown) => e);
  expect(error).toMatchObject({ code: 40004 }); // ILLEGAL_MESSAGE_TAG
  expect(r.pendingCount).toBe(0);
});

it('replies go to the default reply topic with the correlation id; the reply topic is created on the built-in broker', async () => {
  await responder('rr-topic', () => 'x');
  const r = await requester();
  expect(r.replyTopic).toBe(DEFAULT_REPLY_TOPIC);
  await r.request({ topic: 'rr-topic', payload: 1 }, { timeoutMs: 20_000 });
  expect(fixture.broker.core.getTopic(DEFAULT_REPLY_TOPIC)).toBeDefined();
  expect(CORRELATION_ID_PROPERTY).toBe('RN_CORRELATION_ID');
});

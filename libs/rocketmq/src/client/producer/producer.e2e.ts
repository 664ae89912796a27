import { MESSAGE_GROUP_PROPERTY } from '@rocketnest/broker/core/consume/names.js';
import { type ReceivedMessage } from '@rocketnest/broker/core/consume/types.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import {
  BadRequestError,
  ClientClosedError,
  NotFoundError,
  RocketMQClientError,
  UnauthorizedError,
} from '../errors.js';
import {
  receiveFromBroker,
  startBroker,
  MemoryLogger,
  type BrokerFixture,
} from '../testing/broker-fixture.js';
import { silentLogger } from '../logger.js';
import { callCounter } from '../testing/call-counter.js';
import { unusedPort } from '../testing/silent-server.js';
import { decodeMessageId } from './message-id.js';
import { Producer } from './producer.js';
import { type ProducerOptions } from './producer-options.js';
import { type SendReceipt } from './producer-types.js';

let groupSeq = 0;
const nextGroup = () => `it-group-${++groupSeq}`;

describe('Producer against the built-in broker', () => {
  let fx: BrokerFixture;
  const producers: Producer[] = [];
  const start = async (options: Partial<ProducerOptions> = {}) => {
    const producer = await Producer.start({ endpoints: fx.endpoint, logger: silentLogger, ...options });
    producers.push(producer);
    return producer;
  };
  const receive = (topic: string, count: number, timeoutMs?: number): Promise<ReceivedMessage[]> =>
    receiveFromBroker(fx.broker, { group: nextGroup(), topic }, count, timeoutMs);

  beforeAll(async () => {
    fx = await startBroker({
      core: { transaction: { firstCheckMs: 300, checkIntervalMs: 300 } },
    });
    fx.broker.core.createTopic('normal-only', { messageTypes: ['NORMAL'] });
  });
  afterAll(async () => {
    await Promise.all(producers.map((p) => p.close()));
    await fx.close();
    expect(fx.problems).toEqual([]);
  });

  describe('send', () => {
    it('stores the body bytes, tag, keys, properties and a message id in the official format', async () => {
      const producer = await start();
      const body = Buffer.from([0, 1, 2, 250, 251, 255]);
      const receipt = await producer.send({
        topic: 'p-content',
        body,
        tag: 'created',
        keys: ['order-1', 'customer-7'],
        properties: { region: 'eu', 'trace-id': 'abc' },
      });
      expect(receipt.messageId).toMatch(/^01[0-9A-F]{32}$/);
      expect(decodeMessageId(receipt.messageId).pid).toBe(process.pid & 0xffff);
      expect(receipt.topic).toBe('p-content');
      expect(receipt.offset).toBe(0);
      const [got] = await receive('p-content', 1);
      expect(got!.message.messageId).toBe(receipt.messageId);
      expect(Buffer.compare(got!.message.body, body)).toBe(0);
      expect(got!.message.tag).toBe('created');
      expect(got!.message.keys).toEqual(['order-1', 'customer-7']);
      expect(got!.message.userProperties).toEqual({ region: 'eu', 'trace-id': 'abc' });
    });

    it('sends a string body as UTF-8, a single key as a list, and keeps a given message id', async () => {
      const producer = await start();
      const receipt = await producer.send({
        topic: 'p-string',
        body: 'grüße 👋',
        keys: 'only-key',
        messageId: 'MY-OWN-ID-1',
      });
      expect(receipt.messageId).toBe('MY-OWN-ID-1');
      const [got] = await receive('p-string', 1);
      expect(got!.message.body.toString('utf8')).toBe('grüße 👋');
      expect(got!.message.keys).toEqual(['only-key']);
      expect(got!.message.messageId).toBe('MY-OWN-ID-1');
    });

    it('calls back sendAsync with the receipt, and with a typed error', async () => {
      const producer = await start();
      const receipt = await new Promise<SendReceipt | undefined>((resolve, reject) =>
        producer.sendAsync({ topic: 'p-async', body: 'x' }, (err, r) => (err ? reject(err) : resolve(r))),
      );
      expect(receipt?.messageId).toMatch(/^01/);
      const err = await new Promise<RocketMQClientError | null>((resolve) =>
        producer.sendAsync({ topic: 'p-async', body: '' }, (e) => resolve(e)),
      );
      expect(err).toBeInstanceOf(BadRequestError);
      expect(err?.code).toBe(StatusCode.MESSAGE_BODY_EMPTY);
    });

    it('sends one-way messages without waiting, and logs and counts a one-way failure', async () => {
      const logger = new MemoryLogger();
      const producer = await start({ logger });
      producer.sendOneWay({ topic: 'p-oneway', body: 'fire' });
      const [got] = await receive('p-oneway', 1);
      expect(got!.message.body.toString()).toBe('fire');
      // A topic that only takes NORMAL messages refuses a FIFO one: client-side, after the route.
      producer.sendOneWay({ topic: 'normal-only', body: 'x', messageGroup: 'g' });
      await waitFor(() => producer.stats.oneWayFailed === 1);
      expect(logger.at('warn').join('\n')).toMatch(/was not sent.*40014|conflict/i);
    });
  });

  describe('batching', () => {
    it('coalesces 300 concurrent sends into a few SendMessage calls, each caller getting its own receipt', async () => {
      const counter = callCounter();
      const producer = await start({ interceptors: [counter.interceptor], topics: ['p-batch'] });
      const n = 300;
      const receipts = await Promise.all(
        Array.from({ length: n }, (_, i) =>
          producer.send({ topic: 'p-batch', body: `m-${i}`, keys: [`k-${i}`] }),
        ),
      );
      const calls = counter.count('SendMessage');
      expect(calls).toBeLessThanOrEqual(5);
      expect(producer.stats.sendCalls).toBe(calls);
      expect(new Set(receipts.map((r) => r.messageId)).size).toBe(n);
      const got = await receive('p-batch', n);
      expect(got).toHaveLength(n);
      const byId = new Map(got.map((m) => [m.message.messageId, m.message]));
      receipts.forEach((r, i) => {
        expect(byId.get(r.messageId)?.body.toString()).toBe(`m-${i}`);
        expect(byId.get(r.messageId)?.keys).toEqual([`k-${i}`]);
      });
    });

    it('sends an idle producer’s message at once, one call per sequential send', async () => {
      const counter = callCounter();
      const producer = await start({ interceptors: [counter.interceptor], topics: ['p-idle'] });
      await producer.send({ topic: 'p-idle', body: 'warm-up' });
      const before = counter.count('SendMessage');
      for (let i = 0; i < 5; i++) {
        const sent = producer.send({ topic: 'p-idle', body: `s-${i}` });
        // No waiting for company: the call is under way before the event loop's next turn.
        await new Promise((resolve) => setImmediate(resolve));
        expect(counter.count('SendMessage') - before).toBe(i + 1);
        await sent;
      }
    });

    it('bounds a batch by maxMessages and maxBytes', async () => {
      const counter = callCounter();
      const producer = await start({
        interceptors: [counter.interceptor],
        topics: ['p-bounds'],
        batching: { maxMessages: 10, maxBytes: 64 * 1024, maxInFlight: 1 },
      });
      const small = await Promise.all(
        Array.from({ length: 40 }, () => producer.send({ topic: 'p-bounds', body: 's' })),
      );
      expect(small).toHaveLength(40);
      // 40 messages, 10 per call: at least 4 calls.
      expect(counter.count('SendMessage')).toBeGreaterThanOrEqual(4);
      const before = counter.count('SendMessage');
      const big = Buffer.alloc(20 * 1024, 7);
      await Promise.all(Array.from({ length: 8 }, () => producer.send({ topic: 'p-bounds', body: big })));
      // 20 KiB each, 64 KiB per call: 3 per call at most, so at least 3 calls for 8.
      expect(counter.count('SendMessage') - before).toBeGreaterThanOrEqual(3);
    });

    it('rotates the queue of successive batches over every writable queue', async () => {
      fx.broker.core.createTopic('p-spread', { queueCount: 4 });
      const producer = await start({ topics: ['p-spread'] });
      const queues = new Set<number>();
      for (let i = 0; i < 8; i++)
        queues.add((await producer.send({ topic: 'p-spread', body: `${i}` })).queueId);
      expect([...queues].sort()).toEqual([0, 1, 2, 3]);
      const got = await receive('p-spread', 8);
      expect(new Set(got.map((m) => m.queue.queueId)).size).toBeGreaterThan(1);
    });
  });

  describe('FIFO', () => {
    it('stores each message group in one queue, in send order', async () => {
      fx.broker.core.createTopic('p-fifo', { queueCount: 8 });
      const producer = await start({ topics: ['p-fifo'] });
      const groups = ['alpha', 'beta', 'gamma', 'delta'];
      await Promise.all(
        groups.flatMap((g) =>
          Array.from({ length: 25 }, (_, i) =>
            producer.send({ topic: 'p-fifo', body: `${g}-${i}`, messageGroup: g }),
          ),
        ),
      );
      const got = await receive('p-fifo', 100);
      expect(got).toHaveLength(100);
      for (const g of groups) {
        const mine = got
          .filter((m) => m.message.systemProperties[MESSAGE_GROUP_PROPERTY] === g)
          .sort((a, b) => a.queue.queueOffset - b.queue.queueOffset);
        expect(new Set(mine.map((m) => m.queue.queueId)).size).toBe(1);
        expect(mine.map((m) => m.message.body.toString())).toEqual(
          Array.from({ length: 25 }, (_, i) => `${g}-${i}`),
        );
      }
    });

    it('batches a group’s consecutive messages with fifo: true, still in one queue and in order', async () => {
      fx.broker.core.createTopic('p-fifo-batch', { queueCount: 8 });
      const counter = callCounter();
      const producer = await start({
        topics: ['p-fifo-batch'],
        interceptors: [counter.interceptor],
        batching: { fifo: true },
      });
      const groups = ['g1', 'g2', 'g3'];
      await Promise.all(
        groups.flatMap((g) =>
          Array.from({ length: 40 }, (_, i) =>
            producer.send({ topic: 'p-fifo-batch', body: `${g}-${i}`, messageGroup: g }),
          ),
        ),
      );
      expect(counter.count('SendMessage')).toBeLessThanOrEqual(12);
      const got = await receive('p-fifo-batch', 120);
      for (const g of groups) {
        const mine = got
          .filter((m) => m.message.systemProperties[MESSAGE_GROUP_PROPERTY] === g)
          .sort((a, b) => a.queue.queueOffset - b.queue.queueOffset);
        expect(new Set(mine.map((m) => m.queue.queueId)).size).toBe(1);
        expect(mine.map((m) => m.message.body.toString())).toEqual(
          Array.from({ length: 40 }, (_, i) => `${g}-${i}`),
        );
      }
    });

    it('maps a hash key to a message group (the key itself when it is a legal group, else a hash)', async () => {
      const producer = await start();
      await producer.send({ topic: 'p-hashkey', body: 'a', hashKey: 'customer-42' });
      await producer.send({ topic: 'p-hashkey', body: 'b', hashKey: 'x'.repeat(100) });
      const got = await receive('p-hashkey', 2);
      const groupOf = new Map(
        got.map((m) => [m.message.body.toString(), m.message.systemProperties[MESSAGE_GROUP_PROPERTY]]),
      );
      expect(groupOf.get('a')).toBe('customer-42');
      expect(groupOf.get('b')).toMatch(/^hk-[0-9a-f]{32}$/);
    });
  });

  describe('delay', () => {
    it('holds a message back by delayMs, by delay level and until deliverAt', async () => {
      const producer = await start();
      const sentAt = Date.now();
      await producer.send({ topic: 'p-delay', body: 'ms', delayMs: 1_200 });
      await producer.send({ topic: 'p-delay', body: 'level', delayLevel: 1 });
      await producer.send({ topic: 'p-delay', body: 'at', deliverAt: new Date(sentAt + 1_500) });
      const group = nextGroup();
      expect(fx.broker.core.receive({ group, topic: 'p-delay', invisibleMs: 60_000 })).toEqual([]);
      const got = await receiveFromBroker(fx.broker, { group, topic: 'p-delay' }, 3, 6_000);
      const elapsed = Date.now() - sentAt;
      expect(got.map((m) => m.message.body.toString()).sort()).toEqual(['at', 'level', 'ms']);
      expect(elapsed).toBeGreaterThanOrEqual(1_000);
    });
  });

  describe('transactions', () => {
    it('commits: the half message becomes visible after the local function says COMMIT', async () => {
      const producer = await start();
      let seen: SendReceipt | undefined;
      const result = await producer.sendInTransaction(
        { topic: 'p-tx', body: 'paid', tag: 'commit' },
        (receipt) => {
          seen = receipt;
          return 'COMMIT';
        },
      );
      expect(result.resolution).toBe('COMMIT');
      expect(result.receipt.transactionId).toBeTruthy();
      expect(seen?.messageId).toBe(result.receipt.messageId);
      const [got] = await receive('p-tx', 1);
      expect(got!.message.messageId).toBe(result.receipt.messageId);
      expect(got!.message.body.toString()).toBe('paid');
    });

    it('rolls back: the half message is never delivered', async () => {
      const producer = await start();
      await producer.sendInTransaction(
        { topic: 'p-tx-rollback', body: 'no' },
        async () => 'ROLLBACK' as const,
      );
      expect(await receive('p-tx-rollback', 1, 1_000)).toEqual([]);
    });

    it('leaves UNKNOWN to the checker, which commits on the server’s check-back', async () => {
      const checked: string[] = [];
      const producer = await start({
        checker: (message) => {
          checked.push(`${message.topic}:${message.body.toString()}:${message.messageId}`);
          return 'COMMIT';
        },
      });
      const result = await producer.sendInTransaction(
        { topic: 'p-tx-check', body: 'later' },
        () => 'UNKNOWN',
      );
      expect(result.resolution).toBe('UNKNOWN');
      const [got] = await receive('p-tx-check', 1, 8_000);
      expect(got!.message.messageId).toBe(result.receipt.messageId);
      expect(checked).toEqual([`p-tx-check:later:${result.receipt.messageId}`]);
    });

    it('treats a local function that throws as UNKNOWN and rethrows its error', async () => {
      const producer = await start({ checker: () => 'ROLLBACK' });
      await expect(
        producer.sendInTransaction({ topic: 'p-tx-throw', body: 'x' }, () => {
          throw new Error('db down');
        }),
      ).rejects.toThrow('db down');
      expect(await receive('p-tx-throw', 1, 1_500)).toEqual([]);
    });
  });

  describe('validation (nothing leaves the process)', () => {
    const cases: Array<[string, Record<string, unknown>, number]> = [
      ['an illegal topic', { topic: 'bad topic' }, StatusCode.ILLEGAL_TOPIC],
      ['a system topic', { topic: 'RMQ_SYS_TRANS_HALF_TOPIC' }, StatusCode.ILLEGAL_TOPIC],
      ['an empty body', { body: '' }, StatusCode.MESSAGE_BODY_EMPTY],
      ['a tag with |', { tag: 'a|b' }, StatusCode.ILLEGAL_MESSAGE_TAG],
      ['a blank key', { keys: ['  '] }, StatusCode.ILLEGAL_MESSAGE_KEY],
      ['a reserved property', { properties: { UNIQ_KEY: 'x' } }, StatusCode.ILLEGAL_MESSAGE_PROPERTY_KEY],
      ['a group of 64 bytes', { messageGroup: 'g'.repeat(64) }, StatusCode.ILLEGAL_MESSAGE_GROUP],
      ['a delay over 24 h', { delayMs: 25 * 3_600_000 }, StatusCode.ILLEGAL_DELIVERY_TIME],
      ['delay level 19', { delayLevel: 19 }, StatusCode.ILLEGAL_DELIVERY_TIME],
      [
        'a delayed FIFO message',
        { delayMs: 1_000, messageGroup: 'g' },
        StatusCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      ],
      ['129 properties', { properties: manyProperties(129) }, StatusCode.MESSAGE_PROPERTIES_TOO_LARGE],
      [
        'a body over the advertised limit',
        { body: Buffer.alloc(4 * 1024 * 1024) },
        StatusCode.MESSAGE_BODY_TOO_LARGE,
      ],
    ];

    it.each(cases)('refuses %s with its status code before any call', async (_name, fields, code) => {
      const counter = callCounter();
      const producer = await start({ interceptors: [counter.interceptor] });
      const err = await producer
        .send({ topic: 'p-valid', body: 'ok', ...fields } as Parameters<Producer['send']>[0])
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RocketMQClientError);
      expect((err as RocketMQClientError).code).toBe(code);
      expect((err as RocketMQClientError).retryable).toBe(false);
      expect(counter.count('SendMessage')).toBe(0);
      expect(() =>
        producer.sendOneWay({ topic: 'p-valid', body: 'ok', ...fields } as Parameters<Producer['send']>[0]),
      ).toThrow(RocketMQClientError);
    });

    it('refuses a message type the topic does not accept (40014), after reading its route', async () => {
      const counter = callCounter();
      const producer = await start({ interceptors: [counter.interceptor] });
      const err = await producer
        .send({ topic: 'normal-only', body: 'x', delayMs: 10 })
        .catch((e: unknown) => e);
      expect((err as RocketMQClientError).code).toBe(StatusCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE);
      expect(counter.count('SendMessage')).toBe(0);
    });
  });

  describe('lifecycle', () => {
    it('lets sends under way finish on close, then refuses new ones', async () => {
      const producer = await Producer.start({ endpoints: fx.endpoint, logger: silentLogger });
      const pending = Array.from({ length: 50 }, (_, i) => producer.send({ topic: 'p-close', body: `${i}` }));
      await producer.close();
      const receipts = await Promise.all(pending);
      expect(receipts).toHaveLength(50);
      await expect(producer.send({ topic: 'p-close', body: 'late' })).rejects.toBeInstanceOf(
        ClientClosedError,
      );
      expect(() => producer.sendOneWay({ topic: 'p-close', body: 'late' })).toThrow(ClientClosedError);
    });

    it('starts through the second access-point endpoint when the first is down', async () => {
      const port = await unusedPort();
      const producer = await start({
        endpoints: `127.0.0.1:${port},${fx.endpoint}`,
        startupTimeoutMs: 3_000,
      });
      const receipt = await producer.send({ topic: 'p-failover', body: 'via second' });
      const [got] = await receive('p-failover', 1);
      expect(got!.message.messageId).toBe(receipt.messageId);
    });

    it('fails start with the server’s 40402 when topics are not auto-created', async () => {
      const strict = await startBroker({ core: { autoCreateTopics: false } });
      try {
        const err = await Producer.start({
          endpoints: strict.endpoint,
          logger: silentLogger,
          topics: ['nope'],
        }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(NotFoundError);
        expect((err as NotFoundError).code).toBe(StatusCode.TOPIC_NOT_FOUND);
      } finally {
        await strict.close();
      }
    });
  });
});

describe('Producer against a broker with authentication on', () => {
  let fx: BrokerFixture;
  beforeAll(async () => {
    fx = await startBroker({
      auth: { users: [{ accessKey: 'svc', secretKey: 'svc-secret', topics: ['allowed-*'] }] },
    });
  });
  afterAll(() => fx.close());

  it('signs every call: start, send and close succeed with the right secret', async () => {
    const producer = await Producer.start({
      endpoints: fx.endpoint,
      logger: silentLogger,
      credentials: { accessKey: 'svc', secretKey: 'svc-secret' },
    });
    const receipt = await producer.send({ topic: 'allowed-orders', body: 'signed' });
    const [got] = await receiveFromBroker(fx.broker, { group: 'auth-g', topic: 'allowed-orders' }, 1);
    expect(got!.message.messageId).toBe(receipt.messageId);
    const refused = await producer.send({ topic: 'other-topic', body: 'x' }).catch((e: unknown) => e);
    expect((refused as RocketMQClientError).code).toBe(StatusCode.TOPIC_NOT_FOUND);
    await producer.close();
  });

  it('rejects start with a typed 40100 for a wrong secret', async () => {
    const started = Date.now();
    const err = await Producer.start({
      endpoints: fx.endpoint,
      logger: silentLogger,
      credentials: { accessKey: 'svc', secretKey: 'wrong' },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect((err as UnauthorizedError).code).toBe(StatusCode.UNAUTHORIZED);
    expect(Date.now() - started).toBeLessThan(3_000);
  });
});

function manyProperties(n: number): Record<string, string> {
  return Object.fromEntries(Array.from({ length: n }, (_, i) => [`p${i}`, 'v']));
}

async function waitFor(predicate: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

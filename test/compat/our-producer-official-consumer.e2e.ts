/**
 * Interop (issue 5): messages sent by OUR Producer reach the OFFICIAL `rocketmq-client-nodejs`
 * SimpleConsumer (in a child process, through the compat scenarios) through the built-in broker
 * exactly as sent: message ids, tags, keys, unicode user properties, binary bodies, and the order
 * of a FIFO message group.
 */
import { randomBytes } from 'node:crypto';
import { type Broker } from '../../libs/broker/src/broker.js';
import {
  Producer,
  silentLogger,
  type ProducerMessage,
  type SendReceipt,
} from '../../libs/rocketmq/src/index.js';
import { contentOf, expectedContent, setUpCompatWorkspace, uniqueName } from './compat-harness.js';
import {
  type MessageSpec,
  type ObservedMessage,
  type SimpleReceiveInput,
  type SimpleReceiveResult,
} from './scenarios/scenario-types.js';

const workspace = setUpCompatWorkspace();
let broker: Broker;
let producer: Producer;

beforeAll(async () => {
  broker = await workspace.startBroker();
  producer = await Producer.start({ endpoints: broker.address.endpoint, logger: silentLogger });
});

afterAll(async () => {
  await producer.close();
});

/** Our producer's message for a spec (the same fields the official client's `messageOf` maps). */
function ourMessage(topic: string, spec: MessageSpec): ProducerMessage {
  return {
    topic,
    body: Buffer.from(spec.bodyBase64, 'base64'),
    ...(spec.tag === undefined ? {} : { tag: spec.tag }),
    ...(spec.keys === undefined ? {} : { keys: spec.keys }),
    ...(spec.properties === undefined ? {} : { properties: spec.properties }),
    ...(spec.messageGroup === undefined ? {} : { messageGroup: spec.messageGroup }),
  };
}

/** The official SimpleConsumer of `group` receives (and acks) `expectCount` messages of `topic`. */
function officialReceive(topic: string, group: string, expectCount: number): Promise<SimpleReceiveResult> {
  return workspace.runScenario<SimpleReceiveInput, SimpleReceiveResult>(
    'simple-receive',
    {
      connection: { endpoint: broker.address.endpoint },
      topic,
      group,
      expectCount,
      // Long enough to catch a duplicate or an extra message, short enough for the suite.
      settleMs: 1500,
      timeoutMs: 30_000,
      awaitDurationMs: 1000,
      batchSize: 8,
    },
    50_000,
  );
}

function byMessageId(received: readonly ObservedMessage[]): Map<string, ObservedMessage> {
  return new Map(received.map((m) => [m.messageId, m]));
}

test('what our Producer sends, the official SimpleConsumer receives identically (ids, tags, keys, unicode properties, binary bodies)', async () => {
  const topic = uniqueName('interop_out');
  const group = uniqueName('GID_interop_out');
  const everyByte = Buffer.from(Array.from({ length: 256 }, (_, b) => b));
  const specs: MessageSpec[] = Array.from({ length: 24 }, (_, i) => ({
    bodyBase64: (i === 0 ? everyByte : randomBytes(1 + i * 97)).toString('base64'),
    ...(i % 4 === 0 ? {} : { tag: `tag-${i % 4}` }),
    keys: i % 2 === 0 ? [`k-${i}`] : [`k-${i}`, `clé-${i}-日本`],
    properties: { index: String(i), 'unicode-é': 'ünïcødé ✓ 😀 中文', empty: '' },
  }));

  // Concurrent sends: our producer batches them (several messages per SendMessage call).
  const receipts: SendReceipt[] = await Promise.all(specs.map((s) => producer.send(ourMessage(topic, s))));
  expect(new Set(receipts.map((r) => r.messageId)).size).toBe(specs.length);

  const r = await officialReceive(topic, group, specs.length);

  expect(r.polls.filter((p) => p.error)).toEqual([]);
  expect(r.ackErrors).toEqual([]);
  expect(r.received).toHaveLength(specs.length); // no duplicate, no extra
  const seen = byMessageId(r.received);
  specs.forEach((spec, i) => {
    const m = seen.get(receipts[i]!.messageId);
    expect(m).toBeDefined();
    expect(contentOf(m!)).toEqual(expectedContent(spec));
    expect(m).toMatchObject({
      topic,
      messageGroup: null,
      deliveryAttempt: 1,
      corrupted: false,
      receiptHandlePresent: true,
    });
    expect(m!.bornTimestamp).toEqual(expect.any(Number));
  });
  expect(broker.core.lag(group, topic).total).toBe(0);
}, 60_000);

test("our Producer's FIFO messages reach the official SimpleConsumer of a FIFO group in send order, per message group", async () => {
  const topic = uniqueName('interop_out_fifo');
  const group = uniqueName('GID_interop_out_fifo');
  broker.core.createGroup(group, { fifo: true });
  const groups = ['alpha', 'beta', 'gamma'];
  const perGroup = 12;
  const specsOf = (g: string): MessageSpec[] =>
    Array.from({ length: perGroup }, (_, i) => ({
      bodyBase64: Buffer.from(`${g}:${i}`).toString('base64'),
      tag: 'fifo',
      keys: [`${g}-${i}`],
      properties: { seq: String(i) },
      messageGroup: g,
    }));

  // Groups concurrently; within a group one send after another (the order FIFO must keep).
  const sent = new Map<string, SendReceipt[]>();
  await Promise.all(
    groups.map(async (g) => {
      const receipts: SendReceipt[] = [];
      for (const spec of specsOf(g)) receipts.push(await producer.send(ourMessage(topic, spec)));
      sent.set(g, receipts);
    }),
  );

  const r = await officialReceive(topic, group, groups.length * perGroup);

  expect(r.polls.filter((p) => p.error)).toEqual([]);
  expect(r.ackErrors).toEqual([]);
  expect(r.received).toHaveLength(groups.length * perGroup);
  for (const g of groups) {
    const delivered = r.received.filter((m) => m.messageGroup === g);
    expect(delivered.map((m) => m.messageId)).toEqual(sent.get(g)!.map((s) => s.messageId));
    expect(delivered.map(contentOf)).toEqual(specsOf(g).map(expectedContent));
    expect(delivered.every((m) => m.deliveryAttempt === 1 && m.topic === topic)).toBe(true);
  }
  expect(broker.core.lag(group, topic).total).toBe(0);
}, 60_000);

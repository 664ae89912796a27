/**
 * Interop: messages sent by the official `rocketmq-client-nodejs` Producer (in a child process,
 * through the compat suite's scenarios) reach our consumer through the built-in broker exactly as
 * sent: message ids, tags, keys, user properties, binary bodies, and FIFO order per message group.
 */
import { randomBytes } from 'node:crypto';
import { setUpCompatWorkspace, uniqueName } from '../../../../../test/compat/compat-harness.js';
import {
  type MessageSpec,
  type SendInput,
  type SendResult,
} from '../../../../../test/compat/scenarios/scenario-types.js';
import { type Broker } from '@rocketnest/broker/broker.js';
import { silentLogger } from '../logger.js';
import { Consumer } from './consumer.js';
import { type ReceivedMessageView } from './received-message.js';
import { waitFor } from './testing/consumer-testing.js';

const workspace = setUpCompatWorkspace();
const consumers: Consumer[] = [];
let broker: Broker;

beforeAll(async () => {
  broker = await workspace.startBroker();
});

afterEach(async () => {
  await Promise.all(consumers.splice(0).map((c) => c.close()));
});

async function consume(endpoint: string, group: string, topic: string, sink: ReceivedMessageView[]) {
  const consumer = await Consumer.start({
    client: { endpoints: endpoint, logger: silentLogger },
    group,
    subscriptions: [{ topic }],
    handler: (m) => void sink.push(m),
  });
  consumers.push(consumer);
  return consumer;
}

test('what the official Producer sends, our consumer receives identically (ids, tags, keys, properties, binary bodies)', async () => {
  const topic = uniqueName('interop_in');
  const specs: MessageSpec[] = Array.from({ length: 20 }, (_, i) => ({
    bodyBase64: randomBytes(64 + i * 37).toString('base64'),
    ...(i % 3 === 0 ? {} : { tag: `tag-${i % 3}` }),
    keys: i % 2 === 0 ? [`k-${i}`] : [`k-${i}`, `alt-${i}`],
    properties: { index: String(i), 'unicode-é': 'ünïcødé ✓', empty: '' },
  }));
  const sent = await workspace.runScenario<SendInput, SendResult>(
    'send',
    { connection: { endpoint: broker.address.endpoint }, topic, messages: specs },
    30_000,
  );
  const seen: ReceivedMessageView[] = [];
  await consume(broker.address.endpoint, uniqueName('interop_in_g'), topic, seen);
  await waitFor(() => seen.length >= specs.length, 'every message', 15_000);

  expect(seen).toHaveLength(specs.length);
  const byId = new Map(seen.map((m) => [m.messageId, m]));
  specs.forEach((spec, i) => {
    const m = byId.get(sent.receipts[i]!.messageId);
    expect(m).toBeDefined();
    expect({
      body: m!.body.toString('base64'),
      tag: m!.tag ?? null,
      keys: [...m!.keys],
      properties: { ...m!.properties },
      topic: m!.topic,
      attempt: m!.deliveryAttempt,
      type: m!.messageType,
    }).toEqual({
      body: spec.bodyBase64,
      tag: spec.tag ?? null,
      keys: [...(spec.keys ?? [])],
      properties: { ...(spec.properties ?? {}) },
      topic,
      attempt: 1,
      type: 'NORMAL',
    });
  });
}, 60_000);

test("the official Producer's FIFO messages reach our consumer of a FIFO group in order, per message group", async () => {
  const topic = uniqueName('interop_fifo');
  const group = uniqueName('interop_fifo_g');
  broker.core.createGroup(group, { fifo: true });
  const groups = ['alpha', 'beta', 'gamma'];
  const specs: MessageSpec[] = [];
  for (let i = 0; i < 10; i++) {
    for (const g of groups)
      specs.push({ bodyBase64: Buffer.from(`${g}:${i}`).toString('base64'), messageGroup: g });
  }
  await workspace.runScenario<SendInput, SendResult>(
    'send',
    { connection: { endpoint: broker.address.endpoint }, topic, messages: specs, concurrency: 3 },
    30_000,
  );
  const seen: ReceivedMessageView[] = [];
  const consumer = await consume(broker.address.endpoint, group, topic, seen);
  expect(consumer.fifo).toBe(true);
  await waitFor(() => seen.length >= specs.length, 'every message', 15_000);
  for (const g of groups) {
    const order = seen.filter((m) => m.messageGroup === g).map((m) => m.body.toString());
    expect(order).toEqual(Array.from({ length: 10 }, (_, i) => `${g}:${i}`));
  }
  expect(seen.every((m) => m.messageType === 'FIFO')).toBe(true);
}, 60_000);

/**
 * Compatibility proof (issue 4), FIFO at volume: 20 message groups × 50 messages through the
 * unmodified official PushConsumer, which fetches its next batch while the current one is still
 * being consumed: only the broker's per-message-group lock keeps each group in order.
 */
import { type Broker } from '../../libs/broker/src/broker.js';
import { contentOf, expectedContent, uniqueName, setUpCompatWorkspace } from './compat-harness.js';
import {
  type MessageSpec,
  type PushConsumeInput,
  type PushConsumeResult,
} from './scenarios/scenario-types.js';

const GROUPS = 20;
const PER_GROUP = 50;

describe('official rocketmq-client-nodejs FIFO PushConsumer against the built-in broker', () => {
  const workspace = setUpCompatWorkspace();
  let broker: Broker;

  beforeAll(async () => {
    broker = await workspace.startBroker();
  });

  it('20 message groups × 50 messages: each group is consumed exactly in send order, each message once, first attempt', async () => {
    const topic = uniqueName('CompatFifo');
    const group = uniqueName('GID_compat_fifo');
    // The PushConsumer reads FIFO mode once, from its first Settings reply: the group must be FIFO first.
    broker.core.createGroup(group, { fifo: true });
    const messages: MessageSpec[] = [];
    for (let i = 0; i < PER_GROUP; i++) {
      for (let g = 0; g < GROUPS; g++) {
        messages.push({
          bodyBase64: Buffer.from(`group-${g}/seq-${i}`).toString('base64'),
          messageGroup: `order-${g}`,
          tag: 'fifo',
          keys: [`order-${g}-${i}`],
          properties: { seq: String(i) },
        });
      }
    }

    const r = await workspace.runScenario<PushConsumeInput, PushConsumeResult>(
      'push-consume',
      {
        connection: { endpoint: broker.address.endpoint },
        topic,
        group,
        messages,
        sendConcurrency: GROUPS,
        expectSuccesses: messages.length,
        settleMs: 1000,
        timeoutMs: 40_000,
      },
      60_000,
    );

    const ids = r.receipts.map((x) => x.messageId);
    expect(new Set(ids).size).toBe(messages.length);
    // Each message once, on its first attempt, with its content.
    expect(r.calls).toHaveLength(messages.length);
    expect(r.calls.map((c) => c.message.messageId).sort()).toEqual([...ids].sort());
    const specById = new Map(ids.map((id, i) => [id, messages[i]!]));
    for (const call of r.calls) {
      const original = specById.get(call.message.messageId)!;
      expect(contentOf(call.message)).toEqual(expectedContent(original));
      expect(call.message).toMatchObject({ messageGroup: original.messageGroup, deliveryAttempt: 1 });
      expect(call.result).toBe('SUCCESS');
    }
    // Per message group, the listener saw exactly the send order.
    for (let g = 0; g < GROUPS; g++) {
      const sentOrder = ids.filter((_, i) => messages[i]!.messageGroup === `order-${g}`);
      const consumedOrder = r.calls
        .filter((c) => c.message.messageGroup === `order-${g}`)
        .map((c) => c.message.messageId);
      expect(consumedOrder).toEqual(sentOrder);
    }
    expect(broker.core.lag(group, topic).total).toBe(0);
    expect(broker.core.inFlightCount(group, topic)).toBe(0);
  }, 75_000);
});

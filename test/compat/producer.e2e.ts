/**
 * Compatibility proof (issue 4), producer side: the unmodified official Producer sends normal, FIFO
 * and delayed messages to the built-in broker, and the official SimpleConsumer gets back exactly
 * what was sent (bytes, tag, keys, properties, message id, first delivery attempt).
 */
import { randomBytes } from 'node:crypto';
import { type Broker } from '../../libs/broker/src/broker.js';
import { contentOf, expectedContent, uniqueName, setUpCompatWorkspace } from './compat-harness.js';
import {
  type MessageSpec,
  type ProduceConsumeInput,
  type ProduceConsumeResult,
} from './scenarios/scenario-types.js';

const MESSAGE_ID = /^[0-9A-F]{34}$/;

describe('official rocketmq-client-nodejs Producer against the built-in broker', () => {
  const workspace = setUpCompatWorkspace();
  let broker: Broker;
  const connection = (): ProduceConsumeInput['connection'] => ({ endpoint: broker.address.endpoint });
  const maxBodyKiB = (): number => {
    expect(broker.core.limits.maxBodySize % 1024).toBe(0);
    return broker.core.limits.maxBodySize / 1024;
  };

  beforeAll(async () => {
    broker = await workspace.startBroker();
  });

  it('normal messages (up to the largest accepted body) arrive byte for byte with their tag, keys, user properties and message id, on the first delivery attempt', async () => {
    const topic = uniqueName('CompatNormal');
    const group = uniqueName('GID_compat_normal');
    const allBytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const messages: MessageSpec[] = [
      {
        bodyBase64: allBytes.toString('base64'),
        tag: 'TagA',
        keys: ['order-1', 'order-1-alt'],
        properties: { traceId: 'abc-123', note: 'naïve ✓ 日本語', empty: '' },
      },
      { bodyBase64: Buffer.from('hello').toString('base64') },
      // The largest body the broker accepts (4 MiB − 64 KiB): its delivery must still fit the
      // client's 4 MiB inbound gRPC limit.
      {
        bodyBase64: randomBytes(1024).toString('base64'),
        bodyRepeat: maxBodyKiB(),
        tag: 'big',
        keys: ['big-1'],
      },
      {
        bodyBase64: Buffer.from(JSON.stringify({ n: 4 })).toString('base64'),
        tag: 'TagB',
        properties: { a: '1' },
      },
    ];
    const startedAt = Date.now();

    const result = await workspace.runScenario<ProduceConsumeInput, ProduceConsumeResult>(
      'produce-consume',
      {
        connection: connection(),
        topic,
        group,
        messages,
        expectCount: messages.length,
        settleMs: 1500,
        awaitDurationMs: 1000,
        timeoutMs: 15_000,
      },
      30_000,
    );

    // Receipts: the producer's ids echoed, distinct.
    const ids = result.receipts.map((r) => r.messageId);
    expect(ids).toHaveLength(messages.length);
    for (const id of ids) expect(id).toMatch(MESSAGE_ID);
    expect(new Set(ids).size).toBe(messages.length);

    // Deliveries: each message exactly once, with its content and id, first attempt, not corrupted.
    expect(result.received.map((m) => m.messageId).sort()).toEqual([...ids].sort());
    messages.forEach((spec, i) => {
      const delivered = result.received.find((m) => m.messageId === ids[i])!;
      expect(contentOf(delivered)).toEqual(expectedContent(spec));
      expect(delivered).toMatchObject({
        topic,
        deliveryAttempt: 1,
        corrupted: false,
        receiptHandlePresent: true,
        messageGroup: null,
        deliveryTimestamp: null,
      });
      expect(delivered.bornTimestamp).toBeGreaterThanOrEqual(startedAt);
      expect(delivered.bornTimestamp).toBeLessThanOrEqual(result.sentAt[i]!);
      // The offset the send answered is where the message was stored.
      expect(delivered.queueOffset).toBe(result.receipts[i]!.offset);
    });
    expect(result.ackErrors).toEqual([]);
    expect(result.polls.filter((p) => p.error)).toEqual([]);
    // shutdown() of both clients completed (NotifyClientTermination answered, telemetry ended).
    expect(result.shutdown).toBe('done');
    // The acks reached the broker: nothing left for the group.
    expect(broker.core.lag(group, topic).total).toBe(0);
    expect(broker.core.inFlightCount(group, topic)).toBe(0);
  }, 40_000);

  it('FIFO messages of each message group arrive in send order with their message group, to a FIFO consumer group', async () => {
    const topic = uniqueName('CompatFifoSend');
    const group = uniqueName('GID_compat_fifo_send');
    broker.core.createGroup(group, { fifo: true });
    const groups = ['order-A', 'order-B', 'order-C'];
    const perGroup = 10;
    const messages: MessageSpec[] = [];
    for (let i = 0; i < perGroup; i++) {
      for (const g of groups) {
        messages.push({
          bodyBase64: Buffer.from(`${g}#${i}`).toString('base64'),
          messageGroup: g,
          tag: 'fifo',
          keys: [`${g}-${i}`],
        });
      }
    }

    const result = await workspace.runScenario<ProduceConsumeInput, ProduceConsumeResult>(
      'produce-consume',
      {
        connection: connection(),
        topic,
        group,
        messages,
        concurrency: groups.length,
        expectCount: messages.length,
        settleMs: 1000,
        awaitDurationMs: 1000,
        timeoutMs: 20_000,
      },
      35_000,
    );

    expect(result.received).toHaveLength(messages.length);
    const ids = result.receipts.map((r) => r.messageId);
    expect(result.received.map((m) => m.messageId).sort()).toEqual([...ids].sort());
    for (const g of groups) {
      const sentOrder = messages.flatMap((spec, i) => (spec.messageGroup === g ? [ids[i]] : []));
      const deliveredOrder = result.received.filter((m) => m.messageGroup === g).map((m) => m.messageId);
      expect(deliveredOrder).toEqual(sentOrder);
    }
    messages.forEach((spec, i) => {
      const delivered = result.received.find((m) => m.messageId === ids[i])!;
      expect(contentOf(delivered)).toEqual(expectedContent(spec));
      expect(delivered).toMatchObject({ messageGroup: spec.messageGroup, deliveryAttempt: 1 });
    });
    expect(result.ackErrors).toEqual([]);
    expect(broker.core.lag(group, topic).total).toBe(0);
  }, 45_000);

  it('a delayed message is not delivered before its delivery time and is delivered soon after it, while a normal one goes at once', async () => {
    const topic = uniqueName('CompatDelay');
    const group = uniqueName('GID_compat_delay');
    const delayMs = 3000;
    const messages: MessageSpec[] = [
      {
        bodyBase64: Buffer.from('delayed body').toString('base64'),
        tag: 'later',
        keys: ['delay-1'],
        properties: { kind: 'delayed' },
        delayMs,
      },
      { bodyBase64: Buffer.from('immediate body').toString('base64'), tag: 'now', keys: ['now-1'] },
    ];

    const result = await workspace.runScenario<ProduceConsumeInput, ProduceConsumeResult>(
      'produce-consume',
      {
        connection: connection(),
        topic,
        group,
        messages,
        expectCount: 2,
        awaitDurationMs: 1000,
        timeoutMs: 15_000,
      },
      30_000,
    );

    const [delayedId, immediateId] = result.receipts.map((r) => r.messageId);
    const delayed = result.received.find((m) => m.messageId === delayedId);
    const immediate = result.received.find((m) => m.messageId === immediateId);
    expect(delayed).toBeDefined();
    expect(immediate).toBeDefined();
    expect(result.received).toHaveLength(2);
    expect(contentOf(delayed!)).toEqual(expectedContent(messages[0]!));
    expect(contentOf(immediate!)).toEqual(expectedContent(messages[1]!));

    // The delivery time the client computed (send time + delay) comes back on the message.
    const due = delayed!.deliveryTimestamp!;
    expect(due).toBeGreaterThanOrEqual(result.sendStartedAt[0]! + delayMs);
    expect(due).toBeLessThanOrEqual(result.sentAt[0]! + delayMs);
    // Not visible before its time: the normal message came first, and at least one poll ran
    // entirely between the send and the due time without it.
    expect(immediate!.receivedAt).toBeLessThan(due);
    expect(result.polls.some((p) => p.startedAt >= result.sentAt[0]! && p.endedAt < due && !p.error)).toBe(
      true,
    );
    expect(delayed!.receivedAt).toBeGreaterThanOrEqual(due);
    // Visible after it: within a few seconds of the due time.
    expect(delayed!.receivedAt).toBeLessThanOrEqual(due + 4000);
    expect(delayed!.deliveryAttempt).toBe(1);
    expect(result.ackErrors).toEqual([]);
  }, 40_000);
});

/**
 * Compatibility proof (issue 4), durability: messages sent with the official Producer survive a
 * broker restart (close, then a new Broker on the same data dir and port) and are all received
 * afterwards with their content, FIFO order and delivery time; what a group acked before the
 * restart stays acked.
 */
import { type Broker } from '../../libs/broker/src/broker.js';
import { contentOf, expectedContent, uniqueName, setUpCompatWorkspace } from './compat-harness.js';
import {
  type MessageSpec,
  type SendInput,
  type SendResult,
  type SimpleReceiveInput,
  type SimpleReceiveResult,
} from './scenarios/scenario-types.js';

const DELAY_MS = 5000;

describe('official rocketmq-client-nodejs across a restart of the built-in broker', () => {
  const workspace = setUpCompatWorkspace();

  it('everything sent before a restart is received after it, byte for byte and in FIFO order; what was acked before stays acked', async () => {
    const topic = uniqueName('CompatRestart');
    const readsAfter = uniqueName('GID_compat_restart_after'); // reads nothing before the restart
    const readsBefore = uniqueName('GID_compat_restart_before'); // acks the `before` messages first
    const body = (text: string) => Buffer.from(text).toString('base64');
    const messages: MessageSpec[] = [
      ...Array.from({ length: 8 }, (_, i) => ({
        bodyBase64: body(`normal-${i}`),
        tag: 'before',
        keys: [`n-${i}`],
        properties: { i: String(i) },
      })),
      ...Array.from({ length: 10 }, (_, i) => ({
        bodyBase64: body(`fifo-${i % 2}-${Math.floor(i / 2)}`),
        tag: 'before',
        messageGroup: `g${i % 2}`,
        keys: [`f-${i}`],
      })),
      // Due around the restart: its timer must survive it.
      { bodyBase64: body('delayed'), tag: 'later', keys: ['d-1'], delayMs: DELAY_MS },
    ];

    let broker: Broker = await workspace.startBroker();
    broker.core.createGroup(readsAfter, { fifo: true });
    const port = broker.address.port;
    const connection = { endpoint: broker.address.endpoint };

    const sent = await workspace.runScenario<SendInput, SendResult>(
      'send',
      { connection, topic, messages, concurrency: 2 },
      30_000,
    );
    expect(sent.shutdown).toBe('done');
    const ids = sent.receipts.map((r) => r.messageId);
    const beforeIds = ids.filter((_, i) => messages[i]!.tag === 'before');
    const acked = await workspace.runScenario<SimpleReceiveInput, SimpleReceiveResult>(
      'simple-receive',
      {
        connection,
        topic,
        group: readsBefore,
        filter: 'before',
        expectCount: beforeIds.length,
        awaitDurationMs: 1000,
        timeoutMs: 15_000,
      },
      30_000,
    );
    expect(acked.received.map((m) => m.messageId).sort()).toEqual([...beforeIds].sort());
    expect(acked.ackErrors).toEqual([]);

    await broker.close();
    broker = await workspace.startBroker({ port });
    expect(broker.address.endpoint).toBe(connection.endpoint);

    const [after, again] = await Promise.all([
      workspace.runScenario<SimpleReceiveInput, SimpleReceiveResult>(
        'simple-receive',
        {
          connection,
          topic,
          group: readsAfter,
          expectCount: messages.length,
          settleMs: 1000,
          awaitDurationMs: 1000,
          timeoutMs: 20_000,
        },
        40_000,
      ),
      workspace.runScenario<SimpleReceiveInput, SimpleReceiveResult>(
        'simple-receive',
        {
          connection,
          topic,
          group: readsBefore,
          filter: 'before',
          expectCount: 0,
          settleMs: 3000,
          awaitDurationMs: 1000,
          timeoutMs: 20_000,
        },
        40_000,
      ),
    ]);

    // Nothing lost: every message once, with its content, on its first delivery to this group.
    expect(after.received.map((m) => m.messageId).sort()).toEqual([...ids].sort());
    messages.forEach((spec, i) => {
      const delivered = after.received.find((m) => m.messageId === ids[i])!;
      expect(contentOf(delivered)).toEqual(expectedContent(spec));
      expect(delivered).toMatchObject({ topic, deliveryAttempt: 1, corrupted: false });
    });
    // FIFO order per message group survived.
    for (const g of ['g0', 'g1']) {
      const sentOrder = ids.filter((_, i) => messages[i]!.messageGroup === g);
      expect(after.received.filter((m) => m.messageGroup === g).map((m) => m.messageId)).toEqual(sentOrder);
    }
    // The delayed message kept its delivery time and was not delivered before it.
    const delayed = after.received.find((m) => m.messageId === ids[messages.length - 1])!;
    expect(delayed.deliveryTimestamp).toBeGreaterThanOrEqual(
      sent.sendStartedAt[messages.length - 1]! + DELAY_MS,
    );
    expect(delayed.receivedAt).toBeGreaterThanOrEqual(delayed.deliveryTimestamp!);
    expect(after.ackErrors).toEqual([]);
    // Acked before the restart: not delivered again.
    expect(again.received).toEqual([]);
    expect(again.polls.filter((p) => p.error)).toEqual([]);
  }, 90_000);
});

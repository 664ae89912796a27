/**
 * Child process of receive-message.official-client.e2e.ts: the unmodified official client
 * (rocketmq-client-nodejs) as an application uses it: a Producer sends one message with a tag, keys
 * and properties, a SimpleConsumer receives and acks it. Prints one JSON line with what the consumer
 * saw, then exits (the client's timers would keep the process alive, PROTOCOL.md §7).
 *
 * Usage: node --import @swc-node/register/esm-register <this file> '{"endpoint":…,"topic":…,"group":…}'
 */
import { Producer, SimpleConsumer } from 'rocketmq-client-nodejs';

interface Input {
  readonly endpoint: string;
  readonly topic: string;
  readonly group: string;
}

export interface OfficialClientRoundTrip {
  readonly sentMessageId: string;
  readonly received: {
    readonly messageId: string;
    readonly topic: string;
    readonly body: string;
    readonly tag: string | undefined;
    readonly keys: string[];
    readonly properties: Record<string, string>;
    readonly deliveryAttempt: number | undefined;
  }[];
  readonly acked: boolean;
}

/** The client logs through this; errors go to stderr so that a failing test shows them. */
const logger = {
  info: (): void => undefined,
  debug: (): void => undefined,
  warn: (...args: unknown[]): void => console.error('[client warn]', ...args),
  error: (...args: unknown[]): void => console.error('[client error]', ...args),
};

async function main(): Promise<OfficialClientRoundTrip> {
  const input = JSON.parse(process.argv[2] ?? '{}') as Input;
  const base = { endpoints: input.endpoint, namespace: '', logger };
  const producer = new Producer({ ...base, topics: [input.topic] });
  const consumer = new SimpleConsumer({
    ...base,
    consumerGroup: input.group,
    subscriptions: new Map([[input.topic, 'created']]),
    awaitDuration: 3_000,
  });
  await producer.startup();
  await consumer.startup();

  const receipt = await producer.send({
    topic: input.topic,
    body: Buffer.from('{"order":42,"text":"héllo"}'),
    tag: 'created',
    keys: ['order-42', 'customer-7'],
    properties: new Map([
      ['region', 'eu-west'],
      ['amount', '10.50'],
    ]),
  });

  const deadline = Date.now() + 15_000;
  let views: Awaited<ReturnType<SimpleConsumer['receive']>> = [];
  while (views.length === 0 && Date.now() < deadline) views = await consumer.receive(10, 15_000);
  let acked = false;
  for (const view of views) {
    await consumer.ack(view);
    acked = true;
  }
  await Promise.race([
    Promise.all([producer.shutdown(), consumer.shutdown()]),
    new Promise((resolve) => setTimeout(resolve, 3_000)),
  ]);
  return {
    sentMessageId: receipt.messageId,
    received: views.map((v) => ({
      messageId: v.messageId,
      topic: v.topic,
      body: v.body.toString('utf8'),
      tag: v.tag,
      keys: [...v.keys],
      properties: Object.fromEntries(v.properties),
      deliveryAttempt: v.deliveryAttempt,
    })),
    acked,
  };
}

main().then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.exit(0);
  },
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
    process.exit(1);
  },
);

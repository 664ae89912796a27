/**
 * The official client, built the way an application would build it, with the scenario's logger.
 * Nothing here changes the client's behaviour: only options an application can pass.
 */
import {
  Producer,
  PushConsumer,
  SimpleConsumer,
  type PushConsumerOptions,
  type MessageOptions,
  type ProducerOptions,
  type SessionCredentials,
  type SimpleConsumerOptions,
} from 'rocketmq-client-nodejs';
import { clientLogger } from './scenario-runtime.js';
import { specBody, type Connection, type MessageSpec, type ObservedReceipt } from './scenario-types.js';

function base(connection: Connection): {
  endpoints: string;
  namespace: string;
  logger: typeof clientLogger;
  sessionCredentials?: SessionCredentials;
} {
  return {
    endpoints: connection.endpoint,
    namespace: '',
    logger: clientLogger,
    ...(connection.credentials ? { sessionCredentials: connection.credentials } : {}),
  };
}

export async function startProducer(
  connection: Connection,
  options: Omit<ProducerOptions, 'endpoints' | 'namespace'> = {},
): Promise<Producer> {
  const producer = new Producer({ ...base(connection), ...options });
  await producer.startup();
  return producer;
}

export async function startSimpleConsumer(
  connection: Connection,
  options: Omit<SimpleConsumerOptions, 'endpoints' | 'namespace'>,
): Promise<SimpleConsumer> {
  const consumer = new SimpleConsumer({ ...base(connection), ...options });
  await consumer.startup();
  return consumer;
}

/** Starts a PushConsumer. Never `shutdown()` it in a scenario: that waits for its long poll (20 s). */
export async function startPushConsumer(
  connection: Connection,
  options: Omit<PushConsumerOptions, 'endpoints' | 'namespace'>,
): Promise<PushConsumer> {
  const consumer = new PushConsumer({ ...base(connection), ...options });
  await consumer.startup();
  return consumer;
}

/** The application's message for a spec. */
export function messageOf(topic: string, spec: MessageSpec): MessageOptions {
  return {
    topic,
    body: specBody(spec),
    ...(spec.tag === undefined ? {} : { tag: spec.tag }),
    ...(spec.keys === undefined ? {} : { keys: [...spec.keys] }),
    ...(spec.properties === undefined ? {} : { properties: new Map(Object.entries(spec.properties)) }),
    ...(spec.messageGroup === undefined ? {} : { messageGroup: spec.messageGroup }),
    ...(spec.deliveryTimestamp === undefined ? {} : { deliveryTimestamp: new Date(spec.deliveryTimestamp) }),
    ...(spec.delayMs === undefined ? {} : { delay: spec.delayMs }),
  };
}

export async function sendOne(
  producer: Producer,
  topic: string,
  spec: MessageSpec,
): Promise<ObservedReceipt> {
  const receipt = await producer.send(messageOf(topic, spec));
  if (!receipt) throw new Error('send() returned no receipt (the response had no entry)');
  return { messageId: receipt.messageId, transactionId: receipt.transactionId, offset: receipt.offset };
}

/** Shuts a client down, bounded: a slow shutdown must not eat the scenario's time budget. */
export async function shutdownWithin(
  client: { shutdown(): Promise<void> },
  ms: number,
): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([client.shutdown().then(() => 'done' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

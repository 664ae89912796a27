/**
 * Child process of producer-exit.e2e.ts: uses a producer (or fails to start one) and then does
 * nothing. It must exit by itself: a client that leaks a channel, a timer or a stream keeps it alive.
 *
 * Usage: node --import @swc-node/register/esm-register <this file> '{"endpoint":"127.0.0.1:8081","mode":"send"}'
 */
import { silentLogger } from '../logger.js';
import { Producer } from './producer.js';

interface Input {
  readonly endpoint: string;
  readonly mode: 'send' | 'failed-start';
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;

if (input.mode === 'send') {
  const producer = await Producer.start({ endpoints: input.endpoint, logger: silentLogger });
  const receipt = await producer.send({ topic: 'exit-topic', body: 'bye' });
  producer.sendOneWay({ topic: 'exit-topic', body: 'one-way' });
  await producer.sendInTransaction({ topic: 'exit-topic', body: 'tx' }, () => 'COMMIT');
  await producer.close();
  process.stdout.write(`sent ${receipt.messageId}\n`);
} else {
  const err = await Producer.start({
    endpoints: input.endpoint,
    logger: silentLogger,
    startupTimeoutMs: 500,
  }).catch((e: unknown) => e);
  process.stdout.write(`failed ${(err as Error).name}\n`);
}

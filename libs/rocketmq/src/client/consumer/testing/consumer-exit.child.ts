/**
 * Child process of the process-exit test: a consumer with its own RpcClient (`client: {endpoints}`)
 * consumes `count` messages and closes; the process prints what it consumed and must then exit by
 * itself (nothing may keep the event loop alive: no timer, no stream, no channel).
 *
 * Usage: node --import @swc-node/register/esm-register <this file> '{"endpoint":…,"topic":…,"group":…,"count":…}'
 */
import { silentLogger } from '../../logger.js';
import { Consumer } from '../consumer.js';

interface Input {
  readonly endpoint: string;
  readonly topic: string;
  readonly group: string;
  readonly count: number;
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const bodies: string[] = [];
let resolveAll: () => void = () => undefined;
const all = new Promise<void>((resolve) => (resolveAll = resolve));
const consumer = await Consumer.start({
  client: { endpoints: input.endpoint, logger: silentLogger },
  group: input.group,
  subscriptions: [{ topic: input.topic }],
  handler: (m) => {
    bodies.push(m.body.toString());
    if (bodies.length >= input.count) resolveAll();
  },
});
await all;
await consumer.close();
process.stdout.write(JSON.stringify({ bodies, stats: consumer.stats() }));

/**
 * Child process of the crash test: a consumer whose idempotent handler commits its effect and
 * then SIGKILLs its own process before the message can be acknowledged (the "commit, then crash
 * before ack" window). Prints `committed <messageId>` right before dying.
 *
 * Usage: node --import @swc-node/register/esm-register <this file> '{"endpoint":…,"topic":…,"group":…,"databaseUrl":…,"table":…,"effects":…,"invisibleMs":…}'
 */
import { Consumer } from '@rocketnest/rocketmq';
import { DataSource } from 'typeorm';
import { silentIdempotencyLogger } from '../core/idempotency-logger.js';
import { IdempotencyStore } from '../core/idempotency-store.js';
import { payloadHashOf } from '../core/payload-hash.js';
import { runIdempotent } from '../core/run-idempotent.js';

interface Input {
  readonly endpoint: string;
  readonly topic: string;
  readonly group: string;
  readonly databaseUrl: string;
  readonly table: string;
  /** Quoted name of the effect table. */
  readonly effects: string;
  readonly invisibleMs: number;
}

const input = JSON.parse(process.argv[2] ?? '{}') as Input;
const dataSource = await new DataSource({
  type: 'postgres',
  url: input.databaseUrl,
  poolSize: 2,
}).initialize();
const store = new IdempotencyStore(dataSource, { table: input.table, logger: silentIdempotencyLogger });

await Consumer.start({
  client: { endpoints: input.endpoint, logger: { debug() {}, info() {}, warn() {}, error() {} } },
  group: input.group,
  subscriptions: [{ topic: input.topic }],
  invisibleDurationMs: input.invisibleMs,
  handler: async (message) => {
    const result = await runIdempotent(
      store,
      {
        group: input.group,
        key: `${message.topic}:${message.messageId}`,
        payloadHash: payloadHashOf(message.body),
      },
      async ({ manager }) => {
        await manager!.query(`INSERT INTO ${input.effects} (message_id, process) VALUES ($1, 'child')`, [
          message.messageId,
        ]);
      },
    );
    if (result.status === 'processed') {
      process.stdout.write(`committed ${message.messageId}\n`, () => process.kill(process.pid, 'SIGKILL'));
      await new Promise(() => undefined); // never resolves: the ack is never sent
    }
  },
});
process.stdout.write('ready\n');

/**
 * Proof of issue 7: a consumer process killed with SIGKILL after its transaction committed and
 * before its ack. The broker redelivers the message after its invisible duration to another
 * consumer of the group, which finds the key and skips it: one effect.
 *
 * Real pieces only: the built-in broker, our gRPC client's Consumer in a child process (killed
 * by the OS, no cleanup runs), Postgres.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Consumer, Producer, type ReceivedMessageView } from '@rocketnest/rocketmq';
import { startBroker, type BrokerFixture } from '@rocketnest/rocketmq/client/testing/broker-fixture.js';
import { type DataSource } from 'typeorm';
import { ensureIdempotencySchema } from '../schema/ensure-idempotency-schema.js';
import {
  createTestSchema,
  DATABASE_URL,
  dropTestSchema,
  openDataSource,
  waitFor,
} from '../testing/pg-fixture.js';
import { silentIdempotencyLogger } from './idempotency-logger.js';
import { IdempotencyStore } from './idempotency-store.js';
import { payloadHashOf } from './payload-hash.js';
import { runIdempotent } from './run-idempotent.js';

const CHILD = fileURLToPath(new URL('../testing/kill-after-commit.child.ts', import.meta.url));
/** The shortest invisible duration RocketMQ accepts: the redelivery comes after it. */
const INVISIBLE_MS = 10_000;
const silent = { debug() {}, info() {}, warn() {}, error() {} };

let fx: BrokerFixture;
let dataSource: DataSource;
let schema: string;

beforeAll(async () => {
  fx = await startBroker();
  dataSource = await openDataSource(4);
  schema = await createTestSchema(dataSource, 'idem_crash');
  await ensureIdempotencySchema(dataSource, { table: `${schema}.keys` });
  await dataSource.query(
    `CREATE TABLE "${schema}".effects (message_id text NOT NULL, process text NOT NULL)`,
  );
});

afterAll(async () => {
  await dropTestSchema(dataSource, schema);
  await dataSource.destroy();
  await fx.close();
});

/** Runs the child until the OS kills it; resolves with its output and the signal that ended it. */
function runChild(
  input: object,
): Promise<{ out: string; signal: NodeJS.Signals | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', CHILD, JSON.stringify(input)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ out: out + err, signal, code }));
  });
}

it('a consumer SIGKILLed after its commit and before its ack: the redelivery is skipped, one effect', async () => {
  const topic = 'idem-crash';
  const group = 'idem-crash-g';
  const producer = await Producer.start({ endpoints: fx.endpoint, logger: silent });
  const { messageId } = await producer.send({ topic, body: JSON.stringify({ order: 42 }) });
  await producer.close();

  const child = await runChild({
    endpoint: fx.endpoint,
    topic,
    group,
    databaseUrl: DATABASE_URL,
    table: `${schema}.keys`,
    effects: `"${schema}".effects`,
    invisibleMs: INVISIBLE_MS,
  });
  expect(child.signal).toBe('SIGKILL');
  expect(child.out).toContain(`committed ${messageId}`);

  // Another consumer instance of the group gets the redelivery once the lease runs out.
  const store = new IdempotencyStore(dataSource, {
    table: `${schema}.keys`,
    logger: silentIdempotencyLogger,
  });
  const seen: Array<{ message: ReceivedMessageView; status: string }> = [];
  const consumer = await Consumer.start({
    client: { endpoints: fx.endpoint, logger: silent },
    group,
    subscriptions: [{ topic }],
    handler: async (message) => {
      const result = await runIdempotent(
        store,
        { group, key: `${message.topic}:${message.messageId}`, payloadHash: payloadHashOf(message.body) },
        async ({ manager }) => {
          await manager!.query(
            `INSERT INTO "${schema}".effects (message_id, process) VALUES ($1, 'parent')`,
            [message.messageId],
          );
        },
      );
      seen.push({ message, status: result.status });
    },
  });
  try {
    await waitFor(() => seen.length >= 1, 'the redelivery', 90_000);
    await waitFor(
      () => fx.broker.core.inFlightCount(group, topic) === 0,
      'the redelivery acknowledged',
      30_000,
    );
  } finally {
    await consumer.close();
  }

  expect(seen).toHaveLength(1);
  expect(seen[0]!.message.messageId).toBe(messageId);
  expect(seen[0]!.message.deliveryAttempt).toBeGreaterThanOrEqual(2);
  expect(seen[0]!.status).toBe('duplicate');
  expect(store.metrics.snapshot().outcomes).toMatchObject({ duplicate: 1, processed: 0 });
  const effects = (await dataSource.query(
    `SELECT message_id, process FROM "${schema}".effects`,
  )) as unknown[];
  expect(effects).toEqual([{ message_id: messageId, process: 'child' }]);
}, 150_000);

/**
 * Proof of issue 7: 1,000 messages each delivered 3 times, partly concurrently, to two independent
 * consumer instances (two DataSources, two stores with their own counters), through the core
 * (`runIdempotent`), as a consumer's handler would call it. Each delivery's handler writes one
 * effect row in the claim's transaction; the effect table has no unique constraint, so a double
 * effect would show.
 */
import { type DataSource } from 'typeorm';
import { IdempotencyBusyError } from '../errors.js';
import { ensureIdempotencySchema } from '../schema/ensure-idempotency-schema.js';
import { createTestSchema, dropTestSchema, openDataSource } from '../testing/pg-fixture.js';
import { silentIdempotencyLogger } from './idempotency-logger.js';
import { IdempotencyStore } from './idempotency-store.js';
import { payloadHashOf } from './payload-hash.js';
import { runIdempotent } from './run-idempotent.js';

const MESSAGES = 1_000;
const COPIES = 3;
const CONCURRENCY_PER_INSTANCE = 16;
const TOPIC = 'orders';
const GROUP = 'billing';

let admin: DataSource;
let instances: DataSource[];
let schema: string;

beforeAll(async () => {
  admin = await openDataSource(2);
  schema = await createTestSchema(admin, 'idem_dup');
  await ensureIdempotencySchema(admin, { table: `${schema}.keys` });
  await admin.query(`CREATE TABLE "${schema}".effects (message_id text NOT NULL, instance text NOT NULL)`);
  instances = [await openDataSource(8), await openDataSource(8)];
});

afterAll(async () => {
  for (const ds of instances) await ds.destroy();
  await dropTestSchema(admin, schema);
  await admin.destroy();
});

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Delivery {
  readonly messageId: string;
  readonly body: string;
  readonly order: number;
}

it('1,000 messages delivered 3 times each to two consumer instances leave exactly 1,000 effects and 2,000 counted duplicates', async () => {
  const rnd = random(7);
  // The second copy of a message lands close to the first (often while it is still being handled:
  // concurrent duplicates), the third anywhere later (a redelivery after a lost ack).
  const queues: Delivery[][] = [[], []];
  for (let i = 0; i < MESSAGES; i++) {
    const messageId = `m-${i}`;
    const body = JSON.stringify({ order: i, amount: i * 10 });
    const spread = [0, Math.floor(rnd() * 40), Math.floor(rnd() * 3 * MESSAGES)];
    for (let copy = 0; copy < COPIES; copy++) {
      queues[rnd() < 0.5 ? 0 : 1]!.push({ messageId, body, order: i * 3 + spread[copy]! });
    }
  }
  for (const q of queues) q.sort((x, y) => x.order - y.order);

  const stores = instances.map(
    (ds) => new IdempotencyStore(ds, { table: `${schema}.keys`, logger: silentIdempotencyLogger }),
  );
  const inFlight = new Map<string, number>();
  let concurrentCopies = 0;

  /** One consumer instance: `CONCURRENCY_PER_INSTANCE` handlers pulling from its queue. */
  const consume = async (instance: number): Promise<void> => {
    const queue = queues[instance]!;
    const store = stores[instance]!;
    const worker = async (): Promise<void> => {
      for (let d = queue.shift(); d !== undefined; d = queue.shift()) {
        const delivery = d;
        const running = inFlight.get(delivery.messageId) ?? 0;
        if (running > 0) concurrentCopies += 1;
        inFlight.set(delivery.messageId, running + 1);
        try {
          await runIdempotent(
            store,
            {
              group: GROUP,
              key: `${TOPIC}:${delivery.messageId}`,
              payloadHash: payloadHashOf(delivery.body),
            },
            async ({ manager }) => {
              await manager!.query(`INSERT INTO "${schema}".effects (message_id, instance) VALUES ($1, $2)`, [
                delivery.messageId,
                `instance-${instance}`,
              ]);
            },
          );
        } catch (err) {
          // Busy: the broker would redeliver it later; so does this queue.
          if (!(err instanceof IdempotencyBusyError)) throw err;
          queue.push(delivery);
        } finally {
          inFlight.set(delivery.messageId, inFlight.get(delivery.messageId)! - 1);
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY_PER_INSTANCE }, worker));
  };
  await Promise.all([consume(0), consume(1)]);

  const [effects] = (await admin.query(
    `SELECT count(*)::int AS total, count(DISTINCT message_id)::int AS distinct_ids,
            count(DISTINCT instance)::int AS instances FROM "${schema}".effects`,
  )) as Array<{ total: number; distinct_ids: number; instances: number }>;
  expect(effects).toEqual({ total: MESSAGES, distinct_ids: MESSAGES, instances: 2 });

  const counted = stores.map((s) => s.metrics.snapshot().outcomes);
  const sum = (k: 'processed' | 'duplicate' | 'failed' | 'payload_mismatch') =>
    counted.reduce((n, c) => n + c[k], 0);
  expect(sum('processed')).toBe(MESSAGES);
  expect(sum('duplicate')).toBe((COPIES - 1) * MESSAGES);
  expect(sum('failed')).toBe(0);
  expect(sum('payload_mismatch')).toBe(0);
  // The run really had copies of one message in flight at once (the case the unique index serializes).
  expect(concurrentCopies).toBeGreaterThan(0);
  const [keys] = (await admin.query(`SELECT count(*)::int AS n FROM "${schema}".keys`)) as Array<{
    n: number;
  }>;
  expect(keys!.n).toBe(MESSAGES);
}, 180_000);

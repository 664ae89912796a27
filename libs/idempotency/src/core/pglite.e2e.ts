/**
 * PGlite (typeorm-pglite), for apps that run without a Postgres server: one in-process database
 * behind one shared session, so the store detects it and runs one transaction at a time.
 */
import { DataSource, type EntityManager } from 'typeorm';
import { PGliteDriver } from 'typeorm-pglite';
import { RetentionJob } from '../retention/retention-job.js';
import { ensureIdempotencySchema } from '../schema/ensure-idempotency-schema.js';
import { silentIdempotencyLogger } from './idempotency-logger.js';
import { IdempotencyStore } from './idempotency-store.js';
import { runIdempotent } from './run-idempotent.js';

let dataSource: DataSource;
let store: IdempotencyStore;

beforeAll(async () => {
  dataSource = await new DataSource({ type: 'postgres', driver: new PGliteDriver().driver }).initialize();
  await ensureIdempotencySchema(dataSource);
  await dataSource.query(`CREATE TABLE effects (key text NOT NULL)`);
  store = new IdempotencyStore(dataSource, { logger: silentIdempotencyLogger });
}, 120_000);

afterAll(async () => {
  await dataSource?.destroy();
});

const effect =
  (key: string) =>
  async ({ manager }: { manager: EntityManager | undefined }) => {
    await manager!.query(`INSERT INTO effects (key) VALUES ($1)`, [key]);
  };

async function effects(key: string): Promise<number> {
  const rows = (await dataSource.query(`SELECT count(*)::int AS n FROM effects WHERE key = $1`, [
    key,
  ])) as Array<{ n: number }>;
  return rows[0]!.n;
}

it('is detected as a single-connection driver', () => {
  expect(store.serialized).toBe(true);
});

it('transaction mode: once, duplicate skipped, failure rolled back and retried', async () => {
  expect(await runIdempotent(store, { group: 'g', key: 't:1' }, effect('t:1'))).toMatchObject({
    status: 'processed',
  });
  expect(await runIdempotent(store, { group: 'g', key: 't:1' }, effect('t:1'))).toMatchObject({
    status: 'duplicate',
  });
  await expect(
    runIdempotent(store, { group: 'g', key: 't:2' }, async (scope) => {
      await effect('t:2')(scope);
      throw new Error('boom');
    }),
  ).rejects.toThrow('boom');
  expect(await effects('t:2')).toBe(0);
  expect(await runIdempotent(store, { group: 'g', key: 't:2' }, effect('t:2'))).toMatchObject({
    status: 'processed',
  });
  expect(await effects('t:1')).toBe(1);
  expect(await effects('t:2')).toBe(1);
});

it('concurrent deliveries do not share a transaction: 50 messages × 2 copies leave 50 effects', async () => {
  const before = store.metrics.snapshot().outcomes;
  const calls = Array.from({ length: 50 }, (_, i) => `c:${i}`).flatMap((key) => [
    runIdempotent(store, { group: 'g', key }, effect(key)),
    runIdempotent(store, { group: 'g', key }, effect(key)),
  ]);
  await Promise.all(calls);
  const rows = (await dataSource.query(
    `SELECT count(*)::int AS n, count(DISTINCT key)::int AS d FROM effects WHERE key LIKE 'c:%'`,
  )) as Array<{ n: number; d: number }>;
  expect(rows[0]).toEqual({ n: 50, d: 50 });
  const after = store.metrics.snapshot().outcomes;
  expect(after.processed - before.processed).toBe(50);
  expect(after.duplicate - before.duplicate).toBe(50);
});

it('a failing handler rolls back only its own writes while others run concurrently', async () => {
  const keys = Array.from({ length: 20 }, (_, i) => `f:${i}`);
  const failing = (i: number) => i % 2 === 1;
  const results = await Promise.allSettled(
    keys.map((key, i) =>
      runIdempotent(store, { group: 'g', key }, async (scope) => {
        await effect(key)(scope);
        await new Promise((resolve) => setTimeout(resolve, 5)); // let the others interleave
        if (failing(i)) throw new Error(`fail ${key}`);
      }),
    ),
  );
  expect(results.map((r) => r.status)).toEqual(keys.map((_, i) => (failing(i) ? 'rejected' : 'fulfilled')));
  const written = (await dataSource.query(
    `SELECT key FROM effects WHERE key LIKE 'f:%' ORDER BY key`,
  )) as Array<{
    key: string;
  }>;
  const claimed = (await dataSource.query(
    `SELECT idem_key AS key FROM mq_idempotency WHERE idem_key LIKE 'f:%' ORDER BY idem_key`,
  )) as Array<{ key: string }>;
  const expected = keys
    .filter((_, i) => !failing(i))
    .sort()
    .map((key) => ({ key }));
  expect(written).toEqual(expected);
  expect(claimed).toEqual(expected);
});

it('lease mode and retention (advisory lock) work too', async () => {
  expect(await runIdempotent(store, { group: 'g', key: 'l:1', mode: 'lease' }, () => 'sent')).toMatchObject({
    status: 'processed',
  });
  expect(await runIdempotent(store, { group: 'g', key: 'l:1', mode: 'lease' }, () => 'sent')).toMatchObject({
    status: 'duplicate',
  });
  await dataSource.query(
    `UPDATE mq_idempotency SET expires_at = now() - interval '1 second' WHERE idem_key = 'l:1'`,
  );
  expect(await new RetentionJob(store).runOnce()).toMatchObject({ skipped: false, deleted: 1 });
});

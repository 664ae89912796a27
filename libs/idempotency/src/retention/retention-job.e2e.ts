import { type DataSource } from 'typeorm';
import { silentIdempotencyLogger } from '../core/idempotency-logger.js';
import { IdempotencyStore } from '../core/idempotency-store.js';
import { runIdempotent } from '../core/run-idempotent.js';
import { IdempotencyUsageError } from '../errors.js';
import { ensureIdempotencySchema } from '../schema/ensure-idempotency-schema.js';
import { createTestSchema, dropTestSchema, openDataSource, waitFor } from '../testing/pg-fixture.js';
import { RetentionJob } from './retention-job.js';

let dataSource: DataSource;
let schema: string;
let store: IdempotencyStore;

beforeAll(async () => {
  dataSource = await openDataSource();
  schema = await createTestSchema(dataSource, 'idem_retention');
  await ensureIdempotencySchema(dataSource, { table: `${schema}.keys` });
  store = new IdempotencyStore(dataSource, { table: `${schema}.keys`, logger: silentIdempotencyLogger });
});

beforeEach(async () => {
  await dataSource.query(`TRUNCATE "${schema}".keys`);
});

afterAll(async () => {
  await dropTestSchema(dataSource, schema);
  await dataSource.destroy();
});

/** Inserts `count` keys named `<prefix>-<i>` in the given state. */
async function seed(
  prefix: string,
  count: number,
  state: { status: string; expires: string; lease?: string },
) {
  await dataSource.query(
    `INSERT INTO "${schema}".keys (consumer_group, idem_key, status, lease_owner, lease_until, expires_at)
     SELECT 'g', $1 || '-' || i, $2, CASE WHEN $3::text IS NULL THEN NULL ELSE gen_random_uuid() END,
            now() + $3::interval, now() + $4::interval
     FROM generate_series(1, $5) AS i`,
    [prefix, state.status, state.lease ?? null, state.expires, count],
  );
}

async function remainingPrefixes(): Promise<Record<string, number>> {
  const rows = (await dataSource.query(
    `SELECT split_part(idem_key, '-', 1) AS prefix, count(*)::int AS n FROM "${schema}".keys GROUP BY 1 ORDER BY 1`,
  )) as Array<{ prefix: string; n: number }>;
  return Object.fromEntries(rows.map((r) => [r.prefix, r.n]));
}

it('deletes only expired keys, in batches, and keeps every key still held', async () => {
  await seed('expired', 11, { status: 'done', expires: '-1 hour' });
  await seed('fresh', 3, { status: 'done', expires: '+1 hour' });
  await seed('abandoned', 2, { status: 'processing', expires: '-1 hour', lease: '-1 minute' });
  await seed('held', 2, { status: 'processing', expires: '-1 hour', lease: '+1 minute' });
  await seed('running', 2, { status: 'processing', expires: '+1 hour', lease: '+1 minute' });
  const before = store.metrics.snapshot().retention;

  const run = await new RetentionJob(store, { batchSize: 5 }).runOnce();

  expect(run).toEqual({ skipped: false, deleted: 13, batches: 3 });
  expect(await remainingPrefixes()).toEqual({ fresh: 3, held: 2, running: 2 });
  const after = store.metrics.snapshot().retention;
  expect(after.deleted - before.deleted).toBe(13);
  expect(after.runs - before.runs).toBe(1);
});

it('runs on one instance at a time: with the lock held elsewhere it skips and deletes nothing', async () => {
  await seed('expired', 4, { status: 'done', expires: '-1 hour' });
  const other = dataSource.createQueryRunner();
  try {
    const [held] = (await other.query(store.sql.tryRetentionLock)) as Array<{ locked: boolean }>;
    expect(held!.locked).toBe(true);
    const skipped = await new RetentionJob(store).runOnce();
    expect(skipped).toEqual({ skipped: true, deleted: 0, batches: 0 });
    expect(await remainingPrefixes()).toEqual({ expired: 4 });
    expect(store.metrics.snapshot().retention.skipped).toBeGreaterThanOrEqual(1);
    await other.query(store.sql.retentionUnlock);
  } finally {
    await other.release();
  }
  expect(await new RetentionJob(store).runOnce()).toMatchObject({ skipped: false, deleted: 4 });
});

it('two instances cleaning at once delete each expired key once between them', async () => {
  await seed('expired', 50, { status: 'done', expires: '-1 hour' });
  const runs = await Promise.all([
    new RetentionJob(store, { batchSize: 7 }).runOnce(),
    new RetentionJob(store, { batchSize: 7 }).runOnce(),
  ]);
  expect(runs.reduce((n, r) => n + r.deleted, 0)).toBe(50);
  expect(await remainingPrefixes()).toEqual({});
});

it('a key whose TTL passed is deleted, after which the same key would be handled again', async () => {
  await runIdempotent(store, { group: 'g', key: 'short-1', ttlMs: 1 }, () => undefined);
  await runIdempotent(store, { group: 'g', key: 'long-1' }, () => undefined);
  await waitFor(async () => {
    const rows = (await dataSource.query(
      `SELECT 1 FROM "${schema}".keys WHERE expires_at < now()`,
    )) as unknown[];
    return rows.length === 1;
  }, 'the short key to expire');
  expect(await new RetentionJob(store).runOnce()).toMatchObject({ deleted: 1 });
  expect(await remainingPrefixes()).toEqual({ long: 1 });
  expect(await runIdempotent(store, { group: 'g', key: 'short-1' }, () => 'again')).toMatchObject({
    status: 'processed',
  });
});

it('runs periodically once started, and stops', async () => {
  const job = new RetentionJob(store, { intervalMs: 20 });
  const runsBefore = store.metrics.snapshot().retention.runs;
  job.start();
  await waitFor(() => store.metrics.snapshot().retention.runs >= runsBefore + 2, 'two periodic runs');
  await job.stop();
  const stopped = store.metrics.snapshot().retention.runs;
  await seed('expired', 1, { status: 'done', expires: '-1 hour' });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(store.metrics.snapshot().retention.runs).toBe(stopped);
  expect(await remainingPrefixes()).toEqual({ expired: 1 });
});

it('refuses a non-positive batch size or interval', () => {
  expect(() => new RetentionJob(store, { batchSize: 0 })).toThrow(IdempotencyUsageError);
  expect(() => new RetentionJob(store, { intervalMs: -1 })).toThrow(IdempotencyUsageError);
});

import { DataSource, type EntityManager } from 'typeorm';
import {
  IdempotencyBusyError,
  IdempotencyStoreError,
  InvalidIdempotencyKeyError,
  PayloadMismatchError,
} from '../errors.js';
import { ensureIdempotencySchema } from '../schema/ensure-idempotency-schema.js';
import {
  createTestSchema,
  DATABASE_URL,
  dropTestSchema,
  openDataSource,
  waitFor,
} from '../testing/pg-fixture.js';
import { startTcpProxy } from '../testing/tcp-proxy.js';
import { IdempotencyStore } from './idempotency-store.js';
import { silentIdempotencyLogger } from './idempotency-logger.js';
import { payloadHashOf } from './payload-hash.js';
import { runIdempotent } from './run-idempotent.js';

let dataSource: DataSource;
let schema: string;
let store: IdempotencyStore;
let effects: string;

beforeAll(async () => {
  dataSource = await openDataSource();
  schema = await createTestSchema(dataSource, 'idem_tx');
  await ensureIdempotencySchema(dataSource, { table: `${schema}.keys` });
  effects = `"${schema}".effects`;
  await dataSource.query(`CREATE TABLE ${effects} (key text NOT NULL, note text)`);
  store = new IdempotencyStore(dataSource, { table: `${schema}.keys`, logger: silentIdempotencyLogger });
});

afterAll(async () => {
  await dropTestSchema(dataSource, schema);
  await dataSource.destroy();
});

async function effectCount(key: string): Promise<number> {
  const [row] = (await dataSource.query(`SELECT count(*)::int AS n FROM ${effects} WHERE key = $1`, [
    key,
  ])) as Array<{
    n: number;
  }>;
  return row!.n;
}

function insertEffect(key: string, note = '') {
  return async ({ manager }: { manager: EntityManager | undefined }): Promise<string> => {
    await manager!.query(`INSERT INTO ${effects} (key, note) VALUES ($1, $2)`, [key, note]);
    return note;
  };
}

/**
 * Resolves once a claim of `key` waits on a lock (blocked behind an open transaction). The claim
 * shows in pg_stat_activity as `START TRANSACTION …; EXECUTE <prepared>(…'<key>'…)`.
 */
async function someoneWaitsOnALock(key: string): Promise<void> {
  await waitFor(async () => {
    const rows = (await dataSource.query(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND strpos(query, $1) > 0`,
      [`'${key}'`],
    )) as Array<{ n: number }>;
    return rows[0]!.n > 0;
  }, `a claim of ${key} waiting on the unique index`);
}

/** Resolves once a handler wrote its effect and holds its transaction open. */
async function handlerInsideItsTransaction(): Promise<void> {
  await waitFor(async () => {
    const rows = (await dataSource.query(
      `SELECT 1 FROM pg_stat_activity WHERE query LIKE '%INSERT INTO "${schema}".effects%' AND state = 'idle in transaction'`,
    )) as unknown[];
    return rows.length > 0;
  }, 'the first handler inside its transaction');
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

it('runs the handler once and skips the redelivery of the same key', async () => {
  const before = store.metrics.snapshot().outcomes;
  const first = await runIdempotent(store, { group: 'g', key: 'orders:m1' }, insertEffect('orders:m1', 'a'));
  const second = await runIdempotent(store, { group: 'g', key: 'orders:m1' }, insertEffect('orders:m1', 'b'));
  expect(first).toEqual({ status: 'processed', value: 'a', attempt: 1, leaseLost: false });
  expect(second).toEqual({ status: 'duplicate', payloadMismatch: false });
  expect(await effectCount('orders:m1')).toBe(1);
  const after = store.metrics.snapshot().outcomes;
  expect(after.processed - before.processed).toBe(1);
  expect(after.duplicate - before.duplicate).toBe(1);
});

it('keeps keys per consumer group: another group handles the same message too', async () => {
  await runIdempotent(store, { group: 'g1', key: 'orders:m2' }, insertEffect('orders:m2'));
  const other = await runIdempotent(store, { group: 'g2', key: 'orders:m2' }, insertEffect('orders:m2'));
  expect(other.status).toBe('processed');
  expect(await effectCount('orders:m2')).toBe(2);
});

it('a handler failing on the first attempt leaves no key and no effect; the retry succeeds once', async () => {
  const key = 'orders:m3';
  const failing = runIdempotent(store, { group: 'g', key }, async (scope) => {
    await insertEffect(key)(scope);
    throw new Error('payment service down');
  });
  await expect(failing).rejects.toThrow('payment service down');
  expect(await effectCount(key)).toBe(0);
  const keys = (await dataSource.query(`SELECT 1 FROM "${schema}".keys WHERE idem_key = $1`, [
    key,
  ])) as unknown[];
  expect(keys).toHaveLength(0);
  const retry = await runIdempotent(store, { group: 'g', key }, insertEffect(key));
  expect(retry.status).toBe('processed');
  expect(await runIdempotent(store, { group: 'g', key }, insertEffect(key))).toMatchObject({
    status: 'duplicate',
  });
  expect(await effectCount(key)).toBe(1);
  expect(store.metrics.snapshot().outcomes.failed).toBeGreaterThanOrEqual(1);
});

it('a concurrent duplicate waits for the first transaction, then skips once it commits', async () => {
  const key = 'orders:m4';
  const g = gate();
  const first = runIdempotent(store, { group: 'g', key }, async (scope) => {
    await insertEffect(key)(scope);
    await g.opened;
  });
  await handlerInsideItsTransaction();
  let secondRan = false;
  const second = runIdempotent(store, { group: 'g', key }, async (scope) => {
    secondRan = true;
    await insertEffect(key)(scope);
  });
  await someoneWaitsOnALock(key);
  g.open();
  expect((await first).status).toBe('processed');
  expect(await second).toEqual({ status: 'duplicate', payloadMismatch: false });
  expect(secondRan).toBe(false);
  expect(await effectCount(key)).toBe(1);
});

it('a concurrent duplicate waiting behind a transaction that rolls back runs the handler itself', async () => {
  const key = 'orders:m5';
  const g = gate();
  const first = runIdempotent(store, { group: 'g', key }, async (scope) => {
    await insertEffect(key, 'first')(scope);
    await g.opened;
    throw new Error('first attempt fails');
  });
  await handlerInsideItsTransaction();
  const second = runIdempotent(store, { group: 'g', key }, insertEffect(key, 'second'));
  await someoneWaitsOnALock(key);
  g.open();
  await expect(first).rejects.toThrow('first attempt fails');
  expect(await second).toMatchObject({ status: 'processed', value: 'second' });
  const notes = (await dataSource.query(`SELECT note FROM ${effects} WHERE key = $1`, [key])) as Array<{
    note: string;
  }>;
  expect(notes).toEqual([{ note: 'second' }]);
});

it('a duplicate kept waiting past the lock timeout is busy (retry later), and never runs twice', async () => {
  const impatient = new IdempotencyStore(dataSource, {
    table: `${schema}.keys`,
    lockTimeoutMs: 200,
    logger: silentIdempotencyLogger,
  });
  const key = 'orders:m6';
  const g = gate();
  const first = runIdempotent(store, { group: 'g', key }, async (scope) => {
    await insertEffect(key)(scope);
    await g.opened;
  });
  await handlerInsideItsTransaction();
  const busy = runIdempotent(impatient, { group: 'g', key }, insertEffect(key));
  await expect(busy).rejects.toBeInstanceOf(IdempotencyBusyError);
  await expect(busy).rejects.toMatchObject({ retryable: true, code: 42900 });
  expect(impatient.metrics.snapshot().outcomes.busy).toBe(1);
  g.open();
  await first;
  expect(await runIdempotent(impatient, { group: 'g', key }, insertEffect(key))).toMatchObject({
    status: 'duplicate',
  });
  expect(await effectCount(key)).toBe(1);
});

describe('the same key with a different payload', () => {
  const hashA = payloadHashOf({ order: 1, amount: 10 });
  const hashB = payloadHashOf({ amount: 99, order: 1 });

  it('is skipped, logged and counted by default', async () => {
    const warnings: string[] = [];
    const s = new IdempotencyStore(dataSource, {
      table: `${schema}.keys`,
      logger: { ...silentIdempotencyLogger, warn: (m) => warnings.push(m) },
    });
    await runIdempotent(s, { group: 'g', key: 'order-1', payloadHash: hashA }, insertEffect('order-1'));
    const again = await runIdempotent(
      s,
      { group: 'g', key: 'order-1', payloadHash: payloadHashOf({ amount: 10, order: 1 }) },
      insertEffect('order-1'),
    );
    expect(again).toEqual({ status: 'duplicate', payloadMismatch: false }); // same object, other key order
    const other = await runIdempotent(
      s,
      { group: 'g', key: 'order-1', payloadHash: hashB },
      insertEffect('order-1'),
    );
    expect(other).toEqual({ status: 'duplicate', payloadMismatch: true });
    expect(await effectCount('order-1')).toBe(1);
    expect(s.metrics.snapshot().outcomes.payload_mismatch).toBe(1);
    expect(warnings.join('\n')).toContain('g/order-1 came back with a different payload hash');
  });

  it("fails on every delivery under 'fail' (not retryable: it ends in the DLQ)", async () => {
    await runIdempotent(store, { group: 'g', key: 'order-2', payloadHash: hashA }, insertEffect('order-2'));
    const refused = runIdempotent(
      store,
      { group: 'g', key: 'order-2', payloadHash: hashB, onPayloadMismatch: 'fail' },
      insertEffect('order-2'),
    );
    await expect(refused).rejects.toBeInstanceOf(PayloadMismatchError);
    await expect(refused).rejects.toMatchObject({ retryable: false });
    expect(await effectCount('order-2')).toBe(1);
  });

  it("runs again under 'process', once per new payload", async () => {
    const call = { group: 'g', key: 'order-3', onPayloadMismatch: 'process' as const };
    await runIdempotent(store, { ...call, payloadHash: hashA }, insertEffect('order-3'));
    const changed = await runIdempotent(store, { ...call, payloadHash: hashB }, insertEffect('order-3'));
    expect(changed).toMatchObject({ status: 'processed', attempt: 2 });
    expect(
      await runIdempotent(store, { ...call, payloadHash: hashB }, insertEffect('order-3')),
    ).toMatchObject({ status: 'duplicate' });
    expect(await effectCount('order-3')).toBe(2);
  });
});

it('refuses empty and over-long keys before touching Postgres', async () => {
  let ran = false;
  const handler = (): void => {
    ran = true;
  };
  await expect(runIdempotent(store, { group: 'g', key: '' }, handler)).rejects.toBeInstanceOf(
    InvalidIdempotencyKeyError,
  );
  await expect(runIdempotent(store, { group: '', key: 'k' }, handler)).rejects.toBeInstanceOf(
    InvalidIdempotencyKeyError,
  );
  await expect(runIdempotent(store, { group: 'g', key: 'x'.repeat(256) }, handler)).rejects.toMatchObject({
    code: 40005,
    retryable: false,
  });
  expect(ran).toBe(false);
});

describe('when Postgres goes away', () => {
  it('fails closed before the handler when it cannot be reached', async () => {
    const proxy = await startTcpProxy('127.0.0.1', Number(new URL(DATABASE_URL).port || 5432));
    const url = new URL(DATABASE_URL);
    url.port = String(proxy.port);
    const remote = await new DataSource({ type: 'postgres', url: url.toString(), poolSize: 2 }).initialize();
    const s = new IdempotencyStore(remote, { table: `${schema}.keys`, logger: silentIdempotencyLogger });
    await proxy.refuse();
    let ran = false;
    const call = runIdempotent(s, { group: 'g', key: 'orders:m7' }, () => {
      ran = true;
    });
    await expect(call).rejects.toBeInstanceOf(IdempotencyStoreError);
    expect(ran).toBe(false);
    await remote.destroy().catch(() => undefined);
  });

  it('does not report success when the COMMIT gets no answer; the redelivery then runs once', async () => {
    const proxy = await startTcpProxy('127.0.0.1', Number(new URL(DATABASE_URL).port || 5432));
    const url = new URL(DATABASE_URL);
    url.port = String(proxy.port);
    const remote = await new DataSource({ type: 'postgres', url: url.toString(), poolSize: 2 }).initialize();
    const s = new IdempotencyStore(remote, { table: `${schema}.keys`, logger: silentIdempotencyLogger });
    const key = 'orders:m8';
    const cutBeforeCommit = runIdempotent(s, { group: 'g', key }, async (scope) => {
      await insertEffect(key)(scope);
      proxy.cut(); // the COMMIT that follows goes nowhere
    });
    await expect(cutBeforeCommit).rejects.toBeInstanceOf(IdempotencyStoreError);
    await expect(cutBeforeCommit).rejects.toThrow(/outcome unknown/);
    // Postgres rolled the transaction back when the connection dropped: the retry runs it.
    const retry = await runIdempotent(s, { group: 'g', key }, insertEffect(key));
    expect(retry.status).toBe('processed');
    expect(await effectCount(key)).toBe(1);
    await remote.destroy();
    await proxy.close();
  });
});

describe('the claim transaction as TypeORM sees it', () => {
  it('a nested manager.transaction() in the handler is a savepoint: a later failure still rolls everything back', async () => {
    const key = 'orders:nested';
    const failing = runIdempotent(store, { group: 'g', key }, async ({ manager }) => {
      await manager!.transaction(async (inner) => {
        await inner.query(`INSERT INTO ${effects} (key, note) VALUES ($1, 'inner')`, [key]);
      });
      throw new Error('after the inner transaction');
    });
    await expect(failing).rejects.toThrow('after the inner transaction');
    expect(await effectCount(key)).toBe(0);
    const ok = await runIdempotent(store, { group: 'g', key }, async ({ manager }) => {
      await manager!.transaction((inner) => inner.query(`INSERT INTO ${effects} (key) VALUES ($1)`, [key]));
    });
    expect(ok.status).toBe('processed');
    expect(await effectCount(key)).toBe(1);
  });

  it('a COMMIT refused by Postgres (deferred constraint) rolls back key and effects, rethrows its error, and the retry runs once', async () => {
    const checked = `"${schema}".deferred_once`;
    await dataSource.query(
      `CREATE TABLE IF NOT EXISTS ${checked} (id int UNIQUE DEFERRABLE INITIALLY DEFERRED)`,
    );
    const key = 'orders:refused-commit';
    const refused = runIdempotent(store, { group: 'g', key }, async ({ manager }) => {
      await insertEffect(key)({ manager });
      await manager!.query(`INSERT INTO ${checked} (id) VALUES (1), (1)`); // checked only at COMMIT
    });
    await expect(refused).rejects.toMatchObject({ code: '23505' });
    expect(await effectCount(key)).toBe(0);
    const retry = await runIdempotent(store, { group: 'g', key }, insertEffect(key));
    expect(retry.status).toBe('processed');
    expect(await effectCount(key)).toBe(1);
  });

  it('statements DEALLOCATEd under the store fail that one claim (nothing runs); the retry prepares them again and runs once', async () => {
    const single = await new DataSource({ type: 'postgres', url: DATABASE_URL, poolSize: 1 }).initialize();
    const s = new IdempotencyStore(single, { table: `${schema}.keys`, logger: silentIdempotencyLogger });
    expect(
      (await runIdempotent(s, { group: 'g', key: 'orders:dealloc-1' }, insertEffect('orders:dealloc-1')))
        .status,
    ).toBe('processed');
    await single.query('DEALLOCATE ALL'); // the pool's one connection: the one the store prepared on
    const key = 'orders:dealloc-2';
    let ran = false;
    const failed = runIdempotent(s, { group: 'g', key }, async (scope) => {
      ran = true;
      await insertEffect(key)(scope);
    });
    await expect(failed).rejects.toBeInstanceOf(IdempotencyStoreError);
    expect(ran).toBe(false);
    expect((await runIdempotent(s, { group: 'g', key }, insertEffect(key))).status).toBe('processed');
    expect(await effectCount(key)).toBe(1);
    await single.destroy();
  });

  it.each([true, false])(
    'preparedStatements %s: new key processed, redelivery skipped, in both modes; statements prepared on the session only when asked',
    async (preparedStatements) => {
      const single = await new DataSource({ type: 'postgres', url: DATABASE_URL, poolSize: 1 }).initialize();
      const s = new IdempotencyStore(single, {
        table: `${schema}.keys`,
        logger: silentIdempotencyLogger,
        preparedStatements,
      });
      for (const mode of ['transaction', 'lease'] as const) {
        const key = `orders:prepared-${String(preparedStatements)}-${mode}`;
        const write = async (): Promise<void> => {
          await dataSource.query(`INSERT INTO ${effects} (key) VALUES ($1)`, [key]);
        };
        expect(
          (await runIdempotent(s, { group: 'g', key, mode, payloadHash: payloadHashOf(key) }, write)).status,
        ).toBe('processed');
        expect(
          (await runIdempotent(s, { group: 'g', key, mode, payloadHash: payloadHashOf(key) }, write)).status,
        ).toBe('duplicate');
        expect(await effectCount(key)).toBe(1);
      }
      const [row] = (await single.query(
        `SELECT count(*)::int AS n FROM pg_prepared_statements WHERE name LIKE 'rocketnest_idem_%'`,
      )) as Array<{ n: number }>;
      expect(row!.n > 0).toBe(preparedStatements);
      await single.destroy();
    },
  );

  it('keys and groups with quotes, backslashes and unicode are stored and matched exactly', async () => {
    const key = `o'reilly\\x00 "quoted" — ключ ${'\u{1F680}'}`;
    const group = `g'\\`;
    const hash = payloadHashOf('body');
    expect(await runIdempotent(store, { group, key, payloadHash: hash }, insertEffect(key))).toMatchObject({
      status: 'processed',
    });
    expect(await runIdempotent(store, { group, key, payloadHash: hash }, insertEffect(key))).toEqual({
      status: 'duplicate',
      payloadMismatch: false,
    });
    const rows = (await dataSource.query(
      `SELECT consumer_group, idem_key, payload_hash FROM "${schema}".keys WHERE idem_key = $1`,
      [key],
    )) as Array<{ consumer_group: string; idem_key: string; payload_hash: Buffer }>;
    expect(rows).toEqual([{ consumer_group: group, idem_key: key, payload_hash: hash }]);
  });
});

import { DataSource } from 'typeorm';
import { IdempotencyBusyError, IdempotencyStoreError } from '../errors.js';
import { IdempotencyMetrics } from '../metrics/idempotency-metrics.js';
import { ensureIdempotencySchema } from '../schema/ensure-idempotency-schema.js';
import {
  createTestSchema,
  DATABASE_URL,
  dropTestSchema,
  openDataSource,
  waitFor,
} from '../testing/pg-fixture.js';
import { portOf, startTcpProxy, viaPort, type TcpProxy } from '../testing/tcp-proxy.js';
import { silentIdempotencyLogger } from './idempotency-logger.js';
import { IdempotencyStore } from './idempotency-store.js';
import { payloadHashOf } from './payload-hash.js';
import { runIdempotent } from './run-idempotent.js';

let dataSource: DataSource;
let schema: string;
let table: string;
let store: IdempotencyStore;
const opened: Array<{ remote: DataSource; proxy: TcpProxy }> = [];

beforeAll(async () => {
  dataSource = await openDataSource();
  schema = await createTestSchema(dataSource, 'idem_lease');
  table = `${schema}.keys`;
  await ensureIdempotencySchema(dataSource, { table });
  store = new IdempotencyStore(dataSource, { table, mode: 'lease', logger: silentIdempotencyLogger });
});

afterAll(async () => {
  for (const { remote, proxy } of opened) {
    await proxy.close();
    await remote.destroy().catch(() => undefined);
  }
  await dropTestSchema(dataSource, schema);
  await dataSource.destroy();
});

/** A second consumer instance whose connection to Postgres the test can pause or cut. */
async function remoteStore(options: { leaseMs?: number; metrics?: IdempotencyMetrics } = {}) {
  const proxy = await startTcpProxy('127.0.0.1', portOf(DATABASE_URL));
  const remote = await new DataSource({
    type: 'postgres',
    url: viaPort(DATABASE_URL, proxy.port),
    poolSize: 4,
  }).initialize();
  opened.push({ remote, proxy });
  const s = new IdempotencyStore(remote, {
    table,
    mode: 'lease',
    logger: silentIdempotencyLogger,
    ...options,
  });
  return { store: s, proxy };
}

interface KeyRow {
  status: string;
  lease_owner: string | null;
  lease_until: Date | null;
  attempts: number;
}

async function row(key: string): Promise<KeyRow | undefined> {
  const rows = (await dataSource.query(
    `SELECT status, lease_owner, lease_until, attempts FROM "${schema}".keys WHERE idem_key = $1`,
    [key],
  )) as KeyRow[];
  return rows[0];
}

function gate(): { opened: Promise<void>; open: () => void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

it('claims, runs and marks the key done; a redelivery is skipped', async () => {
  let runs = 0;
  const handler = ({ leaseOwner, manager }: { leaseOwner: string | undefined; manager: unknown }) => {
    runs += 1;
    expect(leaseOwner).toMatch(/^[0-9a-f-]{36}$/);
    expect(manager).toBeUndefined();
    return 'sent';
  };
  expect(await runIdempotent(store, { group: 'g', key: 'mail:1' }, handler)).toEqual({
    status: 'processed',
    value: 'sent',
    attempt: 1,
    leaseLost: false,
  });
  expect(await runIdempotent(store, { group: 'g', key: 'mail:1' }, handler)).toMatchObject({
    status: 'duplicate',
  });
  expect(runs).toBe(1);
  expect(await row('mail:1')).toMatchObject({ status: 'done', lease_until: null, attempts: 1 });
});

it('releases the key when the handler fails, so the retry claims it at once', async () => {
  await expect(
    runIdempotent(store, { group: 'g', key: 'mail:2' }, () => {
      throw new Error('smtp down');
    }),
  ).rejects.toThrow('smtp down');
  expect(await row('mail:2')).toBeUndefined();
  expect(await runIdempotent(store, { group: 'g', key: 'mail:2' }, () => 'ok')).toMatchObject({
    status: 'processed',
    attempt: 1,
  });
});

it("a crashed holder's lease is taken over only after it expired", async () => {
  const leaseMs = 2_000;
  const holder = await remoteStore({ leaseMs });
  const g = gate();
  let holderRunning = false;
  const crashed = runIdempotent(holder.store, { group: 'g', key: 'mail:3' }, async () => {
    holderRunning = true;
    await g.opened;
  });
  await waitFor(() => holderRunning, 'the holder running');
  await holder.proxy.refuse(); // the holder is gone: no renewal, no completion, no release
  const lastLease = (await row('mail:3'))!;

  const takeovers = store.metrics.snapshot().outcomes.takeover;
  let busy = 0;
  let result;
  let takenOverLease: KeyRow | undefined;
  for (;;) {
    try {
      result = await runIdempotent(store, { group: 'g', key: 'mail:3', leaseMs }, async () => {
        takenOverLease = await row('mail:3');
        return 'taken over';
      });
      break;
    } catch (err) {
      expect(err).toBeInstanceOf(IdempotencyBusyError);
      busy += 1;
      await sleep(100);
    }
  }
  expect(busy).toBeGreaterThan(0);
  expect(result).toMatchObject({ status: 'processed', value: 'taken over', attempt: 2 });
  expect(store.metrics.snapshot().outcomes.takeover - takeovers).toBe(1);
  expect(takenOverLease!.lease_owner).not.toBe(lastLease.lease_owner);
  // The takeover's lease began (its statement's now() = lease_until - leaseMs) no earlier than the
  // crashed holder's lease ended.
  const takeoverAt = takenOverLease!.lease_until!.getTime() - leaseMs;
  expect(takeoverAt).toBeGreaterThanOrEqual(lastLease.lease_until!.getTime());

  g.open(); // the old holder wakes up and cannot mark anything: not acked
  await expect(crashed).rejects.toBeInstanceOf(IdempotencyStoreError);
});

it('two live claimants never both run, even when the handler outlasts the lease (it is renewed)', async () => {
  const leaseMs = 1_000;
  const shared = new IdempotencyMetrics();
  const a = new IdempotencyStore(dataSource, {
    table,
    mode: 'lease',
    leaseMs,
    metrics: shared,
    logger: silentIdempotencyLogger,
  });
  const b = (await remoteStore({ leaseMs, metrics: shared })).store;
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const handler = async () => {
    running += 1;
    runs += 1;
    maxRunning = Math.max(maxRunning, running);
    await sleep(3 * leaseMs); // three leases long: only renewals keep the others out
    running -= 1;
  };
  const claimant = async (s: IdempotencyStore): Promise<string> => {
    for (;;) {
      try {
        return (await runIdempotent(s, { group: 'g', key: 'mail:4' }, handler)).status;
      } catch (err) {
        if (!(err instanceof IdempotencyBusyError)) throw err;
        await sleep(50);
      }
    }
  };
  const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => claimant(i % 2 === 0 ? a : b)));
  expect(runs).toBe(1);
  expect(maxRunning).toBe(1);
  expect(outcomes.filter((o) => o === 'processed')).toHaveLength(1);
  expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(9);
  expect(shared.snapshot().outcomes).toMatchObject({ processed: 1, duplicate: 9, takeover: 0 });
  expect(shared.snapshot().outcomes.busy).toBeGreaterThan(0);
});

it('a holder frozen past its lease finds it taken over: lost lease, logged and counted', async () => {
  const leaseMs = 1_000;
  const errors: string[] = [];
  const frozen = await remoteStore({ leaseMs });
  const frozenStore = new IdempotencyStore(frozen.store.dataSource, {
    table,
    mode: 'lease',
    leaseMs,
    logger: { ...silentIdempotencyLogger, error: (m) => errors.push(m) },
  });
  const g = gate();
  let started = false;
  const first = runIdempotent(frozenStore, { group: 'g', key: 'mail:5' }, async () => {
    started = true;
    await g.opened;
    return 'first';
  });
  await waitFor(() => started, 'the first holder running');
  frozen.proxy.pause(); // its renewals stop reaching Postgres
  let second;
  for (;;) {
    try {
      second = await runIdempotent(store, { group: 'g', key: 'mail:5', leaseMs }, () => 'second');
      break;
    } catch (err) {
      expect(err).toBeInstanceOf(IdempotencyBusyError);
      await sleep(100);
    }
  }
  expect(second).toMatchObject({ status: 'processed', attempt: 2 });
  frozen.proxy.resume();
  g.open();
  expect(await first).toMatchObject({ status: 'processed', value: 'first', leaseLost: true });
  expect(frozenStore.metrics.snapshot().outcomes.lost_lease).toBe(1);
  expect(errors.join('\n')).toContain('taken over while its handler ran');
  expect(await row('mail:5')).toMatchObject({ status: 'done', attempts: 2 });
});

it('fails closed: with Postgres unreachable the handler does not run', async () => {
  const gone = await remoteStore();
  await gone.proxy.refuse();
  let ran = false;
  const call = runIdempotent(gone.store, { group: 'g', key: 'mail:6' }, () => {
    ran = true;
  });
  await expect(call).rejects.toBeInstanceOf(IdempotencyStoreError);
  await expect(call).rejects.toMatchObject({ retryable: true });
  expect(ran).toBe(false);
});

it("re-runs a done key with a new payload under 'process', and skips it under 'skip'", async () => {
  const call = { group: 'g', key: 'mail:7' };
  await runIdempotent(store, { ...call, payloadHash: payloadHashOf('v1') }, () => 'v1');
  expect(await runIdempotent(store, { ...call, payloadHash: payloadHashOf('v2') }, () => 'v2')).toEqual({
    status: 'duplicate',
    payloadMismatch: true,
  });
  expect(
    await runIdempotent(
      store,
      { ...call, payloadHash: payloadHashOf('v2'), onPayloadMismatch: 'process' },
      () => 'v2',
    ),
  ).toMatchObject({ status: 'processed', value: 'v2', attempt: 2 });
  expect(await row('mail:7')).toMatchObject({ status: 'done', attempts: 2 });
});

/**
 * The whole sample for e2e tests: the launcher's own `startSample` (one embedded broker, the three
 * services as Nest applications on ephemeral ports), each service on a fresh database of the real
 * PostgreSQL (127.0.0.1:5432, trust auth; `DATABASE_URL` names the server), dropped at the end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { requestJson, type JsonResponse } from '../../../shared/src/testing/http-json.js';
import {
  startSample,
  type RunningSample,
  type ServiceName,
  type StartSampleOptions,
} from '../start-sample.js';

export const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `SERVER_URL` with another database name. */
export function databaseUrl(database: string): string {
  const url = new URL(SERVER_URL);
  url.pathname = `/${database}`;
  return url.toString();
}

export interface SampleFixture extends RunningSample {
  /** Postgres URL of each service's database. */
  readonly databases: Readonly<Record<ServiceName, string>>;
  /** Runs SQL in a service's database. */
  sql<T = Record<string, unknown>>(service: ServiceName, text: string, params?: unknown[]): Promise<T[]>;
  /** Closes the sample, then drops its databases and data directory. */
  stop(): Promise<void>;
}

const SERVICES: readonly ServiceName[] = ['order', 'payment', 'notification'];

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/**
 * Starts the sample on fresh databases. `env` overrides the demo defaults (ports are always
 * ephemeral, the broker always embedded).
 */
export async function startSampleFixture(
  prefix: string,
  env: NodeJS.ProcessEnv = {},
  options: Pick<StartSampleOptions, 'broker'> = {},
): Promise<SampleFixture> {
  const suffix = randomBytes(4).toString('hex');
  const names = Object.fromEntries(SERVICES.map((s) => [s, `${prefix}_${s}_${suffix}`])) as Record<
    ServiceName,
    string
  >;
  await admin(async (client) => {
    for (const name of Object.values(names)) await client.query(`CREATE DATABASE "${name}"`);
  });
  const databases = Object.fromEntries(SERVICES.map((s) => [s, databaseUrl(names[s])])) as Record<
    ServiceName,
    string
  >;
  const dataDir = mkdtempSync(join(tmpdir(), `rocketnest-${prefix}-`));
  const pools = Object.fromEntries(
    SERVICES.map((s) => [s, new pg.Pool({ connectionString: databases[s], max: 2 })]),
  ) as Record<ServiceName, pg.Pool>;
  const dropAll = async () => {
    await Promise.all(Object.values(pools).map((p) => p.end()));
    await admin(async (client) => {
      for (const name of Object.values(names))
        await client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    });
    rmSync(dataDir, { recursive: true, force: true });
  };
  let sample: RunningSample;
  try {
    const processEnv = { ...process.env };
    delete processEnv.ROCKETMQ_ENDPOINTS;
    delete processEnv.DATABASE_URL;
    delete processEnv.BROKER_ADMIN_URL;
    sample = await startSample({
      env: {
        ...processEnv,
        SAMPLE_DATA_DIR: dataDir,
        ORDER_PORT: '0',
        PAYMENT_PORT: '0',
        NOTIFICATION_PORT: '0',
        // No weather unless a test asks for it.
        PAYMENT_LATENCY_MS: '0',
        PAYMENT_FAILURE_RATE: '0',
        ORDER_DUPLICATE_RATE: '0',
        PAYMENT_DUPLICATE_RATE: '0',
        PAYMENT_RETRY_BACKOFF_MS: '100',
        ...env,
      },
      serviceEnv: {
        order: { DATABASE_URL: databases.order },
        payment: { DATABASE_URL: databases.payment },
        notification: { DATABASE_URL: databases.notification },
      },
      logger: false,
      brokerLogger: {
        log: () => undefined,
        warn: () => undefined,
        error: (m) => console.error(`[broker] ${m}`),
      },
      ...options,
    });
  } catch (err) {
    await dropAll();
    throw err;
  }
  return {
    ...sample,
    databases,
    async sql<T>(service: ServiceName, text: string, params: unknown[] = []) {
      return (await pools[service].query(text, params)).rows as T[];
    },
    async stop() {
      try {
        await sample.close();
      } finally {
        await dropAll();
      }
    },
  };
}

/** Polls `condition` until it holds (no fixed sleeps: the machine is shared and slow at times). */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One request's bound in the in-process sample tests (three services share this process). */
const SAMPLE_REQUEST_TIMEOUT_MS = 30_000;

export function http<T = unknown>(
  method: 'GET' | 'POST',
  url: string,
  body?: unknown,
): Promise<JsonResponse<T>> {
  return requestJson<T>(method, url, body, SAMPLE_REQUEST_TIMEOUT_MS);
}

/** The order as `GET /orders/:id` shows it. */
export interface OrderAnswer {
  readonly id: string;
  readonly status: string;
  readonly refundRequired: boolean;
  readonly history: ReadonlyArray<{ seq: number; from: string | null; to: string; event: string }>;
}

export const FINAL_STATUSES = ['PAID', 'FAILED', 'CANCELLED'];

/** Waits until the order's status is one of `statuses`; resolves with the order. */
export function orderIn(sample: RunningSample, id: string, statuses: readonly string[], timeoutMs = 60_000) {
  return waitFor(
    async () => {
      const { status, body } = await http<OrderAnswer>('GET', `${sample.urls.order}/orders/${id}`);
      return status === 200 && statuses.includes(body.status) ? body : undefined;
    },
    `order ${id} in ${statuses.join('/')}`,
    timeoutMs,
  );
}

export const AN_ORDER = { userId: 'alice', items: [{ sku: 'book', qty: 2, price: 12.5 }], amount: 25 };

/** `POST /orders` (created: 201); resolves with the new order. */
export async function placeOrder(sample: RunningSample, body: unknown = AN_ORDER): Promise<OrderAnswer> {
  const { status, body: answer } = await http<OrderAnswer>('POST', `${sample.urls.order}/orders`, body);
  expect(status).toBe(201);
  return answer;
}

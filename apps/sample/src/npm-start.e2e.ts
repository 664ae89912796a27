/**
 * `npm start` on a fresh checkout: the launcher as its own process, without DATABASE_URL or
 * ROCKETMQ_ENDPOINTS — an embedded broker and PGlite — prints where it listens, serves an order to
 * PAID, closes cleanly on Ctrl-C, and finds the order again when started a second time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AN_ORDER, FINAL_STATUSES, http, waitFor, type OrderAnswer } from './testing/sample-fixture.js';

const MAIN = join(import.meta.dirname, 'main.ts');
const dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-npm-start-'));

interface Launched {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<number | null>;
}

function launch(): Launched {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SAMPLE_DATA_DIR: dataDir,
    ORDER_PORT: '0',
    PAYMENT_PORT: '0',
    NOTIFICATION_PORT: '0',
  };
  for (const name of ['DATABASE_URL', 'ROCKETMQ_ENDPOINTS', 'BROKER_ADMIN_URL', 'PGLITE_DATA_DIR', 'PORT'])
    delete env[name];
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', MAIN], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

async function orderUrlOf(launched: Launched): Promise<string> {
  return waitFor(
    () => {
      if (launched.child.exitCode !== null) throw new Error(`the launcher exited:\n${launched.output()}`);
      return /order-service\s+(http:\/\/localhost:\d+)/.exec(launched.output())?.[1];
    },
    'the banner',
    180_000,
  );
}

async function stop(launched: Launched): Promise<number | null> {
  launched.child.kill('SIGINT');
  return launched.exited;
}

let running: Launched | undefined;

afterAll(async () => {
  if (running?.child.exitCode === null) await stop(running);
  rmSync(dataDir, { recursive: true, force: true });
});

it('starts without DATABASE_URL or a broker, prints the URL and a curl, serves an order to PAID, and exits 0 on SIGINT', async () => {
  running = launch();
  const url = await orderUrlOf(running);
  expect(running.output()).toContain(`curl -s -X POST ${url}/orders`);
  const { status, body } = await http<OrderAnswer>('POST', `${url}/orders`, AN_ORDER);
  expect(status).toBe(201);
  const order = await waitFor(
    async () => {
      const answer = await http<OrderAnswer>('GET', `${url}/orders/${body.id}`);
      return FINAL_STATUSES.includes(answer.body.status) ? answer.body : undefined;
    },
    'the order settled',
    120_000,
  );
  expect(order.status).toBe('PAID');
  for (const service of ['broker', 'order-service', 'payment-service', 'notification-service']) {
    expect(existsSync(join(dataDir, service))).toBe(true);
  }
  expect(await stop(running)).toBe(0);
  expect(running.output()).toContain('closed: store flushed and checkpointed');

  // Started again on the same data: the migrations are already applied, the order is still PAID.
  running = launch();
  const again = await orderUrlOf(running);
  const reread = await http<OrderAnswer>('GET', `${again}/orders/${body.id}`);
  expect(reread.body.status).toBe('PAID');
  expect(await stop(running)).toBe(0);
}, 420_000);

/**
 * The README's first command: `npm start` on a fresh clone, with nothing but Node — no
 * DATABASE_URL (PGlite), no ROCKETMQ_ENDPOINTS (the built-in broker, embedded) — serves an order
 * to PAID.
 *
 * The clone is the files git would give (tracked and new, not ignored) copied from this working
 * tree into a temporary directory, with the installed node_modules linked in (`npm ci` is what the
 * README runs before; repeating it here would only re-download the same lockfile). `npm start`
 * builds that copy and starts it; only the HTTP ports are set (0: any free port), so the test does
 * not collide with a sample already running on 3000-3002.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getJson, requestJson } from '../../apps/shared/src/testing/http-json.js';
import { historyProblems, type OrderWithHistory } from './support/order-history.js';
import { orderRequest } from './support/orders.js';
import { pollUntil, ProcessGroup, REPO_ROOT, type ServiceProcess } from './support/service-process.js';

/** Build from scratch plus three apps and a broker, on a loaded 2-core machine. */
const START_TIMEOUT_MS = 180_000;
const PAID_TIMEOUT_MS = 120_000;

/** Copies the files a clone of the working tree would have into a new temporary directory. */
function freshCloneOfWorkingTree(): string {
  const dir = mkdtempSync(join(tmpdir(), 'rn-npm-start-'));
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  })
    .split('\0')
    .filter((f) => f !== '');
  for (const file of files) {
    const from = join(REPO_ROOT, file);
    if (!existsSync(from)) continue; // deleted in the working tree, not yet committed
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    copyFileSync(from, join(dir, file));
  }
  symlinkSync(join(REPO_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
  return dir;
}

describe('npm start on a fresh clone (no DATABASE_URL, no broker)', () => {
  const processes = new ProcessGroup();
  let clone: string | undefined;

  afterAll(async () => {
    await processes.stopAll();
    if (clone !== undefined) rmSync(clone, { recursive: true, force: true });
  }, 60_000);

  it(
    'builds, starts the whole sample on the embedded broker and PGlite, prints the URLs, and serves an order to PAID',
    async () => {
      clone = freshCloneOfWorkingTree();
      expect(existsSync(join(clone, 'dist'))).toBe(false);
      expect(existsSync(join(clone, 'data'))).toBe(false);

      const sample: ServiceProcess = processes.start({
        label: 'npm start',
        command: 'npm',
        args: ['start'],
        cwd: clone,
        env: { ORDER_PORT: '0', PAYMENT_PORT: '0', NOTIFICATION_PORT: '0' },
        processGroup: true,
      });
      const order = await sample.waitForLine(/order-service\s+(http:\/\/\S+)/, START_TIMEOUT_MS);
      const orderUrl = order[1]!;
      // The banner's example is a command the reader can paste.
      await sample.waitForLine(/curl -s -X POST .*\/orders -H 'content-type: application\/json' -d '\{/);

      const created = await requestJson<{ id: string; status: string }>(
        'POST',
        `${orderUrl}/orders`,
        orderRequest(1),
      );
      expect(created.status).toBe(201);
      expect(created.body.status).toBe('PENDING');
      const paid = await pollUntil(
        'the order PAID',
        async () => {
          const found = await getJson<OrderWithHistory>(`${orderUrl}/orders/${created.body.id}`);
          return found.status === 'PAID' ? found : undefined;
        },
        PAID_TIMEOUT_MS,
        () => sample.tail(),
      );
      expect(paid.history.map((h) => h.to)).toEqual(['PENDING', 'PAID']);
      expect(historyProblems(paid)).toEqual([]);
      // Embedded defaults: the broker's store and each service's PGlite database live in the clone.
      for (const dir of ['broker', 'order-service', 'payment-service', 'notification-service']) {
        expect({ dir, exists: existsSync(join(clone, 'data', 'sample', dir)) }).toEqual({
          dir,
          exists: true,
        });
      }

      // Ctrl-C closes the services, then the broker, and the process ends.
      sample.signal('SIGINT');
      const exit = await Promise.race([
        sample.exited,
        new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 30_000).unref()),
      ]);
      expect(exit).not.toBe('still running');
    },
    START_TIMEOUT_MS + PAID_TIMEOUT_MS + 60_000,
  );
});

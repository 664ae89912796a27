import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startBrokerProcess } from './broker-process.js';
import { runMarkedChild } from './child-process.js';

describe('bench broker process', () => {
  const root = mkdtempSync(join(tmpdir(), 'rocketnest-bench-broker-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('says when the broker dies on its own, and nothing when the bench stops it', async () => {
    const killed = await startBrokerProcess({ root, flush: 'sync' });
    process.kill(killed.pid, 'SIGKILL');
    await expect(killed.died).resolves.toMatch(/exited \(SIGKILL\) on its own/);
    await killed.stop();

    const stopped = await startBrokerProcess({ root, flush: 'async' });
    await stopped.stop();
    const outcome = await Promise.race([
      stopped.died,
      new Promise((r) => setTimeout(() => r('silent'), 500)),
    ]);
    expect(outcome).toBe('silent');
  }, 180_000);

  it('runs the flush mode the bench asked for, whatever BROKER_FLUSH the extra settings say', async () => {
    // The start checks the broker's own "(sync flush)" line, and throws when it says otherwise.
    const broker = await startBrokerProcess({ root, flush: 'sync', env: { BROKER_FLUSH: 'async' } });
    await broker.stop();
  }, 120_000);

  it('stops a bench child at once when told to (its server died), with the reason', async () => {
    const abort = new AbortController();
    const run = runMarkedChild({
      args: ['-e', 'setInterval(() => {}, 1000)'],
      marker: 'X ',
      timeoutMs: 60_000,
      label: 'hanging child',
      signal: abort.signal,
    });
    abort.abort(new Error('broker process 1 exited (SIGKILL) on its own'));
    await expect(run).rejects.toThrow('hanging child stopped: broker process 1 exited (SIGKILL) on its own');
  });
});

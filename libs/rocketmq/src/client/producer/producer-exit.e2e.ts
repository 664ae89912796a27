import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startBroker, type BrokerFixture } from '../testing/broker-fixture.js';
import { startSilentServer } from '../testing/silent-server.js';

const CHILD = fileURLToPath(new URL('./producer-exit.child.ts', import.meta.url));

/** Runs the child; resolves with its exit code and output, or null when it had to be killed. */
function runChild(
  input: object,
  limitMs: number,
): Promise<{ code: number | null; out: string; killed: boolean }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--import', '@swc-node/register/esm-register', CHILD, JSON.stringify(input)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, limitMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, killed });
    });
  });
}

describe('a process using the producer', () => {
  let fx: BrokerFixture;
  beforeAll(async () => {
    fx = await startBroker();
  });
  afterAll(() => fx.close());

  it('exits by itself after close(), having sent its messages', async () => {
    const result = await runChild({ endpoint: fx.endpoint, mode: 'send' }, 15_000);
    expect(result.killed).toBe(false);
    expect(result.code).toBe(0);
    expect(result.out).toMatch(/^sent 01[0-9A-F]{32}$/m);
  });

  it('exits by itself after a failed start against a silent endpoint', async () => {
    const silent = await startSilentServer();
    try {
      const result = await runChild({ endpoint: silent.endpoint, mode: 'failed-start' }, 15_000);
      expect(result.killed).toBe(false);
      expect(result.code).toBe(0);
      expect(result.out).toMatch(/failed StartupTimeoutError/);
    } finally {
      await silent.close();
    }
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { adminRequest } from '@rocketnest/broker/admin/admin-testing.js';

const ROOT = join(import.meta.dirname, '..', '..', '..');
const MAIN = join('apps', 'broker', 'src', 'main.ts');
const READY = /ready: RocketMQ gRPC on 127\.0\.0\.1:(\d+) .*admin API on http:\/\/127\.0\.0\.1:(\d+)/;

/** The standalone broker as a real child process, with everything it prints. */
class BrokerProcess {
  readonly output: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly #child: ChildProcess;
  #waiters: (() => void)[] = [];

  constructor(env: Record<string, string>) {
    this.#child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', MAIN], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', BROKER_SEGMENT_MB: '8', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [this.#child.stdout!, this.#child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        this.output.push(...chunk.split('\n').filter((l) => l !== ''));
        for (const wake of this.#waiters.splice(0)) wake();
      });
    }
    this.exited = new Promise((resolve) =>
      this.#child.once('exit', (code, signal) => resolve({ code, signal })),
    );
  }

  /** The first line matching `pattern` (waits for it, up to `timeoutMs`). */
  async line(pattern: RegExp, timeoutMs = 40_000): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const l of this.output) {
        const m = pattern.exec(l);
        if (m) return m;
      }
      if (Date.now() > deadline || this.#child.exitCode !== null) {
        throw new Error(`no line matching ${pattern} in:\n${this.output.join('\n')}`);
      }
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  kill(signal: NodeJS.Signals): void {
    this.#child.kill(signal);
  }
}

async function occupiedPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('standalone broker process (apps/broker)', () => {
  let dir: string;
  const started: BrokerProcess[] = [];
  const start = (env: Record<string, string>): BrokerProcess => {
    const p = new BrokerProcess({
      BROKER_DATA_DIR: join(dir, 'data'),
      BROKER_PORT: '0',
      BROKER_ADMIN_PORT: '0',
      ...env,
    });
    started.push(p);
    return p;
  };
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rn-broker-main-'));
  });
  afterEach(async () => {
    for (const p of started.splice(0)) {
      p.kill('SIGKILL');
      await p.exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs where gRPC and the admin API listen, serves, and exits 0 on SIGTERM after flushing', async () => {
    const configFile = join(dir, 'broker.json');
    writeFileSync(configFile, JSON.stringify({ groups: [{ name: 'orderly', fifo: true }] }));
    const broker = start({ BROKER_CONFIG: configFile });
    const [, grpcPort, adminPort] = await broker.line(READY);
    expect(Number(grpcPort)).toBeGreaterThan(0);
    const admin = { host: '127.0.0.1', port: Number(adminPort) };
    expect((await adminRequest(admin, 'GET', '/health')).json).toEqual({ status: 'ok' });
    expect((await adminRequest(admin, 'GET', '/groups/orderly')).json).toMatchObject({ fifo: true });

    broker.kill('SIGTERM');
    expect(await broker.exited).toEqual({ code: 0, signal: null });
    expect(broker.output).toEqual(
      expect.arrayContaining([
        '[broker] SIGTERM: closing (flush and checkpoint)',
        '[broker] closed: store flushed and checkpointed',
      ]),
    );
  });

  it('exits 0 on SIGINT (Ctrl+C) too', async () => {
    const broker = start({});
    await broker.line(READY);
    broker.kill('SIGINT');
    expect(await broker.exited).toEqual({ code: 0, signal: null });
  });

  it('exits 1 naming the file and the mistake when the config file is invalid', async () => {
    const configFile = join(dir, 'broker.json');
    writeFileSync(configFile, JSON.stringify({ topics: [{ name: 'orders', queueCount: 0 }] }));
    const broker = start({ BROKER_CONFIG: configFile });
    expect((await broker.exited).code).toBe(1);
    expect(broker.output).toContain(
      `[broker] cannot start: ${configFile}: topics[0].queueCount must be an integer 1..1024, got 0`,
    );
  });

  it('exits 1 saying which port is in use', async () => {
    const busy = await occupiedPort();
    try {
      const broker = start({ BROKER_PORT: String(busy.port) });
      expect((await broker.exited).code).toBe(1);
      await broker.line(new RegExp(`cannot start: cannot listen on 127\\.0\\.0\\.1:${busy.port}`));
    } finally {
      busy.server.close();
    }
  });

  it('exits 1 naming a bad environment variable', async () => {
    const broker = start({ BROKER_FLUSH: 'fsync' });
    expect((await broker.exited).code).toBe(1);
    expect(broker.output).toContain(
      '[broker] cannot start: BROKER_FLUSH must be "sync" or "async", got "fsync"',
    );
  });

  it('exits 1 when another broker holds the data directory, and the first one keeps running', async () => {
    const first = start({});
    await first.line(READY);
    const second = start({});
    expect((await second.exited).code).toBe(1);
    await second.line(/cannot start: data directory .* is in use by process \d+/);
    first.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });
});

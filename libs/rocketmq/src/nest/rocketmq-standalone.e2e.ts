/**
 * The core suite against a standalone built-in broker process (what `npm run broker` runs:
 * apps/broker/src/main.ts), reached through `endpoints` as any RocketMQ 5 server would be. The
 * group policies the embedded broker gets from the module (FIFO, max attempts) are the server's
 * here, declared in the broker's config file as an operator would.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORE_BACKOFF_MS, CORE_SERVER_GROUPS, defineCoreSuite } from './testing/core-suite.js';

const ROOT = join(import.meta.dirname, '..', '..', '..', '..');
const MAIN = join('apps', 'broker', 'src', 'main.ts');
const READY = /ready: RocketMQ gRPC on 127\.0\.0\.1:(\d+)/;
const START_TIMEOUT_MS = 60_000;

/** Starts the broker process and resolves with it and its endpoint once it says it is ready. */
async function startBrokerProcess(
  dir: string,
): Promise<{ child: ChildProcess; endpoint: string; output: string[] }> {
  const configFile = join(dir, 'broker.json');
  writeFileSync(configFile, JSON.stringify({ groups: CORE_SERVER_GROUPS }));
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', MAIN], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      BROKER_PORT: '0',
      BROKER_DATA_DIR: join(dir, 'data'),
      BROKER_CONFIG: configFile,
      BROKER_SEGMENT_MB: '8',
      BROKER_ADMIN_ENABLED: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const endpoint = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the broker did not start:\n${output.join('')}`)),
      START_TIMEOUT_MS,
    );
    for (const stream of [child.stdout!, child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        output.push(chunk);
        const ready = READY.exec(output.join(''));
        if (ready) {
          clearTimeout(timer);
          resolve(`127.0.0.1:${ready[1]}`);
        }
      });
    }
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the broker exited with ${String(code)}:\n${output.join('')}`));
    });
  });
  return { child, endpoint, output };
}

describe('RocketMQModule against a standalone broker process (endpoints)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rocketnest-nest-standalone-'));
  let broker: { child: ChildProcess; endpoint: string } | undefined;

  beforeAll(async () => {
    broker = await startBrokerProcess(dir);
  }, START_TIMEOUT_MS + 10_000);

  afterAll(async () => {
    const child = broker?.child;
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  });

  // Nested: the suite's app closes (its afterAll) before the broker process stops (this one's).
  describe('core suite', () => {
    defineCoreSuite(() => ({
      moduleOptions: () => ({ endpoints: broker!.endpoint, consumer: { backoff: CORE_BACKOFF_MS } }),
    }));
  });
});

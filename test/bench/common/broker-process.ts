/**
 * The built-in broker as a standalone process for the benches (`apps/broker/src/main`, its build
 * under `npm run bench:*`, its source under Jest): admin off, its own temp data dir and port, the
 * flush mode asked for (checked against what the broker says it runs with), and up to
 * BENCH_RECEIVE_BATCH messages per receive.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { exitOf, freePort, nodeArgsOf, outputTail } from './child-process.js';

/** How long a broker may take to say `ready:` (from source it compiles itself first). */
export const BROKER_READY_TIMEOUT_MS = 60_000;
/**
 * The benches' broker returns up to this many messages per receive (BROKER_RECEIVE_BATCH_MAX; Apache's
 * and the broker's default is 32): every client reads it from Settings, and a receive is a gRPC call
 * that costs both sides a few hundred µs of CPU, as a larger RabbitMQ prefetch or JetStream fetch
 * saves round trips. BENCH_RECEIVE_BATCH=32 measures the default configuration.
 */
export const BENCH_RECEIVE_BATCH = process.env.BENCH_RECEIVE_BATCH ?? '128';
/** How long a SIGTERMed broker may take to flush, checkpoint and exit before it is killed. */
const BROKER_STOP_TIMEOUT_MS = 15_000;
/** Lines of broker output kept for error messages. */
const OUTPUT_TAIL_CHARS = 4000;

export type BrokerFlush = 'async' | 'sync';

export interface BrokerProcessOptions {
  /** A directory of the bench's own; the broker's data dir is made (and removed) inside it. */
  readonly root: string;
  readonly flush: BrokerFlush;
  /** More BROKER_* settings. */
  readonly env?: Readonly<Record<string, string>>;
}

export interface BrokerProcess {
  /** `host:port` for the clients. */
  readonly endpoint: string;
  readonly pid: number;
  /**
   * Resolves, with the exit status and the broker's last output, if the process ends before
   * `stop()` (a crash, or a signal from outside); stays pending otherwise.
   */
  readonly died: Promise<string>;
  /** SIGTERM (flush and checkpoint), bounded; removes the data dir. */
  stop(): Promise<void>;
}

/** Starts a fresh standalone broker in its own process and waits for its `ready` line. */
export async function startBrokerProcess(options: BrokerProcessOptions): Promise<BrokerProcess> {
  const dataDir = mkdtempSync(join(options.root, 'broker-'));
  const port = await freePort();
  const child = spawn(process.execPath, nodeArgsOf(import.meta.url, '../../../apps/broker/src/main'), {
    env: {
      ...process.env,
      ...options.env,
      BROKER_HOST: '127.0.0.1',
      BROKER_PORT: String(port),
      BROKER_DATA_DIR: dataDir,
      BROKER_FLUSH: options.flush,
      BROKER_RECEIVE_BATCH_MAX: BENCH_RECEIVE_BATCH,
      BROKER_ADMIN_ENABLED: 'false',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = outputTail([child.stdout, child.stderr], OUTPUT_TAIL_CHARS);
  let stopping = false;
  const died = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => {
      if (!stopping)
        resolve(`broker process ${child.pid} exited (${code ?? signal}) on its own:\n${output()}`);
    });
  });
  const stopChild = async (): Promise<void> => {
    stopping = true;
    child.kill('SIGTERM');
    await exitOf(child, BROKER_STOP_TIMEOUT_MS);
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`broker not ready within ${BROKER_READY_TIMEOUT_MS} ms:\n${output()}`));
      }, BROKER_READY_TIMEOUT_MS);
      const onData = (): void => {
        if (!output().includes('ready:')) return;
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve();
      };
      child.stdout.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`broker exited (${code}) before it was ready:\n${output()}`));
      });
    });
    // The broker names its flush mode when it starts; a bench must not compare a class it is not in.
    if (!output().includes(`(${options.flush} flush)`)) {
      throw new Error(`broker did not report ${options.flush} flush:\n${output()}`);
    }
  } catch (err) {
    await stopChild();
    throw err;
  }
  return { endpoint: `127.0.0.1:${port}`, pid: child.pid!, died, stop: stopChild };
}

/**
 * A real built-in broker for client tests: `Broker.start` on an ephemeral port in a fresh temp
 * directory, its log kept in memory (tests assert it has no errors), removed on close.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, type BrokerOptions } from '@rocketnest/broker/broker.js';
import { type ReceivedMessage } from '@rocketnest/broker/core/consume/types.js';
import { type ReceiveOptions } from '@rocketnest/broker/core/broker-core-types.js';
import { silentLogger, type ClientLogger } from '../logger.js';

export interface BrokerFixture {
  readonly broker: Broker;
  /** `host:port` for the client's `endpoints`. */
  readonly endpoint: string;
  /** Lines the broker logged as warnings or errors. */
  readonly problems: string[];
  close(): Promise<void>;
}

export async function startBroker(
  options: Omit<BrokerOptions, 'dataDir' | 'port'> = {},
): Promise<BrokerFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-client-'));
  const problems: string[] = [];
  const broker = await Broker.start({
    ...options,
    dataDir,
    port: 0,
    logger: {
      log: () => undefined,
      warn: (m) => problems.push(`warn: ${m}`),
      error: (m) => problems.push(`error: ${m}`),
    },
  });
  return {
    broker,
    endpoint: broker.address.endpoint,
    problems,
    async close() {
      await broker.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Messages of `topic` as a fresh consumer group of the core sees them (no client of ours needed). */
export async function receiveFromBroker(
  broker: Broker,
  request: Omit<ReceiveOptions, 'invisibleMs'> & { invisibleMs?: number },
  count: number,
  timeoutMs = 5_000,
): Promise<ReceivedMessage[]> {
  const got: ReceivedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    got.push(...broker.core.receive({ invisibleMs: 60_000, ...request }));
    if (got.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return got;
}

/** A logger that keeps what it is given (tests assert on warnings). */
export class MemoryLogger implements ClientLogger {
  readonly lines: string[] = [];
  debug(m: string): void {
    this.lines.push(`debug: ${m}`);
  }
  info(m: string): void {
    this.lines.push(`info: ${m}`);
  }
  warn(m: string): void {
    this.lines.push(`warn: ${m}`);
  }
  error(m: string): void {
    this.lines.push(`error: ${m}`);
  }
  /** Lines of the given levels. */
  at(...levels: Array<'debug' | 'info' | 'warn' | 'error'>): string[] {
    return this.lines.filter((l) => levels.some((level) => l.startsWith(`${level}: `)));
  }
}

export { silentLogger };

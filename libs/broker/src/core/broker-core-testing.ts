/**
 * Test fixture for the broker core facade: a real BrokerCore in a temp directory on a ManualClock,
 * check-backs recorded, and helpers to move time and let the store's and timers' asynchronous work
 * finish between steps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BrokerCore } from './broker-core.js';
import { type BrokerCoreOptions, type ReceiveOptions } from './broker-core-types.js';
import { ManualClock } from './clock.js';
import { type ReceivedMessage } from './consume/types.js';
import { type SendRequest, type SendResult } from './send-path.js';
import { type TransactionCheck } from './transaction/transaction-service.js';

/** 2025-01-01T00:00:00Z: timer buckets line up with wall-clock quarters. */
export const T0 = Date.UTC(2025, 0, 1);
export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

export interface CapturedLogger {
  readonly lines: string[];
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export function capturedLogger(): CapturedLogger {
  const lines: string[] = [];
  return {
    lines,
    log: (m) => lines.push(`log ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

/** Lets `turns` macrotask turns run (store commits, timer loads, engine moves). */
export async function settle(turns = 6): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

export class CoreHarness {
  readonly logger = capturedLogger();
  /** Check-backs the "producer" received. */
  readonly checks: TransactionCheck[] = [];
  /** Whether a producer is connected for check-backs. */
  producerOnline = true;
  clock: ManualClock;
  core!: BrokerCore;
  #seq = 0;

  private constructor(
    readonly dir: string,
    readonly options: Partial<BrokerCoreOptions>,
  ) {
    this.clock = new ManualClock(T0);
  }

  static async open(options: Partial<BrokerCoreOptions> = {}): Promise<CoreHarness> {
    const h = new CoreHarness(mkdtempSync(join(tmpdir(), 'rn-core-')), options);
    await h.#open();
    return h;
  }

  async #open(options: Partial<BrokerCoreOptions> = {}): Promise<void> {
    this.core = await BrokerCore.open({
      dataDir: this.dir,
      clock: this.clock,
      logger: this.logger,
      store: { retentionIntervalMs: 0 },
      transactionCheckBack: (check) => {
        if (!this.producerOnline) return false;
        this.checks.push(check);
        return true;
      },
      ...this.options,
      ...options,
    });
  }

  /** Clean close and open again on the same directory, the clock going on from where it was. */
  async reopen(options: Partial<BrokerCoreOptions> = {}): Promise<void> {
    await this.core.close();
    this.clock = new ManualClock(this.clock.now());
    await this.#open(options);
  }

  /** Advances the clock firing due timers, then lets the appends they started complete. */
  async advance(ms: number): Promise<void> {
    await this.clock.advanceAsync(ms);
    await settle();
  }

  /** A valid send request, numbered. */
  message(topic: string, overrides: Partial<SendRequest> = {}): SendRequest {
    const n = this.#seq++;
    return { topic, body: Buffer.from(`body ${n}`), messageId: `MSG-${n}`, ...overrides };
  }

  async send(topic: string, overrides: Partial<SendRequest> = {}): Promise<SendResult> {
    const [result] = await this.core.send([this.message(topic, overrides)]);
    return result!;
  }

  receive(group: string, topic: string, options: Partial<ReceiveOptions> = {}): ReceivedMessage[] {
    return this.core.receive({ group, topic, invisibleMs: 30 * SECOND, batchSize: 32, ...options });
  }

  /** Receives and acks everything visible; returns the bodies. */
  drain(group: string, topic: string): string[] {
    const out: string[] = [];
    for (;;) {
      const got = this.receive(group, topic);
      if (got.length === 0) return out;
      for (const m of got) {
        out.push(m.message.body.toString());
        this.core.ack(group, m.receiptHandle);
      }
    }
  }

  async close(): Promise<void> {
    await this.core.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

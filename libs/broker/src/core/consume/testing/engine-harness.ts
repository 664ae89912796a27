/**
 * Test fixture for the consumption engine: a real MessageStore in a temp dir, a ManualClock, a
 * retry scheduler that appends on that clock, an in-memory offset store and a mutable group policy.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MessageStore, type AppendResult, type MessageToStore } from '../../../store/index.js';
import { ManualClock } from '../../clock.js';
import { compileFilter, type CompiledFilter, type FilterExpression } from '../../filter/index.js';
import { RETRY_BACKOFF_MS, retryBackoffMs } from '../../limits.js';
import { ReceiptHandleCodec } from '../../receipt-handle.js';
import { ConsumeEngine, type ConsumeEngineLimits } from '../consume-engine.js';
import { InMemoryOffsetStore } from '../in-memory-offset-store.js';
import { MESSAGE_GROUP_PROPERTY } from '../names.js';
import { type ConsumeFrom, type ConsumeLogger, type GroupPolicy, type ReceivedMessage } from '../types.js';
import { ClockRetryScheduler } from './clock-retry-scheduler.js';

export const quietStore = { log: () => undefined, warn: () => undefined, error: () => undefined };

/** A group policy the test can change between calls. */
export interface MutablePolicy {
  fifo: boolean;
  maxDeliveryAttempts: number;
  backoff: readonly number[];
  consumeFrom: ConsumeFrom;
}

export const T0 = Date.UTC(2025, 0, 1);

export class Harness {
  readonly clock = new ManualClock(T0);
  readonly codec = new ReceiptHandleCodec(Buffer.alloc(32, 7), 1);
  readonly offsets = new InMemoryOffsetStore();
  readonly policies = new Map<string, MutablePolicy>();
  readonly logged: string[] = [];
  readonly logger: ConsumeLogger = {
    warn: (m) => this.logged.push(`warn: ${m}`),
    error: (m) => this.logged.push(`error: ${m}`),
  };
  store!: MessageStore;
  scheduler!: ClockRetryScheduler;
  engine!: ConsumeEngine;
  #seq = 0;

  private constructor(
    readonly dataDir: string,
    readonly queueCounts: Map<string, number>,
    readonly limits: Partial<ConsumeEngineLimits>,
  ) {}

  static async create(
    options: { queueCounts?: Record<string, number>; limits?: Partial<ConsumeEngineLimits> } = {},
  ): Promise<Harness> {
    const h = new Harness(
      mkdtempSync(join(tmpdir(), 'rocketnest-consume-')),
      new Map(Object.entries(options.queueCounts ?? {})),
      options.limits ?? {},
    );
    await h.openStore();
    h.engine = h.newEngine();
    return h;
  }

  async openStore(): Promise<void> {
    this.store = await MessageStore.open({
      dataDir: this.dataDir,
      retentionIntervalMs: 0,
      logger: quietStore,
    });
    this.scheduler = new ClockRetryScheduler(this.clock, this.store);
  }

  newEngine(): ConsumeEngine {
    return new ConsumeEngine({
      store: this.store,
      codec: this.codec,
      offsets: this.offsets,
      retryScheduler: this.scheduler,
      policyOf: (group) => this.policyOf(group),
      queueCount: (topic) => this.queueCounts.get(topic) ?? 1,
      clock: this.clock,
      limits: this.limits,
      logger: this.logger,
    });
  }

  /** The group's policy (defaults: standard, 17 attempts, RocketMQ's backoff, from first). */
  policy(group: string): MutablePolicy {
    let p = this.policies.get(group);
    if (!p) {
      p = { fifo: false, maxDeliveryAttempts: 17, backoff: RETRY_BACKOFF_MS, consumeFrom: { kind: 'first' } };
      this.policies.set(group, p);
    }
    return p;
  }

  policyOf(group: string): GroupPolicy {
    const p = this.policy(group);
    return {
      fifo: p.fifo,
      maxDeliveryAttempts: p.maxDeliveryAttempts,
      consumeFrom: p.consumeFrom,
      backoffMs: (attempt) =>
        p.backoff === RETRY_BACKOFF_MS
          ? retryBackoffMs(attempt)
          : p.backoff[Math.min(attempt - 1, p.backoff.length - 1)]!,
    };
  }

  send(
    topic: string,
    overrides: Partial<MessageToStore> & { messageGroup?: string } = {},
  ): Promise<AppendResult> {
    const n = this.#seq++;
    const { messageGroup, ...rest } = overrides;
    return this.store.append({
      topic,
      queueId: 0,
      body: Buffer.from(`body ${n}`),
      messageId: `MSG-${n}`,
      ...rest,
      systemProperties: {
        ...rest.systemProperties,
        ...(messageGroup === undefined ? {} : { [MESSAGE_GROUP_PROPERTY]: messageGroup }),
      },
    });
  }

  receive(
    group: string,
    topic: string,
    options: {
      batchSize?: number;
      invisibleMs?: number;
      filter?: FilterExpression | CompiledFilter;
      clientId?: string;
      attemptId?: string;
      retryAfter?: 'group-backoff' | 'lease-end';
    } = {},
  ): ReceivedMessage[] {
    const filter = options.filter ?? { type: 'TAG', expression: '*' };
    return this.engine.receive({
      group,
      topic,
      filter: isCompiled(filter) ? filter : compileFilter(filter),
      batchSize: options.batchSize ?? 32,
      invisibleMs: options.invisibleMs ?? 30_000,
      ...(options.clientId === undefined ? {} : { clientId: options.clientId }),
      ...(options.attemptId === undefined ? {} : { attemptId: options.attemptId }),
      ...(options.retryAfter === undefined ? {} : { retryAfter: options.retryAfter }),
    });
  }

  /** Moves the clock, then lets retry/DLQ writes and scheduled appends finish. */
  async advance(ms: number): Promise<void> {
    this.clock.advance(ms);
    await this.settle();
  }

  async settle(): Promise<void> {
    for (let i = 0; i < 3; i++) {
      await this.engine.idle();
      await this.scheduler.settled();
    }
  }

  /** Every message of a topic's queue, as stored. */
  read(topic: string, queueId = 0) {
    return this.store.getMessages(topic, queueId, 0, 1_000).messages;
  }

  async close(): Promise<void> {
    await this.engine.close();
    await this.scheduler.settled();
    await this.store.close();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

function isCompiled(filter: FilterExpression | CompiledFilter): filter is CompiledFilter {
  return typeof (filter as Partial<CompiledFilter>).matches === 'function';
}

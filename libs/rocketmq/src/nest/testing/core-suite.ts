/**
 * The core e2e suite of the Nest layer, run against the embedded broker (rocketmq-core.e2e.ts) and
 * against a standalone broker process through `endpoints` (rocketmq-standalone.e2e.ts): the same
 * listeners, the same sends, the same expectations.
 */
import { Controller, Inject, Injectable, type INestApplicationContext } from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { Reconsume, type ReceivedMessageView } from '../../client/index.js';
import { type RocketMQContext } from '../context/rocketmq-context.js';
import { Orderly } from '../decorators/orderly.decorator.js';
import { RocketListener } from '../decorators/rocket-listener.decorator.js';
import { TransactionChecker } from '../decorators/transaction-checker.decorator.js';
import { type RocketMQBatchContext } from '../listener/batch-context.js';
import { BatchResult } from '../listener/batch-result.js';
import { RocketListenerRegistry } from '../listener/rocket-listener-registry.js';
import { RocketMQConnection } from '../module/rocketmq-connection.js';
import { type RocketMQModuleOptions } from '../module/rocketmq-options.js';
import { RocketMQModule } from '../module/rocketmq.module.js';
import { type PayloadCodec } from '../serialization/payload-codec.js';
import { RocketTemplate } from '../template/rocket-template.js';
import { Recorder, sleep, until } from './recorder.js';

/** Groups whose policy a remote broker must have (the standalone test declares them in its config). */
export const CORE_SERVER_GROUPS = [
  { name: 'core-fail-g', maxDeliveryAttempts: 2 },
  { name: 'core-poison-g', maxDeliveryAttempts: 2 },
  { name: 'core-fifo-g', fifo: true },
] as const;

/** Fast retries: the suite waits for redeliveries. */
export const CORE_BACKOFF_MS = [200];

interface Seen {
  readonly payload: unknown;
  readonly tag: string | undefined;
  readonly keys: readonly string[];
  readonly properties: Readonly<Record<string, string>>;
  readonly attempt: number;
  readonly pattern: string;
  readonly group: string;
  readonly at: number;
  readonly deliveryTimestamp: number | undefined;
}

function seen(payload: unknown, ctx: RocketMQContext): Seen {
  const message = ctx.getMessage();
  return {
    payload,
    tag: ctx.getTag(),
    keys: ctx.getKeys(),
    properties: ctx.getProperties(),
    attempt: ctx.getDeliveryAttempt(),
    pattern: ctx.getPattern(),
    group: ctx.getGroup(),
    at: Date.now(),
    deliveryTimestamp: message.deliveryTimestamp,
  };
}

/** Reads any body as text: for dead letters whose body the default codec refuses. */
const rawText: PayloadCodec = {
  serialize: (payload) => ({ body: Buffer.from(String(payload)), properties: {} }),
  deserialize: (message: ReceivedMessageView) => message.body.toString('utf8'),
};

interface FifoItem {
  readonly key: string;
  readonly seq: number;
}

@Injectable()
export class CoreListeners {
  /** Handlers of each message group running now, and the most at once (all groups, and per group). */
  readonly running = new Map<string, number>();
  maxPerGroup = 0;
  maxOverall = 0;
  #overall = 0;
  #batchFailedOnce = false;

  constructor(@Inject(Recorder) private readonly recorder: Recorder) {}

  @RocketListener({ topic: 'core-orders', group: 'core-orders-g', tag: 'created' })
  created(@Payload() payload: unknown, @Ctx() ctx: RocketMQContext): void {
    this.recorder.record('created', seen(payload, ctx));
  }

  // No parameter decorators: the method gets (payload, context).
  @RocketListener({ topic: 'core-other', group: 'core-other-g' })
  other(payload: unknown, ctx: RocketMQContext): void {
    this.recorder.record('other', seen(payload, ctx));
  }

  @RocketListener({ topic: 'core-reconsume', group: 'core-reconsume-g' })
  reconsume(payload: unknown, ctx: RocketMQContext): ReturnType<typeof Reconsume.after> | void {
    this.recorder.record('reconsume', seen(payload, ctx));
    if (ctx.getDeliveryAttempt() === 1) return Reconsume.after(300);
  }

  @RocketListener({ topic: 'core-fail', group: 'core-fail-g', maxReconsumeTimes: 1 })
  fail(payload: unknown, ctx: RocketMQContext): void {
    this.recorder.record('fail', seen(payload, ctx));
    throw new Error('this listener always fails');
  }

  @RocketListener({ topic: '%DLQ%core-fail-g', group: 'core-fail-dlq-reader' })
  failDead(payload: unknown, ctx: RocketMQContext): void {
    this.recorder.record('fail-dlq', seen(payload, ctx));
  }

  @RocketListener({ topic: 'core-poison', group: 'core-poison-g', maxReconsumeTimes: 1 })
  poison(payload: unknown, ctx: RocketMQContext): void {
    this.recorder.record('poison', seen(payload, ctx));
  }

  @RocketListener({ topic: '%DLQ%core-poison-g', group: 'core-poison-dlq-reader', codec: rawText })
  poisonDead(payload: unknown, ctx: RocketMQContext): void {
    this.recorder.record('poison-dlq', seen(payload, ctx));
  }

  @RocketListener({ topic: 'core-batch', group: 'core-batch-g', batch: { size: 4, waitMs: 300 } })
  batch(payloads: string[], ctx: RocketMQBatchContext): BatchResult | void {
    this.recorder.record('batch', {
      payloads,
      attempts: ctx.getContexts().map((c) => c.getDeliveryAttempt()),
    });
    const bad = payloads.indexOf('bad');
    if (bad >= 0 && !this.#batchFailedOnce) {
      this.#batchFailedOnce = true;
      return BatchResult.failed([bad]);
    }
  }

  @RocketListener({ topic: 'core-delay', group: 'core-delay-g' })
  delayed(payload: unknown, ctx: RocketMQContext): void {
    this.recorder.record('delay', seen(payload, ctx));
  }

  @RocketListener({ topic: 'core-fifo', group: 'core-fifo-g', concurrency: 16 })
  @Orderly()
  async fifo(item: FifoItem): Promise<void> {
    const now = (this.running.get(item.key) ?? 0) + 1;
    this.running.set(item.key, now);
    this.#overall++;
    this.maxPerGroup = Math.max(this.maxPerGroup, now);
    this.maxOverall = Math.max(this.maxOverall, this.#overall);
    await sleep(5 + (item.seq % 3) * 5);
    this.running.set(item.key, (this.running.get(item.key) ?? 1) - 1);
    this.#overall--;
    this.recorder.record(`fifo:${item.key}`, item.seq);
  }

  @RocketListener({ topic: 'core-tx', group: 'core-tx-g' })
  transactional(payload: { id: string }): void {
    this.recorder.record('tx', payload.id);
  }

  @RocketListener({ topic: 'core-broadcast', group: 'core-broadcast-g', model: 'broadcasting' })
  broadcast(payload: string, ctx: RocketMQContext): void {
    this.recorder.record('broadcast', { payload, group: ctx.getGroup() });
  }
}

@Controller()
export class CoreController {
  constructor(@Inject(Recorder) private readonly recorder: Recorder) {}

  @RocketListener({ topic: 'core-controller', group: 'core-controller-g' })
  fromController(@Payload() payload: unknown): void {
    this.recorder.record('controller', payload);
  }
}

@Injectable()
export class CoreCheckers {
  constructor(@Inject(Recorder) private readonly recorder: Recorder) {}

  /** Answers by what the payload says (the "local state" a real checker would look up). */
  @TransactionChecker({ topic: 'core-tx' })
  check(payload: { id: string; decision: 'COMMIT' | 'ROLLBACK' }): 'COMMIT' | 'ROLLBACK' {
    this.recorder.record('checked', payload.id);
    return payload.decision;
  }
}

export interface CoreSuiteTarget {
  /** Module options (endpoints or embedded) with the suite's consumer defaults merged in. */
  moduleOptions(): RocketMQModuleOptions;
}

export async function startCoreApp(options: RocketMQModuleOptions): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [RocketMQModule.forRoot(options)],
    providers: [Recorder, CoreListeners, CoreCheckers],
    controllers: [CoreController],
  }).compile();
  return moduleRef.init();
}

/** Defines the suite's tests (inside a `describe`); `target` is read in beforeAll. */
export function defineCoreSuite(target: () => CoreSuiteTarget): void {
  let app: INestApplicationContext;
  let rocket: RocketTemplate;
  let recorder: Recorder;

  beforeAll(async () => {
    app = await startCoreApp(target().moduleOptions());
    rocket = app.get(RocketTemplate);
    recorder = app.get(Recorder);
  });

  afterAll(async () => {
    await app?.close();
  });

  it('discovers every listener of a provider (several per class) and of a controller', () => {
    const ids = app
      .get(RocketListenerRegistry)
      .list()
      .map((l) => l.id);
    expect(ids).toEqual(
      expect.arrayContaining([
        'CoreListeners.created',
        'CoreListeners.other',
        'CoreListeners.batch',
        'CoreListeners.fifo',
        'CoreController.fromController',
      ]),
    );
    expect(
      app
        .get(RocketListenerRegistry)
        .list()
        .every((l) => l.state === 'running'),
    ).toBe(true);
  });

  it('delivers a sent object to the listener with its tag, keys and properties', async () => {
    await rocket.send(
      'core-orders:created',
      { id: 'o-1', total: 42 },
      { keys: ['o-1'], properties: { region: 'eu' } },
    );
    await rocket.send('core-orders:cancelled', { id: 'o-2' }); // filtered out by the tag
    await rocket.send('core-orders:created', { id: 'o-3' });
    const [first, second] = await recorder.waitFor<Seen>('created', 2);
    const byId = new Map([first, second].map((s) => [(s!.payload as { id: string }).id, s!]));
    expect([...byId.keys()].sort()).toEqual(['o-1', 'o-3']);
    expect(byId.get('o-1')).toMatchObject({
      payload: { id: 'o-1', total: 42 },
      tag: 'created',
      keys: ['o-1'],
      pattern: 'core-orders:created',
      group: 'core-orders-g',
      attempt: 1,
    });
    expect(byId.get('o-1')!.properties['region']).toBe('eu');
  });

  it('passes strings and Buffers through unchanged, and calls controller listeners', async () => {
    rocket.sendOneWay('core-other', 'plain text');
    await rocket.sendBatch('core-other', [Buffer.from([0, 1, 2]), { n: 1 }]);
    await rocket.send('core-controller', { from: 'template' });
    const others = await recorder.waitFor<Seen>('other', 3);
    const payloads = others.map((s) => s.payload);
    expect(payloads).toEqual(expect.arrayContaining(['plain text', { n: 1 }]));
    const buffer = payloads.find((p) => Buffer.isBuffer(p)) as Buffer;
    expect([...buffer]).toEqual([0, 1, 2]);
    expect(await recorder.waitFor('controller', 1)).toEqual([{ from: 'template' }]);
  });

  it('retries a message answered with Reconsume.after(ms), without an error, and then acknowledges it', async () => {
    const sentAt = Date.now();
    await rocket.send('core-reconsume', 'again');
    const deliveries = await recorder.waitFor<Seen>('reconsume', 2);
    expect(deliveries.map((d) => d.attempt)).toEqual([1, 2]);
    expect(deliveries[1]!.at - deliveries[0]!.at).toBeGreaterThanOrEqual(250);
    expect(deliveries[0]!.at).toBeGreaterThanOrEqual(sentAt);
    // Acknowledged: not delivered a third time once the second attempt succeeded.
    await rocket.send('core-reconsume', 'marker');
    await recorder.waitFor('reconsume', 3);
    await until(() => recorder.get<Seen>('reconsume').some((d) => d.payload === 'marker'), 'the marker');
    expect(recorder.get<Seen>('reconsume').filter((d) => d.payload === 'again')).toHaveLength(2);
  });

  it('retries a throwing listener, then moves the message to the DLQ after maxReconsumeTimes', async () => {
    await rocket.send('core-fail', { doomed: true }, { keys: ['doomed-1'] });
    const dead = await recorder.waitFor<Seen>('fail-dlq', 1);
    expect(dead[0]!.payload).toEqual({ doomed: true });
    expect(dead[0]!.keys).toEqual(['doomed-1']);
    expect(recorder.get<Seen>('fail').map((s) => s.attempt)).toEqual([1, 2]);
  });

  it('never acknowledges a payload that cannot be decoded: the listener is not called, the message is dead-lettered', async () => {
    // A body that claims to be JSON and is not: only a foreign or broken producer sends this.
    await rocket.producer.send({
      topic: 'core-poison',
      body: '{"broken": ',
      properties: { 'content-type': 'application/json' },
    });
    const dead = await recorder.waitFor<Seen>('poison-dlq', 1);
    expect(dead[0]!.payload).toBe('{"broken": ');
    expect(recorder.get('poison')).toHaveLength(0);
    const info = app.get(RocketListenerRegistry).get('CoreListeners.poison');
    expect(info.counters.undecodable).toBeGreaterThanOrEqual(2);
  });

  it('hands batches of at most `size` messages, and retries only the messages a batch marks as failed', async () => {
    const payloads = ['a', 'b', 'c', 'bad', 'd', 'e', 'f', 'g', 'h'];
    await rocket.sendBatch('core-batch', payloads);
    await until(() => {
      const got = recorder.get<{ payloads: string[] }>('batch').flatMap((b) => b.payloads);
      return payloads.every((p) => got.includes(p)) && got.filter((p) => p === 'bad').length === 2;
    }, 'every batch message, and the failed one twice');
    const batches = recorder.get<{ payloads: string[]; attempts: number[] }>('batch');
    expect(batches.every((b) => b.payloads.length >= 1 && b.payloads.length <= 4)).toBe(true);
    const all = batches.flatMap((b) => b.payloads.map((p, i) => ({ p, attempt: b.attempts[i] })));
    // Only 'bad' came back (with attempt 2); every other message was acknowledged once.
    for (const p of payloads.filter((x) => x !== 'bad')) expect(all.filter((x) => x.p === p)).toHaveLength(1);
    expect(all.filter((x) => x.p === 'bad').map((x) => x.attempt)).toEqual([1, 2]);
    expect(batches.some((b) => b.payloads.length > 1)).toBe(true);
  });

  it('delivers a delayed message no earlier than its delay (milliseconds and RocketMQ level)', async () => {
    const sentAt = Date.now();
    await rocket.sendDelayed('core-delay', 'by-ms', 1_500);
    await rocket.sendDelayed('core-delay', 'by-level', { level: 1 }); // 1 s
    const got = await recorder.waitFor<Seen>('delay', 2);
    const byMs = got.find((s) => s.payload === 'by-ms')!;
    const byLevel = got.find((s) => s.payload === 'by-level')!;
    expect(byMs.at).toBeGreaterThanOrEqual(sentAt + 1_500 - 5);
    expect(byLevel.at).toBeGreaterThanOrEqual(sentAt + 1_000 - 5);
    expect(byMs.deliveryTimestamp).toBeGreaterThanOrEqual(sentAt + 1_500 - 5);
  });

  it('consumes each message group in order, one at a time, while groups run in parallel', async () => {
    const listeners = app.get(CoreListeners);
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
    const perKey = 15;
    const sends: Promise<unknown>[] = [];
    for (let seq = 0; seq < perKey; seq++) {
      for (const key of keys) sends.push(rocket.sendOrderly('core-fifo', { key, seq }, key));
    }
    await Promise.all(sends);
    for (const key of keys) {
      const got = await recorder.waitFor<number>(`fifo:${key}`, perKey);
      expect(got).toEqual([...Array(perKey).keys()]);
    }
    expect(listeners.maxPerGroup).toBe(1);
    expect(listeners.maxOverall).toBeGreaterThan(1);
  });

  it('delivers a committed transaction and drops a rolled back one', async () => {
    const committed = await rocket.sendInTransaction(
      'core-tx',
      { id: 'tx-commit', decision: 'COMMIT' },
      () => 'COMMIT',
    );
    const rolledBack = await rocket.sendInTransaction(
      'core-tx',
      { id: 'tx-rollback', decision: 'ROLLBACK' },
      () => 'ROLLBACK',
    );
    expect(committed.resolution).toBe('COMMIT');
    expect(rolledBack.resolution).toBe('ROLLBACK');
    await until(() => recorder.get('tx').includes('tx-commit'), 'the committed message');
    // A later plain message on the same topic: once it is here, the rolled back one had its chance.
    await rocket.send('core-tx', { id: 'after' });
    await until(() => recorder.get('tx').includes('after'), 'the message sent after');
    expect(recorder.get('tx')).not.toContain('tx-rollback');
  });

  it('resolves an UNKNOWN transaction through the @TransactionChecker of its topic', async () => {
    const result = await rocket.sendInTransaction(
      'core-tx',
      { id: 'tx-checked', decision: 'COMMIT' },
      () => 'UNKNOWN',
    );
    expect(result.resolution).toBe('UNKNOWN');
    await until(() => recorder.get('tx').includes('tx-checked'), 'the message committed by the check-back');
    expect(recorder.get('checked')).toContain('tx-checked');
  });

  it('gives every instance of a broadcasting listener every message', async () => {
    const endpoints = app.get(RocketMQConnection).endpoints;
    const other = await startCoreApp({ ...target().moduleOptions(), endpoints });
    try {
      const otherRecorder = other.get(Recorder);
      await rocket.send('core-broadcast', 'to-all');
      const mine = await recorder.waitFor<{ payload: string; group: string }>('broadcast', 1);
      const theirs = await otherRecorder.waitFor<{ payload: string; group: string }>('broadcast', 1);
      expect(mine[0]!.payload).toBe('to-all');
      expect(theirs[0]!.payload).toBe('to-all');
      expect(mine[0]!.group).not.toBe(theirs[0]!.group);
      expect(mine[0]!.group).toMatch(/^core-broadcast-g-BROADCAST-/);
    } finally {
      await other.close();
    }
  });
}

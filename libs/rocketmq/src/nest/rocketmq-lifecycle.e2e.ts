/**
 * Lifecycle and operations: graceful drain at shutdown (nothing lost, nothing handled twice across
 * a restart), the status observable and the Terminus indicator, per-listener pause/resume,
 * forRootAsync.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { Inject, Injectable, type INestApplicationContext } from '@nestjs/common';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { StoreLockedError } from '@rocketnest/broker';
import { StartupTimeoutError } from '../client/index.js';
import { startBroker, type BrokerFixture } from '../client/testing/broker-fixture.js';
import { type RocketMQContext } from './context/rocketmq-context.js';
import { RocketListener } from './decorators/rocket-listener.decorator.js';
import { RocketMQHealth, type RocketMQStatus } from './health/rocketmq-health.js';
import { RocketMQHealthIndicator } from './health/rocketmq-health.indicator.js';
import { RocketListenerRegistry, UnknownListenerError } from './listener/rocket-listener-registry.js';
import { RocketMQConnection } from './module/rocketmq-connection.js';
import { type RocketMQModuleOptions } from './module/rocketmq-options.js';
import { RocketMQModule } from './module/rocketmq.module.js';
import { RocketTemplate } from './template/rocket-template.js';
import { Recorder, sleep, until } from './testing/recorder.js';

/** How long each slow handler takes: long enough that shutdown finds several running. */
const SLOW_HANDLER_MS = 150;

@Injectable()
class SlowListener {
  constructor(@Inject(Recorder) private readonly recorder: Recorder) {}

  @RocketListener({ topic: 'life-work', group: 'life-work-g', concurrency: 4 })
  async work(seq: number, ctx: RocketMQContext): Promise<void> {
    this.recorder.record('started', seq);
    await sleep(SLOW_HANDLER_MS);
    this.recorder.record('completed', { seq, attempt: ctx.getDeliveryAttempt() });
  }

  @RocketListener({ topic: 'life-pausable', group: 'life-pausable-g' })
  pausable(payload: string): void {
    this.recorder.record('pausable', payload);
  }
}

async function startApp(options: RocketMQModuleOptions): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({
    imports: [RocketMQModule.forRoot(options), TerminusModule],
    providers: [Recorder, SlowListener],
  }).compile();
  return moduleRef.init();
}

describe('RocketMQModule lifecycle', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-nest-life-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('drains in-flight handlers at shutdown: every message is handled exactly once across a restart', async () => {
    const total = 40;
    const first = await startApp({ embedded: { dataDir, port: 0 } });
    const statuses: RocketMQStatus[] = [];
    first.get(RocketMQHealth).status$.subscribe((e) => statuses.push(e.status));
    const recorder1 = first.get(Recorder);
    await first.get(RocketTemplate).sendBatch('life-work', [...Array(total).keys()]);
    // Close mid-stream: some handled, some running, most not yet received or started.
    await until(() => recorder1.get('completed').length >= 6, 'a few completed messages');
    await first.close();
    const started1 = recorder1.get<number>('started');
    const completed1 = recorder1.get<{ seq: number }>('completed').map((c) => c.seq);
    // Drained: every handler that started before the shutdown finished.
    expect([...completed1].sort((a, b) => a - b)).toEqual([...started1].sort((a, b) => a - b));
    expect(completed1.length).toBeLessThan(total);
    expect(statuses).toEqual(['connected', 'draining', 'closed']);

    // Restart on the same data: the rest comes, none of the completed ones again.
    const second = await startApp({ embedded: { dataDir, port: 0 } });
    try {
      const recorder2 = second.get(Recorder);
      await until(
        () =>
          new Set([...completed1, ...recorder2.get<{ seq: number }>('completed').map((c) => c.seq)]).size ===
          total,
        'every message handled once',
      );
      const completed2 = recorder2.get<{ seq: number }>('completed').map((c) => c.seq);
      expect(completed2.filter((seq) => completed1.includes(seq))).toEqual([]);
      expect(new Set(completed2).size).toBe(completed2.length);
    } finally {
      await second.close();
    }
  });

  it('reports its status through status$ and a Terminus health indicator (down while draining)', async () => {
    const app = await startApp({ embedded: { dataDir, port: 0 } });
    const health = app.get(RocketMQHealth);
    const indicator = app.get(RocketMQHealthIndicator);
    expect(health.status).toBe('connected');
    const result = await app.get(HealthCheckService).check([() => indicator.isHealthy('rocketmq')]);
    expect(result.status).toBe('ok');
    expect(result.info?.['rocketmq']).toMatchObject({
      status: 'up',
      state: 'connected',
      embedded: true,
      endpoints: app.get(RocketMQConnection).endpoints,
      listeners: { 'SlowListener.work': 'running', 'SlowListener.pausable': 'running' },
    });
    const whileDraining: string[] = [];
    health.status$.subscribe((e) => {
      if (e.status === 'draining') whileDraining.push(indicator.isHealthy('rocketmq')['rocketmq'].status);
    });
    await app.close();
    expect(whileDraining).toEqual(['down']);
    expect(health.status).toBe('closed');
  });

  it('pauses and resumes one listener: paused, its messages wait in the group; resumed, they come', async () => {
    const app = await startApp({ embedded: { dataDir, port: 0 } });
    try {
      const registry = app.get(RocketListenerRegistry);
      const recorder = app.get(Recorder);
      const rocket = app.get(RocketTemplate);
      const core = app.get(RocketMQConnection).broker!.core;
      await registry.pause('SlowListener.pausable');
      expect(registry.get('SlowListener.pausable').state).toBe('paused');
      expect(registry.get('SlowListener.work').state).toBe('running');
      await rocket.send('life-pausable', 'while-paused');
      // The other listener still works meanwhile.
      await rocket.send('life-work', 1000);
      await until(
        () => recorder.get<{ seq: number }>('completed').some((c) => c.seq === 1000),
        'the running listener',
      );
      expect(core.lag('life-pausable-g', 'life-pausable').total).toBe(1);
      expect(recorder.get('pausable')).toEqual([]);
      await registry.resume('SlowListener.pausable');
      expect(await recorder.waitFor('pausable', 1)).toEqual(['while-paused']);
      expect(registry.get('SlowListener.pausable')).toMatchObject({
        state: 'running',
        counters: { completed: 1 },
      });
      await expect(registry.pause('nope')).rejects.toThrow(UnknownListenerError);
    } finally {
      await app.close();
    }
  });
});

describe('RocketMQModule.forRootAsync', () => {
  let fixture: BrokerFixture;
  beforeAll(async () => {
    fixture = await startBroker();
  });
  afterAll(async () => {
    await fixture?.close();
  });

  it('connects to the endpoints a factory returns, with injected dependencies', async () => {
    const CONFIG = Symbol('config');
    const moduleRef = await Test.createTestingModule({
      imports: [
        RocketMQModule.forRootAsync({
          inject: [CONFIG],
          imports: [
            {
              module: class ConfigModule {},
              providers: [{ provide: CONFIG, useValue: { url: fixture.endpoint } }],
              exports: [CONFIG],
            },
          ],
          useFactory: (config: { url: string }) => ({ endpoints: config.url }),
        }),
      ],
      providers: [Recorder, SlowListener],
    }).compile();
    const app = await moduleRef.init();
    try {
      const connection = app.get(RocketMQConnection);
      expect(connection).toMatchObject({ endpoints: fixture.endpoint, embedded: false, broker: undefined });
      await app.get(RocketTemplate).send('life-pausable', 'remote');
      expect(await app.get(Recorder).waitFor('pausable', 1)).toEqual(['remote']);
    } finally {
      await app.close();
    }
    // The module closed its clients; the broker it did not start is still serving.
    expect(fixture.broker.core.closed).toBe(false);
  });
});

describe('RocketMQModule start failures', () => {
  it('fails the application start with a typed error when the endpoints do not answer', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    await expect(
      Test.createTestingModule({
        imports: [RocketMQModule.forRoot({ endpoints: `127.0.0.1:${port}`, startupTimeoutMs: 1_000 })],
        providers: [Recorder, SlowListener],
      }).compile(),
    ).rejects.toThrow(StartupTimeoutError);
  });

  it('refuses a second embedded broker on a data directory in use, and the first keeps working', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-nest-lock-'));
    const first = await startApp({ embedded: { dataDir, port: 0 } });
    try {
      await expect(startApp({ embedded: { dataDir, port: 0 } })).rejects.toThrow(StoreLockedError);
      await first.get(RocketTemplate).send('life-pausable', 'still here');
      expect(await first.get(Recorder).waitFor('pausable', 1)).toEqual(['still here']);
    } finally {
      await first.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

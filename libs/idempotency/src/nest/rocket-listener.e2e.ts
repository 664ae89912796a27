/**
 * `@Idempotent()` on `@RocketListener` methods of the Nest layer, through the real pipeline: the
 * embedded built-in broker, two application instances consuming one group (each its own
 * DataSource and IdempotencyModule), Postgres.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  RocketListener,
  RocketListenerRegistry,
  RocketMQConnection,
  RocketMQModule,
  RocketTemplate,
  type RocketMQContext,
} from '@rocketnest/rocketmq';
import { type DataSource } from 'typeorm';
import { IdempotencyMetrics } from '../metrics/idempotency-metrics.js';
import { silentIdempotencyLogger } from '../core/idempotency-logger.js';
import {
  createTestSchema,
  DATABASE_URL,
  dropTestSchema,
  openDataSource,
  waitFor,
} from '../testing/pg-fixture.js';
import { IdempotencyContext } from './idempotency-context.js';
import { IdempotencyModule } from './idempotency.module.js';
import { Idempotent } from './idempotent.decorator.js';

const ORDERS = 1_000;
const COPIES = 3;
const INSTANCE = 'test:instance';

let schema: string;

interface Order {
  readonly id: string;
  readonly amount: number;
}

@Injectable()
class OrderListeners {
  constructor(
    @Inject(IdempotencyContext) private readonly idem: IdempotencyContext,
    @Inject(INSTANCE) private readonly instance: string,
  ) {}

  /** Three messages per order (a producer retrying, an upstream replaying): one effect per order. */
  @RocketListener({ topic: 'idem-orders', group: 'idem-orders-g' })
  @Idempotent<Order>({ key: (order) => `order:${order.id}` })
  async created(order: Order): Promise<void> {
    await this.idem.manager.query(`INSERT INTO "${schema}".effects (order_id, instance) VALUES ($1, $2)`, [
      order.id,
      this.instance,
    ]);
  }

  /** Fails on its first delivery after writing: rolled back, retried by the broker, one effect. */
  @RocketListener({ topic: 'idem-flaky', group: 'idem-flaky-g' })
  @Idempotent()
  async flaky(order: Order, ctx: RocketMQContext): Promise<void> {
    await this.idem.manager.query(`INSERT INTO "${schema}".effects (order_id, instance) VALUES ($1, $2)`, [
      order.id,
      this.instance,
    ]);
    if (ctx.getDeliveryAttempt() === 1) throw new Error(`first attempt of ${order.id} fails`);
  }
}

describe('@Idempotent on @RocketListener, two application instances, real broker', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-idem-nest-'));
  let admin: DataSource;
  const apps: INestApplicationContext[] = [];

  async function startInstance(name: string, rocketmq: Parameters<typeof RocketMQModule.forRoot>[0]) {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RocketMQModule.forRoot(rocketmq),
        TypeOrmModule.forRoot({ type: 'postgres', url: DATABASE_URL, poolSize: 8 }),
        IdempotencyModule.forRoot({
          table: `${schema}.keys`,
          retention: false,
          logger: silentIdempotencyLogger,
        }),
      ],
      providers: [OrderListeners, { provide: INSTANCE, useValue: name }],
    }).compile();
    moduleRef.useLogger(false);
    const app = await moduleRef.init();
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    admin = await openDataSource(2);
    schema = await createTestSchema(admin, 'idem_listener');
    await admin.query(`CREATE TABLE "${schema}".effects (order_id text NOT NULL, instance text NOT NULL)`);
    const first = await startInstance('a', { embedded: { dataDir, port: 0 }, consumer: { backoff: [100] } });
    const endpoints = first.get(RocketMQConnection).endpoints;
    await startInstance('b', { endpoints, consumer: { backoff: [100] } });
  }, 120_000);

  afterAll(async () => {
    for (const app of apps.reverse()) await app.close(); // the instance with the embedded broker last
    await dropTestSchema(admin, schema);
    await admin.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const outcomes = () => apps.map((app) => app.get(IdempotencyMetrics).snapshot().outcomes);
  const total = (k: 'processed' | 'duplicate' | 'failed') => outcomes().reduce((n, o) => n + o[k], 0);

  async function effectRows(prefix: string) {
    const [row] = (await admin.query(
      `SELECT count(*)::int AS total, count(DISTINCT order_id)::int AS orders, count(DISTINCT instance)::int AS instances
       FROM "${schema}".effects WHERE order_id LIKE $1`,
      [`${prefix}%`],
    )) as Array<{ total: number; orders: number; instances: number }>;
    return row!;
  }

  it('1,000 orders sent 3 times each, consumed by two instances: 1,000 effects, 2,000 duplicates skipped and acked', async () => {
    const rocket = apps[0]!.get(RocketTemplate);
    // Copies of one order are sent together, so the two instances often hold them at the same time.
    for (let start = 0; start < ORDERS; start += 50) {
      const sends: Array<Promise<unknown>> = [];
      for (let i = start; i < Math.min(ORDERS, start + 50); i++) {
        for (let c = 0; c < COPIES; c++) sends.push(rocket.send('idem-orders', { id: `o-${i}`, amount: i }));
      }
      await Promise.all(sends);
    }
    await waitFor(
      () => total('processed') + total('duplicate') >= ORDERS * COPIES,
      'every copy handled',
      150_000,
    );
    expect(await effectRows('o-')).toEqual({ total: ORDERS, orders: ORDERS, instances: 2 });
    expect(total('processed')).toBe(ORDERS);
    expect(total('duplicate')).toBe((COPIES - 1) * ORDERS);
    // Every delivery, duplicates included, completed without an error: the transport acked it.
    const listener = () =>
      apps.map((app) =>
        app
          .get(RocketListenerRegistry)
          .list()
          .find((l) => l.topic === 'idem-orders')!,
      );
    await waitFor(() => listener().every((l) => l.consumer?.inFlight === 0), 'nothing left in flight');
    expect(listener().reduce((n, l) => n + l.counters.completed, 0)).toBe(ORDERS * COPIES);
    expect(listener().reduce((n, l) => n + l.counters.threw, 0)).toBe(0);
  }, 180_000);

  it('a listener failing on its first delivery is rolled back, redelivered by the broker, and leaves one effect', async () => {
    const rocket = apps[0]!.get(RocketTemplate);
    const failedBefore = total('failed');
    await rocket.send('idem-flaky', { id: 'f-1', amount: 1 });
    await waitFor(
      async () => (await effectRows('f-')).total === 1 && total('failed') > failedBefore,
      'the retry',
      60_000,
    );
    expect(total('failed') - failedBefore).toBe(1);
    expect(await effectRows('f-')).toMatchObject({ total: 1, orders: 1 });
  }, 90_000);
});

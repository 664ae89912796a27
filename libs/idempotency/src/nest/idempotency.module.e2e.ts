import { Controller, Inject, Injectable, UseFilters, type INestMicroservice } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { RocketMQContext } from '@rocketnest/rocketmq/nest/context/rocketmq-context.js';
import { type ReceivedMessageView } from '@rocketnest/rocketmq';
import { Registry } from 'prom-client';
import { type DataSource, type EntityManager } from 'typeorm';
import { IdempotencyStore } from '../core/idempotency-store.js';
import { silentIdempotencyLogger } from '../core/idempotency-logger.js';
import { IdempotencyUsageError, PayloadMismatchError } from '../errors.js';
import { IdempotencyMetrics, OUTCOME_METRIC } from '../metrics/idempotency-metrics.js';
import { createTestSchema, DATABASE_URL, dropTestSchema, openDataSource } from '../testing/pg-fixture.js';
import { InMemoryTransport, PassThroughRpcFilter } from '../testing/in-memory-transport.js';
import { IdempotencyContext, IdempotentManager } from './idempotency-context.js';
import { IdempotencyModule } from './idempotency.module.js';
import { Idempotent } from './idempotent.decorator.js';

let admin: DataSource;
let schema: string;

interface Order {
  readonly orderId: string;
  readonly amount: number;
}

/** A provider deep below the handler: it joins the handler's transaction through IdempotencyContext. */
@Injectable()
class OrdersRepository {
  constructor(@Inject(IdempotencyContext) private readonly idem: IdempotencyContext) {}

  async record(order: Order, source: string): Promise<void> {
    await this.idem.manager.query(
      `INSERT INTO "${schema}".effects (order_id, idem_key, source) VALUES ($1, $2, $3)`,
      [order.orderId, this.idem.key, source],
    );
  }
}

const failuresLeft = new Map<string, number>();
const leaseSeen: Array<{ owner: string | undefined; managerError: unknown }> = [];

@Controller()
@UseFilters(PassThroughRpcFilter)
class OrdersListener {
  constructor(
    @Inject(OrdersRepository) private readonly orders: OrdersRepository,
    @Inject(IdempotencyContext) private readonly idem: IdempotencyContext,
  ) {}

  @EventPattern<string>('orders')
  @Idempotent()
  async created(@Payload() order: Order, @Ctx() _ctx: RocketMQContext): Promise<void> {
    await this.orders.record(order, 'orders');
    const left = failuresLeft.get(order.orderId) ?? 0;
    if (left > 0) {
      failuresLeft.set(order.orderId, left - 1);
      throw new Error(`order ${order.orderId} failed on purpose`);
    }
  }

  @EventPattern<string>('payments')
  @Idempotent<Order>({ key: (order) => `payment:${order.orderId}` })
  async paid(@Payload() order: Order, @IdempotentManager() manager: EntityManager): Promise<void> {
    await manager.query(
      `INSERT INTO "${schema}".effects (order_id, idem_key, source) VALUES ($1, $2, 'payments')`,
      [order.orderId, this.idem.key],
    );
  }

  @EventPattern<string>('mails')
  @Idempotent({ mode: 'lease', lease: 5_000 })
  mailed(@Payload() _order: Order): void {
    let managerError: unknown;
    try {
      void this.idem.manager;
    } catch (err) {
      managerError = err;
    }
    leaseSeen.push({ owner: this.idem.scope.leaseOwner, managerError });
  }

  @EventPattern<string>('strict')
  @Idempotent({ onPayloadMismatch: 'fail' })
  async strict(@Payload() order: Order): Promise<void> {
    await this.orders.record(order, 'strict');
  }

  @MessagePattern<string>('quotes')
  @Idempotent()
  quote(@Payload() order: Order): { price: number } {
    return { price: order.amount * 2 };
  }
}

function contextOf(topic: string, messageId: string, body: unknown, group = 'billing'): RocketMQContext {
  const view = {
    messageId,
    topic,
    body: Buffer.from(JSON.stringify(body)),
    keys: [],
    properties: {},
    messageType: 'NORMAL',
    deliveryAttempt: 1,
    bornTimestamp: Date.now(),
    bornHost: 'test',
    queueId: 0,
    queueOffset: 0,
  } as unknown as ReceivedMessageView;
  return new RocketMQContext(view, group, topic);
}

let app: INestMicroservice;
let transport: InMemoryTransport;
let registry: Registry;

/** Delivers `order` on `topic` as message `messageId`, the way a transport would. */
const deliver = (topic: string, messageId: string, order: Order, group?: string) =>
  transport.dispatch(topic, order, contextOf(topic, messageId, order, group));

async function effects(source: string): Promise<Array<{ order_id: string; idem_key: string }>> {
  return (await admin.query(
    `SELECT order_id, idem_key FROM "${schema}".effects WHERE source = $1 ORDER BY order_id, idem_key`,
    [source],
  )) as Array<{ order_id: string; idem_key: string }>;
}

beforeAll(async () => {
  admin = await openDataSource(2);
  schema = await createTestSchema(admin, 'idem_nest');
  await admin.query(
    `CREATE TABLE "${schema}".effects (order_id text NOT NULL, idem_key text NOT NULL, source text NOT NULL)`,
  );
  registry = new Registry();
  const moduleRef = await Test.createTestingModule({
    imports: [
      TypeOrmModule.forRoot({ type: 'postgres', url: DATABASE_URL, poolSize: 10 }),
      IdempotencyModule.forRoot({
        table: `${schema}.keys`,
        retention: false,
        registry,
        logger: silentIdempotencyLogger,
      }),
    ],
    controllers: [OrdersListener],
    providers: [OrdersRepository],
  }).compile();
  transport = new InMemoryTransport();
  app = moduleRef.createNestMicroservice({ strategy: transport, logger: false });
  await app.listen();
});

afterAll(async () => {
  await app?.close();
  await dropTestSchema(admin, schema);
  await admin.destroy();
});

it('creates its table at startup (no synchronize, no migration run by hand)', async () => {
  const rows = (await admin.query(`SELECT to_regclass($1) AS t`, [`${schema}.keys`])) as Array<{
    t: string | null;
  }>;
  expect(rows[0]!.t).not.toBeNull();
});

it('a redelivered message is skipped: one effect, written through IdempotencyContext in the key transaction', async () => {
  const order = { orderId: 'o-1', amount: 10 };
  await deliver('orders', 'msg-1', order);
  await expect(deliver('orders', 'msg-1', order)).resolves.toBeUndefined();
  expect(await effects('orders')).toEqual([{ order_id: 'o-1', idem_key: 'orders:msg-1' }]);
});

it('a handler that fails once is rolled back and rethrown (retry); the retry writes one effect', async () => {
  const order = { orderId: 'o-2', amount: 20 };
  failuresLeft.set('o-2', 1);
  await expect(deliver('orders', 'msg-2', order)).rejects.toThrow('order o-2 failed on purpose');
  expect((await effects('orders')).filter((e) => e.order_id === 'o-2')).toEqual([]);
  await deliver('orders', 'msg-2', order);
  await deliver('orders', 'msg-2', order);
  expect((await effects('orders')).filter((e) => e.order_id === 'o-2')).toHaveLength(1);
});

it('a business key makes two messages about the same payment one; @IdempotentManager joins the transaction', async () => {
  const order = { orderId: 'o-3', amount: 30 };
  await deliver('payments', 'msg-3a', order);
  await deliver('payments', 'msg-3b', order); // another message id, same payment
  expect(await effects('payments')).toEqual([{ order_id: 'o-3', idem_key: 'payment:o-3' }]);
});

it('keys are per consumer group: a second group handles the same message', async () => {
  const order = { orderId: 'o-4', amount: 40 };
  await deliver('orders', 'msg-4', order, 'billing');
  await deliver('orders', 'msg-4', order, 'shipping');
  expect((await effects('orders')).filter((e) => e.order_id === 'o-4')).toHaveLength(2);
});

it('concurrent messages each see their own transaction and key', async () => {
  const orders = Array.from({ length: 40 }, (_, i) => ({ orderId: `c-${i}`, amount: i }));
  await Promise.all(
    orders.flatMap((o, i) => [deliver('orders', `cm-${i}`, o), deliver('orders', `cm-${i}`, o)]),
  );
  const written = (await effects('orders')).filter((e) => e.order_id.startsWith('c-'));
  expect(written).toHaveLength(40);
  for (const e of written) expect(e.idem_key).toBe(`orders:cm-${e.order_id.slice(2)}`);
});

it('lease mode runs without a transaction: the scope has a lease owner and no manager', async () => {
  await deliver('mails', 'msg-5', { orderId: 'o-5', amount: 0 });
  await deliver('mails', 'msg-5', { orderId: 'o-5', amount: 0 });
  expect(leaseSeen).toHaveLength(1);
  expect(leaseSeen[0]!.owner).toMatch(/^[0-9a-f-]{36}$/);
  expect(leaseSeen[0]!.managerError).toBeInstanceOf(IdempotencyUsageError);
});

it("a reused key with another body is refused under 'fail' (so it ends in the DLQ)", async () => {
  await deliver('strict', 'msg-6', { orderId: 'o-6', amount: 1 });
  await expect(deliver('strict', 'msg-6', { orderId: 'o-6', amount: 999 })).rejects.toBeInstanceOf(
    PayloadMismatchError,
  );
  expect(await effects('strict')).toHaveLength(1);
});

it('a request-reply handler answers its value once, and nothing for a duplicate', async () => {
  const order = { orderId: 'o-7', amount: 21 };
  await expect(deliver('quotes', 'msg-7', order)).resolves.toEqual({ price: 42 });
  await expect(deliver('quotes', 'msg-7', order)).resolves.toBeUndefined();
});

it('refuses a context without topic, message id and group', async () => {
  await expect(
    transport.dispatch('orders', { orderId: 'o-8', amount: 1 }, { foo: 1 }),
  ).rejects.toBeInstanceOf(IdempotencyUsageError);
});

it('counts outcomes in memory and in the prom-client registry', async () => {
  const counts = app.get(IdempotencyMetrics).snapshot().outcomes;
  expect(counts.processed).toBeGreaterThanOrEqual(5);
  expect(counts.duplicate).toBeGreaterThanOrEqual(5);
  expect(counts.failed).toBe(1);
  const text = await registry.getSingleMetricAsString(OUTCOME_METRIC);
  expect(text).toContain(`${OUTCOME_METRIC}{outcome="duplicate",group="billing"}`);
  expect(text).toContain(`${OUTCOME_METRIC}{outcome="processed",group="shipping"} 1`);
});

it('forRootAsync takes a DataSource instance from its factory', async () => {
  const own = await openDataSource(2);
  const moduleRef = await Test.createTestingModule({
    imports: [
      IdempotencyModule.forRootAsync({
        useFactory: () => ({ dataSource: own, table: `${schema}.async_keys`, retention: false }),
      }),
    ],
  }).compile();
  const asyncApp = moduleRef.createNestApplication({ logger: false });
  await asyncApp.init();
  const store = asyncApp.get(IdempotencyStore);
  expect(store.dataSource).toBe(own);
  expect(
    (await store.dataSource.query(`SELECT to_regclass($1) AS t`, [`${schema}.async_keys`]))[0].t,
  ).not.toBeNull();
  await asyncApp.close();
  await own.destroy();
});

it('without a DataSource the module says what is missing', async () => {
  const build = Test.createTestingModule({
    imports: [IdempotencyModule.forRoot({ retention: false })],
  }).compile();
  await expect(build).rejects.toThrow(/needs a DataSource/);
});

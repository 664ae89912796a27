/**
 * The sample's flows end to end, in one process like `npm start` (embedded broker, the three
 * services on their own Postgres databases): an order to PAID with its history, payment and
 * notifications; validation; duplicate deliveries charged once; transient failures retried;
 * a poison order dead-lettered; fan-out and broadcast across two notification instances.
 */
import { type INestApplication } from '@nestjs/common';
import { RocketMQConnection, RocketTemplate } from '@rocketnest/rocketmq';
import { readNotificationServiceConfig } from '../../notification-service/src/config.js';
import { NotificationServiceModule } from '../../notification-service/src/notification-service.module.js';
import { type OrderCreatedEvent } from '../../shared/src/events.js';
import { startServiceApp, urlOf } from '../../shared/src/service-app.js';
import { ORDER_CREATED_TOPIC } from '../../shared/src/topics.js';
import {
  AN_ORDER,
  http,
  orderIn,
  placeOrder,
  startSampleFixture,
  waitFor,
  type SampleFixture,
} from './testing/sample-fixture.js';

let sample: SampleFixture;

beforeAll(async () => {
  // A flaky gateway: 15 % of the charge attempts fail and are retried (100 ms backoff, doubling).
  // PAYMENT_MAX_RECONSUME_TIMES=7 allows 8 delivery attempts, so an order fails all of them with
  // probability 0.15⁸ ≈ 2.6·10⁻⁷ (with 3 attempts at 10 %, one of 60 orders sometimes ended FAILED);
  // and 60 first attempts all succeed with probability 0.85⁶⁰ ≈ 6·10⁻⁵, so retries do show.
  sample = await startSampleFixture('flow', {
    PAYMENT_FAILURE_RATE: '0.15',
    PAYMENT_MAX_RECONSUME_TIMES: '7',
  });
}, 180_000);

afterAll(async () => {
  await sample?.stop();
}, 60_000);

it('POST /orders answers 201 PENDING, and the order becomes PAID with its history, one payment and two notifications', async () => {
  const created = await placeOrder(sample);
  expect(created.status).toBe('PENDING');
  const paid = await orderIn(sample, created.id, ['PAID', 'FAILED', 'CANCELLED']);
  expect(paid.status).toBe('PAID');
  expect(paid.history.map((h) => [h.seq, h.from, h.to, h.event])).toEqual([
    [1, null, 'PENDING', 'ORDER_CREATED'],
    [2, 'PENDING', 'PAID', 'PAYMENT_SUCCEEDED'],
  ]);
  const payments = await sample.sql('payment', `SELECT status, amount FROM payments WHERE order_id = $1`, [
    created.id,
  ]);
  expect(payments).toEqual([{ status: 'PAID', amount: '25.00' }]);
  const kinds = await waitFor(async () => {
    const rows = await sample.sql<{ kind: string }>(
      'notification',
      `SELECT kind FROM notifications WHERE order_id = $1 ORDER BY kind`,
      [created.id],
    );
    return rows.length === 2 ? rows.map((r) => r.kind) : undefined;
  }, 'both notifications');
  expect(kinds).toEqual(['ORDER_CONFIRMATION', 'PAYMENT_RECEIPT']);
});

it.each([
  ['an amount that is not Σ qty × price', { ...AN_ORDER, amount: 24.99 }, 'amount must equal'],
  ['no items', { ...AN_ORDER, items: [], amount: 25 }, 'items'],
  [
    'a negative quantity',
    { ...AN_ORDER, items: [{ sku: 'book', qty: -2, price: 12.5 }], amount: -25 },
    'qty',
  ],
  ['a missing userId', { items: AN_ORDER.items, amount: 25 }, 'userId'],
  ['an unknown field', { ...AN_ORDER, coupon: 'FREE' }, 'coupon'],
  [
    'a price with three decimals',
    { ...AN_ORDER, items: [{ sku: 'b', qty: 1, price: 1.005 }], amount: 1.01 },
    'price',
  ],
])('POST /orders with %s answers 400 and stores nothing', async (_what, body, mentions) => {
  const before = await sample.sql<{ n: number }>('order', `SELECT count(*)::int AS n FROM orders`);
  const { status, body: answer } = await http<{ message: string[] }>(
    'POST',
    `${sample.urls.order}/orders`,
    body,
  );
  expect(status).toBe(400);
  expect(answer.message.join(' ')).toContain(mentions);
  const after = await sample.sql<{ n: number }>('order', `SELECT count(*)::int AS n FROM orders`);
  expect(after[0]!.n).toBe(before[0]!.n);
});

it('GET /orders/:id answers 404 for an unknown order and 400 for a malformed id', async () => {
  expect((await http('GET', `${sample.urls.order}/orders/00000000-0000-4000-8000-000000000000`)).status).toBe(
    404,
  );
  expect((await http('GET', `${sample.urls.order}/orders/not-an-id`)).status).toBe(400);
});

it('the same order-created delivered three more times is charged once: one payment row, duplicates counted', async () => {
  const created = await placeOrder(sample, {
    userId: 'bob',
    items: [{ sku: 'pen', qty: 3, price: 1.5 }],
    amount: 4.5,
  });
  await orderIn(sample, created.id, ['PAID']);
  const duplicatesBefore = (
    await http<{ duplicatesSuppressed: number }>('GET', `${sample.urls.payment}/stats`)
  ).body.duplicatesSuppressed;
  const event: OrderCreatedEvent = {
    orderId: created.id,
    userId: 'bob',
    items: [{ sku: 'pen', qty: 3, price: 1.5 }],
    amount: 4.5,
    createdAt: Date.parse((created as unknown as { createdAt: string }).createdAt),
  };
  const rocket = sample.apps.order.get(RocketTemplate);
  for (let copy = 0; copy < 3; copy++) {
    await rocket.sendInTransaction(ORDER_CREATED_TOPIC, event, () => 'COMMIT', { keys: [created.id] });
  }
  await waitFor(async () => {
    const { body } = await http<{ duplicatesSuppressed: number }>('GET', `${sample.urls.payment}/stats`);
    return body.duplicatesSuppressed >= duplicatesBefore + 3;
  }, 'three duplicates suppressed by payment-service');
  const payments = await sample.sql('payment', `SELECT id FROM payments WHERE order_id = $1`, [created.id]);
  expect(payments).toHaveLength(1);
  const notifications = await sample.sql(
    'notification',
    `SELECT id FROM notifications WHERE order_id = $1 AND kind = 'ORDER_CONFIRMATION'`,
    [created.id],
  );
  expect(notifications).toHaveLength(1);
});

it('with a flaky gateway, 60 orders all end PAID, each charged once, and the retries show in GET /stats', async () => {
  const created = await Promise.all(
    Array.from({ length: 60 }, (_, i) => placeOrder(sample, { ...AN_ORDER, userId: `u${i}` })),
  );
  for (const order of created)
    expect((await orderIn(sample, order.id, ['PAID', 'FAILED', 'CANCELLED'])).status).toBe('PAID');
  const rows = await sample.sql<{ orders: number; payments: number }>(
    'payment',
    `SELECT count(DISTINCT order_id)::int AS orders, count(*)::int AS payments FROM payments WHERE order_id = ANY($1::uuid[])`,
    [created.map((o) => o.id)],
  );
  expect(rows[0]).toEqual({ orders: 60, payments: 60 });
  const { body } = await http<{ retries: number; gateway: { transientFailures: number } }>(
    'GET',
    `${sample.urls.payment}/stats`,
  );
  expect(body.gateway.transientFailures).toBeGreaterThan(0);
  expect(body.retries).toBeGreaterThan(0);
}, 120_000);

it('a poison order is retried, dead-lettered to %DLQ%payment, recorded, and its order ends FAILED without a charge', async () => {
  const created = await placeOrder(sample, {
    userId: 'poison',
    items: [{ sku: 'book', qty: 1, price: 9.99 }],
    amount: 9.99,
  });
  const failed = await orderIn(sample, created.id, ['PAID', 'FAILED', 'CANCELLED'], 90_000);
  expect(failed.status).toBe('FAILED');
  const dead = await sample.sql('payment', `SELECT order_id FROM payment_dead_letters WHERE order_id = $1`, [
    created.id,
  ]);
  expect(dead).toHaveLength(1);
  expect(
    await sample.sql('payment', `SELECT id FROM payments WHERE order_id = $1`, [created.id]),
  ).toHaveLength(0);
  const { body } = await http<{ deadLetters: number; gateway: { poisonFailures: number } }>(
    'GET',
    `${sample.urls.payment}/stats`,
  );
  expect(body.deadLetters).toBeGreaterThanOrEqual(1);
  // PAYMENT_MAX_RECONSUME_TIMES=7: the first delivery and seven retries.
  expect(body.gateway.poisonFailures).toBeGreaterThanOrEqual(8);
  const notice = await waitFor(async () => {
    const rows = await sample.sql<{ text: string }>(
      'notification',
      `SELECT text FROM notifications WHERE order_id = $1 AND kind = 'PAYMENT_FAILED'`,
      [created.id],
    );
    return rows[0];
  }, 'the failure notification');
  expect(notice.text).toContain('DEAD_LETTERED');
}, 120_000);

describe('a second notification-service instance', () => {
  let second: INestApplication;
  let secondUrl: string;

  beforeAll(async () => {
    const config = readNotificationServiceConfig({
      ROCKETMQ_ENDPOINTS: sample.apps.order.get(RocketMQConnection).endpoints,
      DATABASE_URL: sample.databases.notification,
      INSTANCE_NAME: 'notifier-two',
      NOTIFICATION_PORT: '0',
    });
    second = await startServiceApp(NotificationServiceModule.forRoot(config), {
      port: 0,
      logger: false,
      shutdownHooks: false,
    });
    secondUrl = await urlOf(second);
  }, 120_000);

  afterAll(async () => {
    await second?.close();
  });

  it('shares the order notifications with the first (clustering: one per order) and both apply a broadcast config change', async () => {
    const orders = await Promise.all(
      Array.from({ length: 10 }, (_, i) => placeOrder(sample, { ...AN_ORDER, userId: `fan${i}` })),
    );
    for (const order of orders) await orderIn(sample, order.id, ['PAID']);
    const confirmations = await waitFor(async () => {
      const rows = await sample.sql<{ order_id: string }>(
        'notification',
        `SELECT order_id FROM notifications WHERE kind = 'ORDER_CONFIRMATION' AND order_id = ANY($1::text[])`,
        [orders.map((o) => o.id)],
      );
      return rows.length >= 10 ? rows : undefined;
    }, 'ten order confirmations');
    expect(new Set(confirmations.map((r) => r.order_id)).size).toBe(10);
    expect(confirmations).toHaveLength(10);

    const { status } = await http('POST', `${secondUrl}/config`, { key: 'greeting', value: 'Bonjour' });
    expect(status).toBe(202);
    const applied = await waitFor(async () => {
      const rows = await sample.sql<{ instance: string }>(
        'notification',
        `SELECT instance FROM notifications WHERE kind = 'CONFIG_APPLIED' AND text = 'greeting=Bonjour'`,
      );
      return rows.length >= 2 ? rows : undefined;
    }, 'the change applied by both instances');
    expect(new Set(applied.map((r) => r.instance)).size).toBe(2);
    expect(applied).toHaveLength(2);
    for (const url of [sample.urls.notification, secondUrl]) {
      expect(
        (await http<{ settings: { greeting: string } }>('GET', `${url}/config`)).body.settings.greeting,
      ).toBe('Bonjour');
    }
  }, 120_000);
});

it('GET /health is up on every service, with the database and the broker', async () => {
  for (const url of Object.values(sample.urls)) {
    const { status, body } = await http<{ status: string; info: Record<string, { status: string }> }>(
      'GET',
      `${url}/health`,
    );
    expect(status).toBe(200);
    expect(body.info.database?.status).toBe('up');
    expect(body.info.rocketmq?.status).toBe('up');
  }
});

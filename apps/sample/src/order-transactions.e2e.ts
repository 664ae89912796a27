/**
 * The transactional message and the delayed timeout, end to end (embedded broker, Postgres):
 * a local transaction that fails rolls the half message back (nothing charged, nobody notified);
 * a producer that dies before ending its transaction is answered by the order service's checker
 * from its transaction log (COMMIT when the order is there, ROLLBACK when it never will be); an
 * order left unpaid is cancelled by its delayed message, and a payment arriving after that is
 * recorded as a refund to make.
 */
import { JsonPayloadCodec, Producer, RocketListenerRegistry, RocketMQConnection } from '@rocketnest/rocketmq';
import { randomUUID } from 'node:crypto';
import { type OrderCreatedEvent } from '../../shared/src/events.js';
import { ORDER_CREATED_TOPIC } from '../../shared/src/topics.js';
import {
  AN_ORDER,
  FINAL_STATUSES,
  http,
  orderIn,
  placeOrder,
  startSampleFixture,
  waitFor,
  type OrderAnswer,
  type SampleFixture,
} from './testing/sample-fixture.js';

const ORDER_TIMEOUT_MS = 3_000;
const PAYMENT_LISTENER = 'OrderCreatedListener.onOrderCreated';

let sample: SampleFixture;

beforeAll(async () => {
  sample = await startSampleFixture(
    'tx',
    { ORDER_TIMEOUT_MS: String(ORDER_TIMEOUT_MS), ORDER_TX_ROLLBACK_AFTER_MS: '5000' },
    // Check-backs within a second, so that the test does not wait RocketMQ's 6 s + 30 s.
    { broker: { core: { transaction: { firstCheckMs: 300, checkIntervalMs: 500 } } } },
  );
  // A database failure at the end of the local transaction, for one user only: the transaction
  // log's insert raises after the order and its history were written in the same transaction.
  await sample.sql(
    'order',
    `CREATE FUNCTION reject_user() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       IF EXISTS (SELECT 1 FROM orders WHERE id = NEW.order_id AND user_id = 'db-rejects') THEN
         RAISE EXCEPTION 'the database rejects order %', NEW.order_id;
       END IF;
       RETURN NEW;
     END $$`,
  );
  await sample.sql(
    'order',
    `CREATE TRIGGER reject_user BEFORE INSERT ON order_transaction_log FOR EACH ROW EXECUTE FUNCTION reject_user()`,
  );
}, 180_000);

afterAll(async () => {
  await sample?.stop();
}, 60_000);

/** A half message from a producer that then dies without ending it (the check-back must decide). */
async function orphanedHalfMessage(event: OrderCreatedEvent): Promise<void> {
  const producer = await Producer.start({
    endpoints: sample.apps.order.get(RocketMQConnection).endpoints,
    topics: [ORDER_CREATED_TOPIC],
  });
  try {
    const encoded = new JsonPayloadCodec().serialize(event);
    const { resolution } = await producer.sendInTransaction(
      {
        topic: ORDER_CREATED_TOPIC,
        body: encoded.body,
        properties: encoded.properties,
        keys: [event.orderId],
      },
      () => 'UNKNOWN',
    );
    expect(resolution).toBe('UNKNOWN');
  } finally {
    await producer.close();
  }
}

/**
 * A later order of `userId` reaches its final status and is notified: it passed through both
 * consumers, so a message delivered before it would have been seen first.
 */
async function laterOrderGoesThrough(userId: string): Promise<void> {
  const later = await placeOrder(sample, { ...AN_ORDER, userId });
  await orderIn(sample, later.id, FINAL_STATUSES);
  await waitFor(
    async () =>
      (await sample.sql('notification', `SELECT 1 FROM notifications WHERE order_id = $1`, [later.id]))
        .length > 0,
    'the later order notified',
  );
}

it('a local transaction that fails answers 503, stores nothing, and its order-created never reaches payment or notification', async () => {
  const { status, body } = await http<{ orderId: string }>('POST', `${sample.urls.order}/orders`, {
    ...AN_ORDER,
    userId: 'db-rejects',
  });
  expect(status).toBe(503);
  expect(body.orderId).toMatch(/^[0-9a-f-]{36}$/);
  expect(await sample.sql('order', `SELECT id FROM orders WHERE id = $1`, [body.orderId])).toHaveLength(0);
  expect(
    await sample.sql('order', `SELECT id FROM order_status_history WHERE order_id = $1`, [body.orderId]),
  ).toHaveLength(0);
  expect(
    await sample.sql('order', `SELECT order_id FROM order_transaction_log WHERE order_id = $1`, [
      body.orderId,
    ]),
  ).toHaveLength(0);
  // A later order passes through both consumers: had the rejected one been delivered, it would be there first.
  await laterOrderGoesThrough('after-reject');
  expect(
    await sample.sql('payment', `SELECT id FROM payments WHERE order_id = $1 OR user_id = 'db-rejects'`, [
      body.orderId,
    ]),
  ).toHaveLength(0);
  expect(
    await sample.sql(
      'notification',
      `SELECT id FROM notifications WHERE order_id = $1 OR user_id = 'db-rejects'`,
      [body.orderId],
    ),
  ).toHaveLength(0);
  const core = sample.broker!.core;
  await waitFor(() => core.pendingTransactions === 0, 'no transaction left open on the broker');
}, 90_000);

it('an orphaned half message whose order committed is COMMITted by the checker, and the order gets PAID', async () => {
  const orderId = randomUUID();
  const createdAt = Date.now();
  // What the local transaction committed before its producer died.
  await sample.sql(
    'order',
    `INSERT INTO orders (id, user_id, items, amount, status, version, created_at, updated_at)
     VALUES ($1, 'carol', $2, 25, 'PENDING', 1, to_timestamp($3 / 1000.0), to_timestamp($3 / 1000.0))`,
    [orderId, JSON.stringify(AN_ORDER.items), createdAt],
  );
  await sample.sql(
    'order',
    `INSERT INTO order_status_history (order_id, seq, from_status, to_status, event, at)
     VALUES ($1, 1, NULL, 'PENDING', 'ORDER_CREATED', now())`,
    [orderId],
  );
  await sample.sql(
    'order',
    `INSERT INTO order_transaction_log (order_id, transaction_id, message_id, created_at) VALUES ($1, 'lost', 'lost', now())`,
    [orderId],
  );
  await orphanedHalfMessage({ orderId, userId: 'carol', items: AN_ORDER.items, amount: 25, createdAt });
  const paid = await orderIn(sample, orderId, FINAL_STATUSES);
  expect(paid.status).toBe('PAID');
  expect(await sample.sql('payment', `SELECT id FROM payments WHERE order_id = $1`, [orderId])).toHaveLength(
    1,
  );
}, 90_000);

it('an orphaned half message of an order that never committed is ROLLed BACK by the checker and never delivered', async () => {
  const orderId = randomUUID();
  // Older than ORDER_TX_ROLLBACK_AFTER_MS and absent: its local transaction will never commit.
  await orphanedHalfMessage({
    orderId,
    userId: 'dave',
    items: AN_ORDER.items,
    amount: 25,
    createdAt: Date.now() - 60_000,
  });
  const core = sample.broker!.core;
  await waitFor(() => core.pendingTransactions === 0, 'the half message resolved by the check-back', 30_000);
  await laterOrderGoesThrough('after-rollback');
  expect(await sample.sql('payment', `SELECT id FROM payments WHERE order_id = $1`, [orderId])).toHaveLength(
    0,
  );
  expect(
    await sample.sql('notification', `SELECT id FROM notifications WHERE order_id = $1`, [orderId]),
  ).toHaveLength(0);
}, 90_000);

it('an order left unpaid is CANCELLED by its delayed order-timeout; a payment after that flags a refund, the status stays CANCELLED', async () => {
  const registry = sample.apps.payment.get(RocketListenerRegistry);
  await registry.pause(PAYMENT_LISTENER);
  let created: OrderAnswer;
  try {
    created = await placeOrder(sample, { ...AN_ORDER, userId: 'slowpay' });
    const cancelled = await orderIn(sample, created.id, FINAL_STATUSES, 60_000);
    expect(cancelled.status).toBe('CANCELLED');
    expect(cancelled.history.map((h) => h.event)).toEqual(['ORDER_CREATED', 'PAYMENT_TIMEOUT']);
  } finally {
    await registry.resume(PAYMENT_LISTENER);
  }
  const refund = await waitFor(async () => {
    const { body } = await http<OrderAnswer>('GET', `${sample.urls.order}/orders/${created.id}`);
    return body.refundRequired ? body : undefined;
  }, 'the late payment flagged');
  expect(refund.status).toBe('CANCELLED');
  expect(refund.history.map((h) => [h.seq, h.from, h.to, h.event])).toEqual([
    [1, null, 'PENDING', 'ORDER_CREATED'],
    [2, 'PENDING', 'CANCELLED', 'PAYMENT_TIMEOUT'],
    [3, 'CANCELLED', 'CANCELLED', 'REFUND_REQUIRED'],
  ]);
  const { body: stats } = await http<{ byStatus: Record<string, number>; refundRequired: number }>(
    'GET',
    `${sample.urls.order}/stats`,
  );
  expect(stats.byStatus.CANCELLED).toBeGreaterThanOrEqual(1);
  expect(stats.refundRequired).toBeGreaterThanOrEqual(1);
}, 120_000);

it('an order paid in time is not touched by its later order-timeout', async () => {
  const created = await placeOrder(sample, { ...AN_ORDER, userId: 'onetime' });
  expect((await orderIn(sample, created.id, FINAL_STATUSES)).status).toBe('PAID');
  // The timeout message is consumed (the order-timeout group catches up) and changes nothing.
  await waitFor(
    async () => {
      const lag = sample.broker!.core.lag('order-timeout', 'order-timeout');
      return (
        lag.total === 0 &&
        Date.now() >
          Date.parse((created as unknown as { createdAt: string }).createdAt) + ORDER_TIMEOUT_MS + 500
      );
    },
    'the timeout delivered and consumed',
    60_000,
  );
  const after = await http<OrderAnswer>('GET', `${sample.urls.order}/orders/${created.id}`);
  expect(after.body.status).toBe('PAID');
  expect(after.body.history).toHaveLength(2);
}, 90_000);

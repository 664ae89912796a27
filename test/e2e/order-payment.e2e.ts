/**
 * The sample as separate OS processes, like the compose stack: a standalone broker, order-,
 * payment- and notification-service each in its own process with its own fresh database on the
 * real PostgreSQL.
 *
 * Forced duplicates: every order-created is published twice (ORDER_DUPLICATE_RATE=1, a producer
 * retry) and every payment-result twice (PAYMENT_DUPLICATE_RATE=1); one charge in five fails
 * transiently and is redelivered; the SIGKILL of the payment service leaves messages that were
 * charged but not acknowledged, which the broker delivers again to the restarted service.
 */
import { type Pool } from 'pg';
import { getJson } from '../../apps/shared/src/testing/http-json.js';
import { historyProblems } from './support/order-history.js';
import {
  deadLetteredOrders,
  DECLINE_ABOVE,
  orderRequest,
  ordersWithHistory,
  paymentMismatches,
  paymentsOf,
  placeOrders,
  waitAllFinal,
  type OrderRequest,
} from './support/orders.js';
import { SampleStack } from './support/sample-stack.js';
import { pollUntil } from './support/service-process.js';

/** Every wait polls; these are only the bounds on a loaded 2-core machine. */
const STACK_START_TIMEOUT_MS = 180_000;
const SETTLE_TIMEOUT_MS = 120_000;
/** Charges slow enough that a burst is still being worked on when the service is killed. */
const CHARGE_LATENCY_MS = '200';

interface PaymentStats {
  payments: { paid: number; failed: number };
  duplicatesSuppressed: number;
  gateway: { transientFailures: number; charges: number; declines: number };
}

interface OrderStats {
  duplicatesSuppressed: number;
}

describe('sample as separate processes: 200 orders with forced duplicates, and a payment service killed mid-run', () => {
  let stack: SampleStack;
  const ordersDb = (): Pool => stack.db('order-service').pool;
  const paymentsDb = (): Pool => stack.db('payment-service').pool;

  beforeAll(async () => {
    stack = await SampleStack.start({
      name: 'e2e_pay',
      env: {
        // No cancellation in this file: every order waits for its payment.
        'order-service': { ORDER_TIMEOUT_MS: '600000', ORDER_DUPLICATE_RATE: '1' },
        'payment-service': {
          PAYMENT_FAILURE_RATE: '0.2',
          PAYMENT_RETRY_BACKOFF_MS: '100',
          PAYMENT_DUPLICATE_RATE: '1',
          PAYMENT_LATENCY_MS: CHARGE_LATENCY_MS,
        },
      },
    });
  }, STACK_START_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  /** Waits until every order of `ids` is settled, then checks its status, payment and history. */
  async function audit(ids: readonly string[], requests: readonly OrderRequest[]): Promise<void> {
    const statuses = await waitAllFinal(ordersDb(), ids, SETTLE_TIMEOUT_MS, () => stack.describe());
    // No timeout in this file: every order ends PAID or FAILED, declines FAILED.
    const unexpected = ids.filter((id, i) => {
      const status = statuses.get(id);
      return requests[i]!.amount > DECLINE_ABOVE
        ? status !== 'FAILED'
        : status !== 'PAID' && status !== 'FAILED';
    });
    expect(unexpected.map((id) => `${id}: ${statuses.get(id)}`)).toEqual([]);
    const payments = await paymentsOf(paymentsDb(), ids);
    expect(paymentMismatches(statuses, payments, await deadLetteredOrders(paymentsDb()))).toEqual([]);
    const orders = await ordersWithHistory(stack.url('order-service'), ids);
    expect(orders.flatMap(historyProblems)).toEqual([]);
    // Each order left PENDING once, though its payment result arrived at least twice.
    expect(orders.filter((o) => o.history.length !== 2).map((o) => o.id)).toEqual([]);
  }

  it('200 orders all reach a final state, each paid order charged exactly once despite duplicates, every history in order', async () => {
    const requests = Array.from({ length: 200 }, (_, i) => orderRequest(i));
    const ids = await placeOrders(stack.url('order-service'), requests);
    await audit(ids, requests);

    // The duplicates really reached the consumers and were suppressed there: one per order on
    // order-created (payment) and one per outcome on payment-result (order).
    const paymentUrl = `${stack.url('payment-service')}/stats`;
    const stats = await pollUntil(
      'a suppressed duplicate of every order-created',
      async () => {
        const s = await getJson<PaymentStats>(paymentUrl);
        return s.duplicatesSuppressed >= ids.length ? s : undefined;
      },
      SETTLE_TIMEOUT_MS,
      () => stack.describe(),
    );
    const paid = (await paymentsOf(paymentsDb(), ids)).size;
    expect(stats.payments.paid + stats.payments.failed).toBe(paid);
    // The gateway charged once per PAID payment: no duplicate got as far as the card network.
    expect(stats.gateway.charges).toBe(stats.payments.paid);
    expect(stats.gateway.transientFailures).toBeGreaterThan(0);
    await pollUntil(
      'a suppressed duplicate of every payment outcome',
      async () => {
        const s = await getJson<OrderStats>(`${stack.url('order-service')}/stats`);
        return s.duplicatesSuppressed >= paid ? s : undefined;
      },
      SETTLE_TIMEOUT_MS,
      () => stack.describe(),
    );
  }, 300_000);

  it('SIGKILL of the payment service mid-run, then a restart: no order lost, none paid twice', async () => {
    const requests = Array.from({ length: 200 }, (_, i) => orderRequest(i + 1));
    const ids = await placeOrders(stack.url('order-service'), requests);

    // Killed as soon as the first payments commit (the gateway takes CHARGE_LATENCY_MS per charge):
    // most orders are still queued or in flight, charged but not acknowledged.
    const paidAtKill = await pollUntil(
      'the first payments of the burst',
      async () => {
        const n = (await paymentsOf(paymentsDb(), ids)).size;
        return n > 0 ? n : undefined;
      },
      SETTLE_TIMEOUT_MS,
      () => stack.describe(),
      50,
    );
    await stack.crash('payment-service');
    const afterKill = (await paymentsOf(paymentsDb(), ids)).size;
    expect(afterKill).toBeLessThan(ids.length);
    expect(afterKill).toBeGreaterThanOrEqual(paidAtKill);

    await stack.startApp('payment-service');
    await audit(ids, requests);
  }, 300_000);
});

/**
 * The sample's delayed and transactional messages, as separate processes on the real PostgreSQL:
 * an unpaid order is cancelled by its delayed `order-timeout` message, and an order whose local
 * transaction did not commit — it failed, or its service died between the half message and the
 * commit — is rolled back and never reaches the payment service.
 */
import pg from 'pg';
import { getJson, requestJson } from '../../apps/shared/src/testing/http-json.js';
import { historyProblems, type OrderWithHistory } from './support/order-history.js';
import { orderRequest, paymentsOf, placeOrders } from './support/orders.js';
import { SampleStack } from './support/sample-stack.js';
import { pollUntil } from './support/service-process.js';

const STACK_START_TIMEOUT_MS = 180_000;
const SETTLE_TIMEOUT_MS = 120_000;
/** The demo-like timeout: an order unpaid for this long is cancelled. */
const ORDER_TIMEOUT_MS = 4_000;
const TX_ROLLBACK_AFTER_MS = 4_000;
/** What the order service logs when its check-back rolls an order back. */
const CHECK_BACK_ROLLBACK = /check-back of order ([0-9a-f-]{36}): absent after \d+ ms; ROLLBACK/;

interface OrderView extends OrderWithHistory {
  readonly refundRequired: boolean;
}

describe('sample as separate processes: delayed cancellation and rolled-back order transactions', () => {
  let stack: SampleStack;

  beforeAll(async () => {
    stack = await SampleStack.start({
      name: 'e2e_tx',
      apps: ['order-service', 'payment-service'],
      env: {
        'order-service': {
          ORDER_TIMEOUT_MS: String(ORDER_TIMEOUT_MS),
          // The check-back answers ROLLBACK for an order absent this long after it was created
          // (default 60 s): shorter than the broker's first check (6 s after the half message).
          ORDER_TX_ROLLBACK_AFTER_MS: String(TX_ROLLBACK_AFTER_MS),
        },
      },
    });
  }, STACK_START_TIMEOUT_MS);

  afterAll(async () => {
    await stack?.close();
  }, 60_000);

  const getOrder = (id: string, url = stack.url('order-service')) =>
    getJson<OrderView>(`${url}/orders/${id}`);

  /** The broker's transactions still waiting for a COMMIT or ROLLBACK (its admin API). */
  const pendingTransactions = async (): Promise<number> =>
    (await getJson<{ pendingTransactions: number }>(`${stack.brokerAdminUrl}/status`)).pendingTransactions;

  /**
   * Waits until nothing more can reach the payment service: a sentinel order placed now has been
   * charged (the consumer is alive and past it), no transaction is pending at the broker, and the
   * payment group has consumed all of order-created.
   */
  async function quiesce(orderUrl: string): Promise<void> {
    const [sentinel] = await placeOrders(orderUrl, [orderRequest(0)]);
    await pollUntil(
      'the sentinel order charged',
      async () =>
        (await paymentsOf(stack.db('payment-service').pool, [sentinel!])).size === 1 ? true : undefined,
      SETTLE_TIMEOUT_MS,
      () => stack.describe(),
    );
    await pollUntil(
      'no pending transaction and no payment backlog',
      async () => {
        const lag = (await getJson<{ lag: number | null }>(`${stack.url('payment-service')}/stats`)).lag;
        return (await pendingTransactions()) === 0 && lag === 0 ? true : undefined;
      },
      SETTLE_TIMEOUT_MS,
      () => stack.describe(),
    );
  }

  it('an order nobody pays is cancelled by its delayed message; a payment arriving later only flags a refund', async () => {
    await stack.crash('payment-service');
    const [id] = await placeOrders(stack.url('order-service'), [orderRequest(1)]);

    const cancelled = await pollUntil(
      'the order cancelled',
      async () => {
        const order = await getOrder(id!);
        return order.status === 'CANCELLED' ? order : undefined;
      },
      SETTLE_TIMEOUT_MS,
      () => stack.describe(),
    );
    expect(cancelled.history.map((h) => [h.from, h.to, h.event])).toEqual([
      [null, 'PENDING', 'ORDER_CREATED'],
      ['PENDING', 'CANCELLED', 'PAYMENT_TIMEOUT'],
    ]);
    // Not before its timeout: the message was delayed, not delivered at once.
    expect(
      Date.parse(cancelled.history[1]!.at) - Date.parse(cancelled.history[0]!.at),
    ).toBeGreaterThanOrEqual(ORDER_TIMEOUT_MS);

    // The payment service comes back and charges the committed order-created: the order stays
    // CANCELLED (the customer was told so) and is flagged for a refund.
    await stack.startApp('payment-service');
    const flagged = await pollUntil(
      'the late payment flagged as a refund',
      async () => {
        const order = await getOrder(id!);
        return order.refundRequired ? order : undefined;
      },
      SETTLE_TIMEOUT_MS,
      () => stack.describe(),
    );
    expect(flagged.status).toBe('CANCELLED');
    expect(flagged.history.map((h) => h.event)).toEqual([
      'ORDER_CREATED',
      'PAYMENT_TIMEOUT',
      'REFUND_REQUIRED',
    ]);
    expect(historyProblems(flagged)).toEqual([]);
  }, 300_000);

  it('an order whose local transaction fails answers 503, does not exist, and is never charged', async () => {
    // The database refuses this user's orders: the local transaction fails after the half message.
    await stack
      .db('order-service')
      .pool.query(`ALTER TABLE orders ADD CONSTRAINT e2e_refused_user CHECK (user_id <> 'refused-by-db')`);
    const refused = await requestJson<{ orderId: string }>('POST', `${stack.url('order-service')}/orders`, {
      ...orderRequest(2),
      userId: 'refused-by-db',
    });
    expect(refused.status).toBe(503);
    const id = refused.body.orderId;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await requestJson('GET', `${stack.url('order-service')}/orders/${id}`)).status).toBe(404);

    await quiesce(stack.url('order-service'));
    expect((await paymentsOf(stack.db('payment-service').pool, [id])).size).toBe(0);
    expect((await requestJson('GET', `${stack.url('payment-service')}/payments/${id}`)).status).toBe(404);
  }, 300_000);

  it('an order-service killed between half message and commit is rolled back by the check-back from the database, never charged', async () => {
    const survivor = await stack.startApp('order-service', {}, 'order-service-2');
    const victim = stack.service('order-service');

    // Hold the orders table so that the victim's local transaction waits inside its INSERT: the
    // half message is stored by then (the local transaction runs after it).
    const lock = new pg.Client({ connectionString: stack.db('order-service').url });
    await lock.connect();
    try {
      await lock.query('BEGIN');
      await lock.query('LOCK TABLE orders IN ACCESS EXCLUSIVE MODE');
      const answer = requestJson('POST', `${victim.url}/orders`, orderRequest(3)).catch(
        (err: unknown) => err,
      );
      await pollUntil(
        'the local transaction blocked',
        async () => {
          // Not on `lock`: inside its transaction pg_stat_activity is a snapshot taken once.
          const { rows } = await stack.db('order-service').pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity
             WHERE datname = current_database() AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()`,
          );
          return rows[0]!.n > 0 ? true : undefined;
        },
        SETTLE_TIMEOUT_MS,
        () => stack.describe(),
        100,
      );
      await stack.crash('order-service');
      await answer; // the connection died with the service
      await lock.query('ROLLBACK');
    } finally {
      await lock.end();
    }

    // The broker checks the half message back with a live producer of order-created — the
    // survivor (or, on a machine slow enough that the first check came before the kill, the
    // victim itself) — which finds no transaction log row for the order and answers ROLLBACK.
    const id = await pollUntil(
      'a check-back answering ROLLBACK',
      () => {
        for (const line of [...survivor.process.lines, ...victim.process.lines]) {
          const match = CHECK_BACK_ROLLBACK.exec(line);
          if (match) return match[1];
        }
        return undefined;
      },
      SETTLE_TIMEOUT_MS,
      () => stack.describe(),
    );
    expect((await requestJson('GET', `${survivor.url}/orders/${id}`)).status).toBe(404);
    await quiesce(survivor.url);
    expect((await paymentsOf(stack.db('payment-service').pool, [id])).size).toBe(0);
  }, 300_000);
});

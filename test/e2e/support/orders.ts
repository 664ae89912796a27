/**
 * The sample's orders as a client and an auditor see them: placed with `POST /orders`, read back
 * with `GET /orders/:id`, and their payments and statuses counted in the services' own databases.
 */
import { type Pool } from 'pg';
import { getJson, requestJson } from '../../../apps/shared/src/testing/http-json.js';
import { type OrderStatus, type OrderWithHistory } from './order-history.js';
import { pollUntil } from './service-process.js';

/** Above this the payment gateway declines (payment-service's default PAYMENT_DECLINE_ABOVE). */
export const DECLINE_ABOVE = 10_000;
/** Orders placed at once: enough to build a backlog, few enough for a 2-core machine. */
const PLACING_CONCURRENCY = 8;
/** Statuses an order never leaves. */
export const FINAL_STATUSES: readonly OrderStatus[] = ['PAID', 'FAILED', 'CANCELLED'];

export interface OrderRequest {
  readonly userId: string;
  readonly items: readonly { readonly sku: string; readonly qty: number; readonly price: number }[];
  readonly amount: number;
}

/** The `i`-th order of a burst: every `declineEvery`-th one above the decline limit. */
export function orderRequest(i: number, declineEvery = 20): OrderRequest {
  const price = i % declineEvery === declineEvery - 1 ? DECLINE_ABOVE + 1 : 10 + (i % 7);
  return { userId: `user-${i % 10}`, items: [{ sku: `sku-${i % 5}`, qty: 1, price }], amount: price };
}

/** Places `requests` (a few at a time); the ids of the created orders, in request order. */
export async function placeOrders(orderUrl: string, requests: readonly OrderRequest[]): Promise<string[]> {
  const ids: string[] = new Array<string>(requests.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < requests.length) {
      const i = next++;
      const response = await requestJson<{ id: string; status: string }>(
        'POST',
        `${orderUrl}/orders`,
        requests[i],
      );
      if (response.status !== 201) {
        throw new Error(`POST /orders #${i} answered ${response.status}: ${JSON.stringify(response.body)}`);
      }
      ids[i] = response.body.id;
    }
  };
  await Promise.all(Array.from({ length: PLACING_CONCURRENCY }, worker));
  return ids;
}

/** Status of each of `ids` in the order database. */
export async function statusesOf(orders: Pool, ids: readonly string[]): Promise<Map<string, OrderStatus>> {
  const { rows } = await orders.query<{ id: string; status: OrderStatus }>(
    'SELECT id, status FROM orders WHERE id = ANY($1::uuid[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.status]));
}

/** Waits until every one of `ids` is in a final status; their statuses. */
export async function waitAllFinal(
  orders: Pool,
  ids: readonly string[],
  timeoutMs: number,
  context: () => string,
): Promise<Map<string, OrderStatus>> {
  let last = new Map<string, OrderStatus>();
  return pollUntil(
    `${ids.length} orders in a final status`,
    async () => {
      last = await statusesOf(orders, ids);
      const final = [...last.values()].filter((s) => FINAL_STATUSES.includes(s)).length;
      return final === ids.length ? last : undefined;
    },
    timeoutMs,
    () => `${[...last.values()].filter((s) => s === 'PENDING').length} still PENDING\n${context()}`,
    500,
  );
}

export interface PaymentRow {
  readonly orderId: string;
  readonly status: 'PAID' | 'FAILED';
  readonly reason: string | null;
}

/** Every payment row of `ids` (payment database), by order id; several per order would show as a list. */
export async function paymentsOf(payments: Pool, ids: readonly string[]): Promise<Map<string, PaymentRow[]>> {
  const { rows } = await payments.query<PaymentRow>(
    'SELECT order_id AS "orderId", status, reason FROM payments WHERE order_id = ANY($1::uuid[])',
    [ids],
  );
  const byOrder = new Map<string, PaymentRow[]>();
  for (const row of rows) byOrder.set(row.orderId, [...(byOrder.get(row.orderId) ?? []), row]);
  return byOrder;
}

/** Order ids of the dead letters recorded by payment-service. */
export async function deadLetteredOrders(payments: Pool): Promise<Set<string>> {
  const { rows } = await payments.query<{ orderId: string | null }>(
    'SELECT order_id AS "orderId" FROM payment_dead_letters',
  );
  return new Set(rows.map((r) => r.orderId).filter((id): id is string => id !== null));
}

/** `GET /orders/:id` of each of `ids`, one after the other (what a client polling would see). */
export async function ordersWithHistory(
  orderUrl: string,
  ids: readonly string[],
): Promise<OrderWithHistory[]> {
  const found: OrderWithHistory[] = [];
  for (const id of ids) found.push(await getJson<OrderWithHistory>(`${orderUrl}/orders/${id}`));
  return found;
}

/**
 * How each order ended compared with its payment: `[]` when every PAID order has exactly one PAID
 * payment, every FAILED one exactly one FAILED payment or a dead letter (and no payment), and no
 * order has a payment that contradicts its status.
 */
export function paymentMismatches(
  statuses: ReadonlyMap<string, OrderStatus>,
  payments: ReadonlyMap<string, readonly PaymentRow[]>,
  deadLettered: ReadonlySet<string>,
): string[] {
  const problems: string[] = [];
  for (const [id, status] of statuses) {
    const rows = payments.get(id) ?? [];
    if (rows.length > 1) problems.push(`${id}: ${rows.length} payments`);
    const payment = rows[0];
    if (status === 'PAID' && payment?.status !== 'PAID') {
      problems.push(`${id}: PAID with payment ${payment?.status ?? 'none'}`);
    }
    if (
      status === 'FAILED' &&
      payment?.status !== 'FAILED' &&
      !(payment === undefined && deadLettered.has(id))
    ) {
      problems.push(`${id}: FAILED with payment ${payment?.status ?? 'none'} and no dead letter`);
    }
  }
  return problems;
}

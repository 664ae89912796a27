/**
 * What "the status history of an order is in order" means, as a checkable rule over what
 * `GET /orders/:id` answers: numbered 1, 2, 3… with no gap; it starts with the creation
 * (→ PENDING); each change starts where the previous one ended; times never go back; the order
 * leaves PENDING at most once, by an event that fits its new status; it ends at the order's status.
 */

export type OrderStatus = 'PENDING' | 'PAID' | 'FAILED' | 'CANCELLED';

export interface HistoryEntry {
  readonly seq: number;
  readonly from: OrderStatus | null;
  readonly to: OrderStatus;
  readonly event: string;
  readonly at: string;
}

export interface OrderWithHistory {
  readonly id: string;
  readonly status: OrderStatus;
  readonly history: readonly HistoryEntry[];
}

/** The status each event leads to. */
const EVENT_TARGET: Readonly<Record<string, OrderStatus>> = {
  ORDER_CREATED: 'PENDING',
  PAYMENT_SUCCEEDED: 'PAID',
  PAYMENT_FAILED: 'FAILED',
  PAYMENT_TIMEOUT: 'CANCELLED',
  REFUND_REQUIRED: 'CANCELLED',
};

/** Every way `order`'s history breaks the rule (empty when it is in order). */
export function historyProblems(order: OrderWithHistory): string[] {
  const problems: string[] = [];
  const h = order.history;
  if (h.length === 0) return [`${order.id}: no history`];
  h.forEach((entry, i) => {
    const at = `${order.id} #${i + 1}`;
    if (entry.seq !== i + 1) problems.push(`${at}: seq ${entry.seq}, expected ${i + 1}`);
    if (EVENT_TARGET[entry.event] !== entry.to) problems.push(`${at}: ${entry.event} led to ${entry.to}`);
    if (i === 0) {
      if (entry.from !== null || entry.event !== 'ORDER_CREATED') {
        problems.push(`${at}: starts with ${entry.event} from ${entry.from}, not the creation`);
      }
      return;
    }
    const previous = h[i - 1]!;
    if (entry.from !== previous.to)
      problems.push(`${at}: from ${entry.from}, but the order was ${previous.to}`);
    if (Date.parse(entry.at) < Date.parse(previous.at))
      problems.push(`${at}: at ${entry.at} before ${previous.at}`);
  });
  const leftPending = h.filter((e) => e.from === 'PENDING').length;
  if (leftPending > 1) problems.push(`${order.id}: left PENDING ${leftPending} times`);
  if (h[h.length - 1]!.to !== order.status) {
    problems.push(`${order.id}: history ends at ${h[h.length - 1]!.to}, the order is ${order.status}`);
  }
  return problems;
}

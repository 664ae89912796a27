/** An order's life: PENDING until its payment answers, or until it times out. */
export const ORDER_STATUSES = ['PENDING', 'PAID', 'FAILED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

/** What moved an order (one history row each). */
export type OrderEvent =
  | 'ORDER_CREATED'
  | 'PAYMENT_SUCCEEDED'
  | 'PAYMENT_FAILED'
  | 'PAYMENT_TIMEOUT'
  /** A PAID result for an order already CANCELLED: the money must go back. */
  | 'REFUND_REQUIRED';

export function isOrderStatus(value: unknown): value is OrderStatus {
  return typeof value === 'string' && (ORDER_STATUSES as readonly string[]).includes(value);
}

/** The messages the services exchange (JSON bodies). */

export interface OrderItem {
  readonly sku: string;
  readonly qty: number;
  readonly price: number;
}

/** `order-created`: keys = order id. */
export interface OrderCreatedEvent {
  readonly orderId: string;
  readonly userId: string;
  readonly items: readonly OrderItem[];
  readonly amount: number;
  /** Epoch ms. */
  readonly createdAt: number;
}

export type PaymentStatus = 'PAID' | 'FAILED';

/** `payment-result`: FIFO per order id (message group = order id). */
export interface PaymentResultEvent {
  readonly orderId: string;
  readonly userId: string;
  readonly status: PaymentStatus;
  readonly amount: number;
  /** Why a payment FAILED (`DECLINED`, `DEAD_LETTERED`). */
  readonly reason?: string;
  /** Epoch ms. */
  readonly at: number;
}

/** `order-timeout`: delivered ORDER_TIMEOUT_MS after the order was created. */
export interface OrderTimeoutEvent {
  readonly orderId: string;
  /** Epoch ms. */
  readonly createdAt: number;
}

/** `config-changed`: broadcast to every notification-service instance. */
export interface ConfigChangedEvent {
  readonly key: string;
  readonly value: string;
}

/**
 * The sample's topics and consumer groups: one place, so that producers, listeners, the broker
 * config (apps/sample/broker-config.json) and the README agree.
 */

/** Order created (transactional message: visible only once the order is in the order database). */
export const ORDER_CREATED_TOPIC = 'order-created';
/** A payment's outcome, FIFO per order id. */
export const PAYMENT_RESULT_TOPIC = 'payment-result';
/** Delayed: fires ORDER_TIMEOUT_MS after an order was created. */
export const ORDER_TIMEOUT_TOPIC = 'order-timeout';
/** Broadcast to every notification-service instance. */
export const CONFIG_CHANGED_TOPIC = 'config-changed';

/** payment-service's group on order-created. */
export const PAYMENT_GROUP = 'payment';
/** Where the broker moves what the payment group gave up on. */
export const PAYMENT_DLQ_TOPIC = `%DLQ%${PAYMENT_GROUP}`;
/** payment-service's watcher of its dead letters. */
export const PAYMENT_DLQ_GROUP = 'payment-dlq';
/** order-service's FIFO group on payment-result. */
export const ORDER_PAYMENT_RESULT_GROUP = 'order-payment-result';
/** order-service's group on order-timeout. */
export const ORDER_TIMEOUT_GROUP = 'order-timeout';
/** notification-service's groups: the same topics, other groups (fan-out). */
export const NOTIFICATION_ORDER_GROUP = 'notification-order-created';
export const NOTIFICATION_PAYMENT_GROUP = 'notification-payment-result';
/** Broadcasting: each instance consumes as `notification-config-BROADCAST-<instance>`. */
export const NOTIFICATION_CONFIG_GROUP = 'notification-config';

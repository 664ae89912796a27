/**
 * What `RocketMQServer.status` and `RocketMQClientProxy.status` emit (Nest's `status` observable of
 * transports; the words are the module's health states, so dashboards read one vocabulary):
 * `connecting` → `connected` → `draining` (close() under way: nothing new is received, running
 * handlers finish) → `closed`; `error` when a start failed (the client proxy tries again on its
 * next use).
 */
export const RocketMQTransportStatus = Object.freeze({
  CONNECTING: 'connecting',
  CONNECTED: 'connected',
  DRAINING: 'draining',
  CLOSED: 'closed',
  ERROR: 'error',
} as const);

export type RocketMQTransportStatus = (typeof RocketMQTransportStatus)[keyof typeof RocketMQTransportStatus];

/** Tells `@EventPattern(pattern, ROCKETMQ_TRANSPORT)` handlers apart in an app with several transports. */
export const ROCKETMQ_TRANSPORT: unique symbol = Symbol('ROCKETMQ_TRANSPORT');

/**
 * The consumer of `@rocketnest/rocketmq`: a Push-style consumer with long-polling receive loops,
 * backpressure, batched acks, retries with the group's backoff, FIFO order per message group and a
 * graceful shutdown.
 *
 * ```ts
 * const consumer = await Consumer.start({
 *   client: { endpoints: '127.0.0.1:8081' },          // or a connected, shared RpcClient
 *   group: 'order-service',
 *   subscriptions: [{ topic: 'orders', filter: Filter.tag('created || paid') }],
 *   handler: async (message) => {
 *     await handle(JSON.parse(message.body.toString()));
 *     // resolve: acked; throw: retried after the group's backoff; Reconsume.after(ms): after ms
 *   },
 * });
 * // …
 * await consumer.close(); // stops receiving, lets running handlers finish, acks, leaves
 * ```
 */
export { Consumer, type ConsumerStats } from './consumer.js';
export {
  DEFAULT_INVISIBLE_DURATION_MS,
  DEFAULT_LONG_POLLING_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENCY,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_SHUTDOWN_TIMEOUT_MS,
  MAX_RECEIVE_BATCH_SIZE,
  DEFAULT_RECEIVE_CONCURRENCY,
  MAX_RECEIVE_CONCURRENCY,
  type ConsumerOptions,
} from './consumer-options.js';
export {
  ConsumeResult,
  isRetryAfter,
  MAX_RETRY_DELAY_MS,
  Reconsume,
  type RetryAfter,
} from './consume-result.js';
export { Filter, type FilterExpression, type Subscription } from './subscription.js';
export { type MessageType, type ReceivedMessageView } from './received-message.js';
export { type MessageHandler } from './message-processor.js';
export {
  DEFAULT_BACKOFF,
  DEFAULT_MAX_ATTEMPTS,
  type BackoffOptions,
  type ExponentialBackoff,
} from './retry-policy.js';
export { type ConsumerLogger } from './consumer-logger.js';
export {
  type ConsumerServerSettings,
  type ConsumerSession,
  type ConsumerTransport,
  type ReceiveAnswer,
  type ReceiveCallOptions as ConsumerReceiveCallOptions,
} from './consumer-transport.js';
export { RpcConsumerTransport } from './rpc-consumer-transport.js';

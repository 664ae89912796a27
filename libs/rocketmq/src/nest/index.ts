/**
 * # The Nest layer of `@rocketnest/rocketmq`
 *
 * RocketMQ messaging for NestJS, for developers who know `@nestjs/microservices`, rocketmq-spring
 * or golevelup's RabbitMQ module.
 *
 * ## Module
 * `RocketMQModule.forRoot({})` starts an **embedded built-in broker** (data in
 * `./data/rocketnest-broker`, any free port; `embedded: { dataDir, port, flushMode }`), closed last
 * at shutdown. `forRoot({ endpoints: 'host:8081' })` connects to any RocketMQ 5 gRPC endpoint (the
 * built-in broker's `npm run broker`, or an Apache RocketMQ 5 proxy). Namespace, credentials, TLS,
 * producer and consumer defaults and the payload codec are options; `ROCKETMQ_ENDPOINTS`,
 * `ROCKETMQ_NAMESPACE`, `ROCKETMQ_ACCESS_KEY` / `ROCKETMQ_SECRET_KEY` are read when the option is
 * absent. `forRootAsync({ imports, inject, useFactory })` takes them from a factory.
 * `app.get(RocketMQConnection).endpoints` says where it connected (give it to a `RocketMQServer`).
 *
 * ## Listeners
 * ```ts
 * @Controller()            // or @Injectable(): any provider or controller, many listeners per class
 * export class Orders {
 *   @RocketListener({ topic: 'orders', tag: 'created', maxReconsumeTimes: 3 })
 *   @UseGuards(TenantGuard) @UseInterceptors(Metrics) @UseFilters(PoisonFilter)
 *   async created(@Payload(new ValidationPipe()) order: OrderDto, @Ctx() ctx: RocketMQContext) { … }
 *
 *   @RocketListener({ topic: 'payments' }) @Orderly()    // FIFO per message group (sendOrderly's key)
 *   async paid(payment: Payment) { … }                    // no decorators: (payload, context)
 *
 *   @RocketListener({ topic: 'audit', batch: { size: 100, waitMs: 200 } })
 *   async audit(events: Audit[]) { return BatchResult.failed([3]); }   // retry only events[3]
 *
 *   @RocketListener({ topic: 'config', model: 'broadcasting' })      // every instance gets every message
 *   reload(config: Config) { … }
 * }
 * ```
 * Parameters use Nest's own `@Payload()` / `@Ctx()` from `@nestjs/microservices` (the same as in
 * `@EventPattern` handlers), so pipes such as `ValidationPipe` work on the payload; the context
 * type is `rpc`, so guards, interceptors and exception filters written for microservices apply.
 * Outcomes: resolve → acknowledged; throw → retried with backoff, `%DLQ%<group>` after
 * `maxReconsumeTimes` (default 16); `return Reconsume.after(ms)` → retried after `ms` without an
 * error; a payload that cannot be decoded is logged and retried (never acknowledged unseen).
 * Default group: `<ClassName>_<methodName>_<topic>`; broadcasting: `<group>-BROADCAST-<instanceName>`.
 *
 * ## Producer
 * `RocketTemplate`: `send`, `sendAsync`, `sendOneWay`, `sendOrderly(dest, payload, hashKey)`,
 * `sendDelayed(dest, payload, ms | Date | { level })`, `sendBatch`, `sendInTransaction(dest,
 * payload, localTx)` (check-backs answered by `@TransactionChecker({ topic })` methods) and
 * `request(dest, payload, { timeout })`. Destinations are `topic` or `topic:tag`.
 *
 * ## Operations
 * `app.enableShutdownHooks()`: shutdown stops receiving, lets running handlers finish and settles
 * their messages, closes the producer, then the embedded broker. `RocketMQHealth.status$`
 * (connecting → connected → draining → closed, or error); `RocketMQHealthIndicator` for Terminus;
 * `RocketListenerRegistry` to list listeners with their counters and pause/resume one. Logs go
 * through Nest's `Logger`.
 */
export { RocketMQModule } from './module/rocketmq.module.js';
export {
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_EMBEDDED_DATA_DIR,
  DEFAULT_EMBEDDED_PORT,
  MAX_RECONSUME_TIMES,
  resolveRocketMQOptions,
  type ConnectionTarget,
  type ConsumerDefaults,
  type EmbeddedBrokerOptions,
  type ProducerDefaults,
  type ResolvedRocketMQOptions,
  type RocketMQModuleAsyncOptions,
  type RocketMQModuleOptions,
} from './module/rocketmq-options.js';
export { RocketMQConnection } from './module/rocketmq-connection.js';
export {
  RESOLVED_ROCKETMQ_OPTIONS,
  ROCKETMQ_MODULE_OPTIONS,
  ROCKETMQ_PRODUCER,
} from './module/rocketmq.tokens.js';
export {
  RocketListener,
  type BatchOptions,
  type RocketListenerOptions,
} from './decorators/rocket-listener.decorator.js';
export { Orderly } from './decorators/orderly.decorator.js';
export {
  TransactionChecker,
  type TransactionCheckerOptions,
} from './decorators/transaction-checker.decorator.js';
export { BatchResult } from './listener/batch-result.js';
export { RocketMQBatchContext } from './listener/batch-context.js';
export { RocketListenerRegistry, UnknownListenerError } from './listener/rocket-listener-registry.js';
export {
  type ListenerCounters,
  type ListenerState,
  type RocketListenerInfo,
} from './listener/listener-runner.js';
export { BROADCAST_INFIX, broadcastGroupName, defaultGroupName } from './listener/listener-group.js';
export { MAX_LISTENER_BATCH_SIZE, MAX_LISTENER_BATCH_WAIT_MS } from './listener/listener-definition.js';
export {
  RocketTemplate,
  type Delay,
  type RequestOptions,
  type SendOptions,
} from './template/rocket-template.js';
export { parseDestination, type Destination } from './template/destination.js';
export { RocketMQHealth, type RocketMQStatus, type RocketMQStatusEvent } from './health/rocketmq-health.js';
export { RocketMQHealthIndicator } from './health/rocketmq-health.indicator.js';
export { RocketMQContext, type RocketMQContextArgs } from './context/rocketmq-context.js';
export {
  CONTENT_TYPE_PROPERTY,
  ContentType,
  JsonPayloadCodec,
  PayloadDecodeError,
  type EncodedPayload,
  type PayloadCodec,
  type PayloadDeserializer,
  type PayloadSerializer,
} from './serialization/payload-codec.js';
export {
  ReplyRequester,
  REPLY_GROUP_PREFIX,
  replyGroupOf,
  type ReplyRequesterOptions,
  type RequestMessage,
  type RequestOptions as ReplyRequestOptions,
} from './request-reply/reply-requester.js';
export {
  ReplyResponder,
  outcomeOf,
  type ReplyResponderOptions,
  type ReplyResult,
} from './request-reply/reply-responder.js';
export { RemoteHandlerError, ReplyTimeoutError, type RemoteErrorBody } from './request-reply/reply-errors.js';
export {
  MAX_REPLY_ERROR_MESSAGE_LENGTH,
  replyAddressOf,
  type ReplyAddress,
  type ReplyOutcome,
} from './request-reply/reply-envelope.js';
export * from './request-reply/reply-properties.js';
export {
  RocketMQServer,
  type RocketMQServerEvents,
  type RocketMQServerInternals,
} from './transport/rocketmq-server.js';
export {
  type RocketMQServerOptions,
  type ServerConsumerTuning,
  type ServerProducerTuning,
} from './transport/rocketmq-server-options.js';
export {
  DEFAULT_REPLY_TIMEOUT_MS,
  RocketMQClientProxy,
  type RocketMQClientProxyEvents,
  type RocketMQClientProxyInternals,
  type RocketMQClientProxyOptions,
} from './transport/rocketmq-client-proxy.js';
export { RocketMQRecord, type RocketMQRecordOptions } from './transport/rocketmq-record.js';
export { ROCKETMQ_TRANSPORT, RocketMQTransportStatus } from './transport/transport-status.js';
export { InvalidPatternError, NoHandlerError } from './transport/transport-errors.js';
export { formatPattern, parsePattern, type ParsedPattern } from './transport/pattern-routes.js';
export { RocketMQExceptionFilter } from './transport/rocketmq-exception.filter.js';

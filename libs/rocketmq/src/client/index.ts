/**
 * `@rocketnest/rocketmq` client: a batched, pipelined RocketMQ 5 gRPC client (connection layer,
 * producer; consumers in `./consumer`). The Nest layer depends only on this entry point.
 */
export * from './errors.js';
export * from './logger.js';
export {
  DEFAULT_PORT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  DEFAULT_STARTUP_TIMEOUT_MS,
  parseEndpoints,
  type ClientOptions,
  type Endpoint,
  type SessionCredentials,
} from './options.js';
export { LANGUAGE, PROTOCOL_VERSION } from './metadata.js';
export { addressOf, protoEndpointsOf, type RouteQueue, type TopicRoute } from './route.js';
export {
  RpcClient,
  type ConnectOptions,
  type ReceiveCallOptions,
  type ReceiveResult,
  type UnaryCallOptions,
} from './rpc-client.js';
export { type UnaryMethod, type UnaryMethods, type UnaryRequest, type UnaryResponse } from './rpc-methods.js';
export {
  TelemetrySession,
  type OrphanedTransactionCommand,
  type TelemetrySessionEvents,
  type TelemetrySessionOptions,
} from './telemetry-session.js';
export { CLIENT_VERSION } from './version.js';
export * from './producer/index.js';
export * from './consumer/index.js';

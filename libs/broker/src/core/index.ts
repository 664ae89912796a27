/**
 * The broker core's public surface. `BrokerCore` is the entry point; the parts it wires are exported
 * too, for tests, tools and other wirings. Names are chosen not to clash with the store's exports
 * (errors the store already defines are the same classes, re-exported by errors.ts) nor with each
 * other: the consume engine's own `GroupPolicy` / `ConsumeFrom` views are exported under
 * `ConsumeGroupPolicy` / `ConsumeStartFrom`, and its `retryTopicOf` / `dlqTopicOf` are the topic
 * registry's.
 */
export { BROWSE_MAX_COUNT, BrokerCore, type QueuePage } from './broker-core.js';
export { BrokerCoreClosedError } from './broker-core-errors.js';
export type {
  BrokerCoreLogger,
  BrokerCoreOptions,
  ListTopicsOptions,
  ReceiveOptions,
  TransactionCheckBack,
} from './broker-core-types.js';
export { BROKER_EPOCH_FILE } from './broker-epoch.js';
export type { SendFailed, SendLimits, SendOk, SendRequest, SendResult } from './send-path.js';

export * from './clock.js';
export * from './errors.js';
export * from './limits.js';
export * from './validation.js';
export * from './filter/index.js';
export * from './receipt-handle.js';
export { CorruptJsonFileError, type StateFileLogger } from './json-file.js';
export * from './topic-registry.js';
export * from './group-registry.js';
export * from './consumer-offsets.js';
export * from './lag.js';
export * from './queue-selector.js';

export {
  ConsumeEngine,
  ConsumeEngineClosedError,
  DEFAULT_CONSUME_LIMITS,
  DEFAULT_LATE_ACK_LEDGER_SIZE,
  RETRY_DLQ_QUEUE_ID,
  InMemoryOffsetStore,
  deadLetterCopy,
  messageGroupOf,
  resendCopy,
  retryCopy,
  type ConsumeEngineLimits,
  type ConsumeEngineOptions,
  type WakeReason,
} from './consume/index.js';
export * from './consume/names.js';
export type {
  AckEntry,
  AckEntryResult,
  ChangeInvisibleResult,
  ConsumeLogger,
  ConsumeStore,
  LeasedQueue,
  OffsetStore,
  ReceiveRequest,
  ReceivedMessage,
  RetryScheduler,
  ConsumeFrom as ConsumeStartFrom,
  GroupPolicy as ConsumeGroupPolicy,
} from './consume/types.js';

export * from './timer/index.js';
export * from './transaction/index.js';

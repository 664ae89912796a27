export {
  ConsumeEngine,
  DEFAULT_CONSUME_LIMITS,
  type ConsumeEngineLimits,
  type ConsumeEngineOptions,
} from './consume-engine.js';
export { deadLetterCopy, messageGroupOf, resendCopy, retryCopy, RETRY_DLQ_QUEUE_ID } from './copies.js';
export { ConsumeEngineClosedError } from './errors.js';
export { InMemoryOffsetStore } from './in-memory-offset-store.js';
export { DEFAULT_LATE_ACK_LEDGER_SIZE } from './late-ack-ledger.js';
export { type WakeReason } from './long-poll.js';
export * from './names.js';
export type * from './types.js';

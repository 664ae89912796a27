/** The producer: `Producer.start(options)`, then send / sendAsync / sendOneWay / sendInTransaction. */
export { Producer, type LocalTransaction } from './producer.js';
export { type ProducerMessage, groupOfHashKey } from './message.js';
export { createMessageId, decodeMessageId } from './message-id.js';
export {
  DEFAULT_BATCH_MAX_BYTES,
  DEFAULT_BATCH_MAX_MESSAGES,
  DEFAULT_MAX_ATTEMPTS as DEFAULT_SEND_MAX_ATTEMPTS,
  DEFAULT_MAX_FIFO_IN_FLIGHT,
  DEFAULT_MAX_IN_FLIGHT as DEFAULT_BATCH_MAX_IN_FLIGHT,
  type BatchingOptions,
  type ProducerOptions,
  type RetryBackoffOptions,
  type SendCallback,
  type TransactionChecker,
} from './producer-options.js';
export {
  type ProducerStats,
  type SendReceipt,
  type TransactionCheckMessage,
  type TransactionResolution,
  type TransactionResult,
} from './producer-types.js';

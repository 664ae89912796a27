export {
  TransactionService,
  type TransactionCheck,
  type TransactionResolution,
  type TransactionServiceOptions,
  type TransactionSource,
} from './transaction-service.js';
export { TooManyPendingTransactionsError, TransactionServiceClosedError } from './errors.js';
export { parseHalf, withTransactionType, type HalfInfo } from './half-message.js';
export {
  CHECK_TAG,
  REMOVE_TAG,
  parseOpRecord,
  type FinishKind,
  type OpKind,
  type OpRecord,
} from './op-record.js';
export * from './transaction-properties.js';
export { PROGRESS_FILE_NAME } from './transaction-progress.js';

export * from './errors.js';
export * from './limits.js';
export { tagHash } from './tag-hash.js';
export type { DispatchRequest, StoreLogger } from './dispatch-request.js';
export type { FlushMode } from './flush-service.js';
export type { MessageToStore, StoredMessage } from './message-record.js';
export type { CorruptRange, TruncatedTail } from './commit-log-scanner.js';
export {
  MessageStore,
  type AppendResult,
  type GetMessageOptions,
  type GetMessageResult,
  type GetMessageStatus,
  type MessageStoreOptions,
  type RecoveryReport,
} from './message-store.js';

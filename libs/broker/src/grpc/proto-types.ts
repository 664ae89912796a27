/**
 * Minimal TypeScript shapes of the `apache.rocketmq.v2` messages this broker reads and writes, as
 * @grpc/proto-loader presents them with the options of `proto.ts`: snake_case names, int64 as
 * number, enums as numbers, bytes as Buffer.
 *
 * One shape serves both directions, so every field is optional: in a decoded request a plain field
 * is always present (`defaults: true`) but a sub-message may be `null` and a proto3 `optional`
 * field is absent when unset; in a response we build, absent fields are simply defaults. Handlers
 * therefore read requests defensively (`request.topic?.name ?? ''`): the wire may carry anything.
 */

// ---------------------------------------------------------------------------------------------
// Enums (definition.proto), as numbers
// ---------------------------------------------------------------------------------------------

export const Permission = { UNSPECIFIED: 0, NONE: 1, READ: 2, WRITE: 3, READ_WRITE: 4 } as const;

export const FilterType = { UNSPECIFIED: 0, TAG: 1, SQL: 2 } as const;

export const AddressScheme = { UNSPECIFIED: 0, IPv4: 1, IPv6: 2, DOMAIN_NAME: 3 } as const;

export const ProtoMessageType = {
  UNSPECIFIED: 0,
  NORMAL: 1,
  FIFO: 2,
  DELAY: 3,
  TRANSACTION: 4,
  LITE: 5,
  PRIORITY: 6,
} as const;

export const DigestType = { UNSPECIFIED: 0, CRC32: 1, MD5: 2, SHA1: 3 } as const;

export const ClientType = {
  UNSPECIFIED: 0,
  PRODUCER: 1,
  PUSH_CONSUMER: 2,
  SIMPLE_CONSUMER: 3,
  PULL_CONSUMER: 4,
  LITE_PUSH_CONSUMER: 5,
  LITE_SIMPLE_CONSUMER: 6,
} as const;

export const Encoding = { UNSPECIFIED: 0, IDENTITY: 1, GZIP: 2 } as const;

export const TransactionResolution = { UNSPECIFIED: 0, COMMIT: 1, ROLLBACK: 2 } as const;

export const TransactionSource = { UNSPECIFIED: 0, CLIENT: 1, SERVER_CHECK: 2 } as const;

// ---------------------------------------------------------------------------------------------
// Well-known types
// ---------------------------------------------------------------------------------------------

/** google.protobuf.Timestamp. */
export interface Timestamp {
  seconds?: number;
  nanos?: number;
}

/** google.protobuf.Duration. */
export interface Duration {
  seconds?: number;
  nanos?: number;
}

// ---------------------------------------------------------------------------------------------
// definition.proto
// ---------------------------------------------------------------------------------------------

export interface Status {
  code?: number;
  message?: string;
}

export interface Resource {
  resource_namespace?: string;
  name?: string;
}

export interface Address {
  host?: string;
  port?: number;
}

export interface Endpoints {
  scheme?: number;
  addresses?: Address[];
}

export interface Broker {
  name?: string;
  id?: number;
  endpoints?: Endpoints | null;
}

export interface MessageQueue {
  topic?: Resource | null;
  id?: number;
  permission?: number;
  broker?: Broker | null;
  accept_message_types?: number[];
}

export interface FilterExpression {
  type?: number;
  expression?: string;
}

export interface Digest {
  type?: number;
  checksum?: string;
}

export interface DeadLetterQueue {
  topic?: string;
  message_id?: string;
}

export interface SystemProperties {
  tag?: string;
  keys?: string[];
  message_id?: string;
  body_digest?: Digest | null;
  body_encoding?: number;
  message_type?: number;
  born_timestamp?: Timestamp | null;
  born_host?: string;
  store_timestamp?: Timestamp;
  store_host?: string;
  delivery_timestamp?: Timestamp;
  receipt_handle?: string;
  queue_id?: number;
  queue_offset?: number;
  invisible_duration?: Duration;
  delivery_attempt?: number;
  message_group?: string;
  trace_context?: string;
  orphaned_transaction_recovery_duration?: Duration;
  dead_letter_queue?: DeadLetterQueue;
  lite_topic?: string;
  priority?: number;
}

export interface Message {
  topic?: Resource | null;
  user_properties?: Record<string, string>;
  system_properties?: SystemProperties | null;
  body?: Buffer;
}

export interface Assignment {
  message_queue?: MessageQueue | null;
}

export interface ExponentialBackoff {
  initial?: Duration | null;
  max?: Duration | null;
  multiplier?: number;
}

export interface CustomizedBackoff {
  next?: Duration[];
}

export interface RetryPolicy {
  max_attempts?: number;
  exponential_backoff?: ExponentialBackoff;
  customized_backoff?: CustomizedBackoff;
  /** Virtual oneof field (`oneofs: true`): which strategy is set. */
  strategy?: 'exponential_backoff' | 'customized_backoff';
}

export interface SubscriptionEntry {
  topic?: Resource | null;
  expression?: FilterExpression | null;
}

export interface Publishing {
  topics?: Resource[];
  max_body_size?: number;
  validate_message_type?: boolean;
}

export interface Subscription {
  group?: Resource;
  subscriptions?: SubscriptionEntry[];
  fifo?: boolean;
  receive_batch_size?: number;
  long_polling_timeout?: Duration;
}

export interface UA {
  language?: number;
  version?: string;
  platform?: string;
  hostname?: string;
}

export interface Metric {
  on?: boolean;
  endpoints?: Endpoints;
}

export interface Settings {
  client_type?: number;
  access_point?: Endpoints;
  backoff_policy?: RetryPolicy;
  request_timeout?: Duration;
  publishing?: Publishing;
  subscription?: Subscription;
  /** Virtual oneof field: `publishing` or `subscription`. */
  pub_sub?: 'publishing' | 'subscription';
  user_agent?: UA | null;
  metric?: Metric | null;
}

// ---------------------------------------------------------------------------------------------
// service.proto: requests and responses
// ---------------------------------------------------------------------------------------------

export interface QueryRouteRequest {
  topic?: Resource | null;
  endpoints?: Endpoints | null;
}
export interface QueryRouteResponse {
  status?: Status;
  message_queues?: MessageQueue[];
}

export interface HeartbeatRequest {
  group?: Resource;
  client_type?: number;
}
export interface HeartbeatResponse {
  status?: Status;
}

export interface SendMessageRequest {
  messages?: Message[];
}
export interface SendResultEntry {
  status?: Status;
  message_id?: string;
  transaction_id?: string;
  offset?: number;
  recall_handle?: string;
}
export interface SendMessageResponse {
  status?: Status;
  entries?: SendResultEntry[];
}

export interface QueryAssignmentRequest {
  topic?: Resource | null;
  group?: Resource | null;
  endpoints?: Endpoints | null;
}
export interface QueryAssignmentResponse {
  status?: Status;
  assignments?: Assignment[];
}

export interface ReceiveMessageRequest {
  group?: Resource | null;
  message_queue?: MessageQueue | null;
  filter_expression?: FilterExpression | null;
  batch_size?: number;
  invisible_duration?: Duration;
  auto_renew?: boolean;
  long_polling_timeout?: Duration;
  attempt_id?: string;
}
export interface ReceiveMessageResponse {
  status?: Status;
  message?: Message;
  delivery_timestamp?: Timestamp;
  /** Virtual oneof field of a decoded response. */
  content?: 'status' | 'message' | 'delivery_timestamp';
}

export interface AckMessageEntry {
  message_id?: string;
  receipt_handle?: string;
  lite_topic?: string;
}
export interface AckMessageRequest {
  group?: Resource | null;
  topic?: Resource | null;
  entries?: AckMessageEntry[];
}
export interface AckMessageResultEntry {
  message_id?: string;
  receipt_handle?: string;
  status?: Status;
}
export interface AckMessageResponse {
  status?: Status;
  entries?: AckMessageResultEntry[];
}

export interface ForwardMessageToDeadLetterQueueRequest {
  group?: Resource | null;
  topic?: Resource | null;
  receipt_handle?: string;
  message_id?: string;
  delivery_attempt?: number;
  max_delivery_attempts?: number;
  lite_topic?: string;
}
export interface ForwardMessageToDeadLetterQueueResponse {
  status?: Status;
}

export interface EndTransactionRequest {
  topic?: Resource | null;
  message_id?: string;
  transaction_id?: string;
  resolution?: number;
  source?: number;
  trace_context?: string;
}
export interface EndTransactionResponse {
  status?: Status;
}

export interface NotifyClientTerminationRequest {
  group?: Resource;
}
export interface NotifyClientTerminationResponse {
  status?: Status;
}

export interface ChangeInvisibleDurationRequest {
  group?: Resource | null;
  topic?: Resource | null;
  receipt_handle?: string;
  invisible_duration?: Duration | null;
  message_id?: string;
  lite_topic?: string;
  suspend?: boolean;
}
export interface ChangeInvisibleDurationResponse {
  status?: Status;
  receipt_handle?: string;
}

/** Responses of the RPCs the broker does not support: they all carry a status (PullMessage in a frame). */
export interface StatusOnlyResponse {
  status?: Status;
}

// ---------------------------------------------------------------------------------------------
// Telemetry
// ---------------------------------------------------------------------------------------------

export interface ThreadStackTrace {
  nonce?: string;
  thread_stack_trace?: string;
}

export interface VerifyMessageResult {
  nonce?: string;
}

export interface RecoverOrphanedTransactionCommand {
  message?: Message | null;
  transaction_id?: string;
}

export interface PrintThreadStackTraceCommand {
  nonce?: string;
}

export interface VerifyMessageCommand {
  nonce?: string;
  message?: Message | null;
}

export interface ReconnectEndpointsCommand {
  nonce?: string;
}

export interface TelemetryCommand {
  status?: Status;
  settings?: Settings;
  thread_stack_trace?: ThreadStackTrace;
  verify_message_result?: VerifyMessageResult;
  recover_orphaned_transaction_command?: RecoverOrphanedTransactionCommand;
  print_thread_stack_trace_command?: PrintThreadStackTraceCommand;
  verify_message_command?: VerifyMessageCommand;
  reconnect_endpoints_command?: ReconnectEndpointsCommand;
  /** Virtual oneof field of a decoded command: which command is set. */
  command?:
    | 'settings'
    | 'thread_stack_trace'
    | 'verify_message_result'
    | 'recover_orphaned_transaction_command'
    | 'print_thread_stack_trace_command'
    | 'verify_message_command'
    | 'reconnect_endpoints_command'
    | 'notify_unsubscribe_lite_command';
}

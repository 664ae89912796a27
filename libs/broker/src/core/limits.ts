/**
 * Limits and well-known names of the broker core, each with RocketMQ's value and the class it comes
 * from (apache/rocketmq 5.x, checked against the 2025-09 sources; `ProxyConfig` is
 * `proxy/.../config/ProxyConfig.java`). Values the store already enforces are re-exported from
 * `store/limits.ts` so that one number never has two definitions.
 */
import { MAX_BODY_SIZE, MAX_PROPERTIES_COUNT, MAX_PROPERTIES_SIZE } from '../store/limits.js';

export { MAX_BODY_SIZE, MAX_PROPERTIES_COUNT, MAX_PROPERTIES_SIZE };

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

// ---------------------------------------------------------------------------------------------
// Names: topics, groups, tags, message groups, ids
// ---------------------------------------------------------------------------------------------

/** Characters allowed in topic and group names: `TopicValidator.VALID_CHAR_BIT_MAP`, `^[%|a-zA-Z0-9_-]+$`. */
export const TOPIC_OR_GROUP_NAME_PATTERN = /^[%|a-zA-Z0-9_-]+$/;

/** `TopicValidator.TOPIC_MAX_LENGTH` / client `Validators.TOPIC_MAX_LENGTH`: 127 characters. */
export const TOPIC_MAX_LENGTH = 127;

/** `TopicValidator.RETRY_OR_DLQ_TOPIC_MAX_LENGTH`: `%RETRY%…` and `%DLQ%…` topics may reach 255. */
export const RETRY_OR_DLQ_TOPIC_MAX_LENGTH = 255;

/**
 * `TopicValidator.GROUP_MAX_LENGTH` / `Validators.GROUP_MAX_LENGTH`: 120, so that the retry topic
 * `%RETRY%group_topic` built from it stays within 255.
 */
export const GROUP_MAX_LENGTH = 120;

/** `MixAll.RETRY_GROUP_TOPIC_PREFIX`: a group's retry topic is `%RETRY%<group>`. */
export const RETRY_TOPIC_PREFIX = '%RETRY%';

/** `MixAll.DLQ_GROUP_TOPIC_PREFIX`: a group's dead-letter topic is `%DLQ%<group>`. */
export const DLQ_TOPIC_PREFIX = '%DLQ%';

/**
 * `ProxyConfig.maxMessageGroupSize` = 64, checked in `SendMessageActivity.validateMessageGroup` as
 * `utf8Bytes >= 64` → ILLEGAL_MESSAGE_GROUP. The bound is exclusive: at most 63 UTF-8 bytes pass.
 */
export const MESSAGE_GROUP_MAX_BYTES = 64;

/**
 * Rocketnest's own bound on a message id (RocketMQ only rejects a blank one). Clients send 32
 * (remoting) or 34 (gRPC, `MessageIdCodec`) hex characters; 128 leaves room for UUIDs and prefixes.
 */
export const MESSAGE_ID_MAX_LENGTH = 128;

// ---------------------------------------------------------------------------------------------
// Sizes
// ---------------------------------------------------------------------------------------------

/**
 * Body limit to advertise to producers (`publishing.max_body_size`) and enforce on send: RocketMQ's
 * 4 MiB (`ProxyConfig.maxMessageSize`, = MAX_BODY_SIZE) less 64 KiB, so that a delivered message with
 * its properties still fits the Node client's 4 MiB inbound gRPC limit (PROTOCOL.md §2, §3).
 */
export const DEFAULT_MAX_BODY_SIZE = MAX_BODY_SIZE - 64 * 1024;

// MAX_PROPERTIES_COUNT (128, `ProxyConfig.userPropertyMaxNum`) and MAX_PROPERTIES_SIZE (16 KiB,
// `ProxyConfig.maxUserPropertySize`, counting user keys + values + tag + keys as
// `SendMessageActivity.buildMessageProperty` does) are re-exported from store/limits.ts above.

// ---------------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------------

/** `ProxyConfig.minInvisibleTimeMillsForRecv`: a ReceiveMessage without auto-renew must ask ≥ 10 s. */
export const INVISIBLE_DURATION_MIN_MS = 10 * SECOND;

/** `ProxyConfig.maxInvisibleTimeMills`: 12 h, for ReceiveMessage and ChangeInvisibleDuration. */
export const INVISIBLE_DURATION_MAX_MS = 12 * HOUR;

/** `ProxyConfig.defaultInvisibleTimeMills`: the lease of an auto-renewed (Push) receive, 60 s. */
export const DEFAULT_INVISIBLE_DURATION_MS = 60 * SECOND;

/** `ProxyConfig.renewMaxTimeMillis`: auto-renewal of one lease stops after 3 h. */
export const AUTO_RENEW_MAX_MS = 3 * HOUR;

/** `ProxyConfig.maxDelayTimeMills`: a delivery timestamp at most 1 day ahead (ILLEGAL_DELIVERY_TIME). */
export const MAX_DELAY_MS = 24 * HOUR;

/**
 * `ProxyConfig.maxTransactionRecoverySecond`: an orphaned-transaction recovery duration above 1 h is
 * BAD_REQUEST (`SendMessageActivity.validateTransactionRecoverySecond`, compared in whole seconds).
 */
export const TRANSACTION_RECOVERY_MAX_MS = 1 * HOUR;

/**
 * `ProxyConfig.grpcClientConsumerMinLongPollingTimeoutMillis`: a long poll lasts at least 5 s. If the
 * call deadline leaves less, the proxy answers ILLEGAL_POLLING_TIME (BAD_REQUEST for clients older
 * than 5.0.3) instead of polling (`ReceiveMessageActivity`). PROTOCOL.md §2 asks us to be lenient.
 */
export const LONG_POLLING_MIN_MS = 5 * SECOND;

/**
 * `ProxyConfig.grpcClientConsumerMaxLongPollingTimeoutMillis`: a long poll lasts at most 20 s; also
 * the `long_polling_timeout` pushed to Push consumers in Settings (`GrpcClientSettingsManager`).
 */
export const LONG_POLLING_MAX_MS = 20 * SECOND;

// ---------------------------------------------------------------------------------------------
// Receive, retry, delay
// ---------------------------------------------------------------------------------------------

/**
 * Most messages one ReceiveMessage returns by default: `ProxyUtils.MAX_MSG_NUMS_FOR_POP_REQUEST` = 32
 * (the proxy's `ConsumerProcessor` clamps larger requests; the broker's `PopMessageProcessor` rejects
 * > 32). A built-in broker may be configured higher (`maxReceiveBatchSize`), up to
 * `RECEIVE_BATCH_LIMIT`.
 */
export const RECEIVE_BATCH_MAX = 32;

/**
 * The highest `maxReceiveBatchSize` a built-in broker takes: RocketMQ's `maxTransferCountOnMessageInMemory`
 * is the same kind of knob. An answer stays within 4 MiB whatever the count (receive-message-frames.ts).
 */
export const RECEIVE_BATCH_LIMIT = 1024;

/** `ProxyConfig.grpcClientConsumerLongPollingBatchSize`: `receive_batch_size` pushed in Settings, 32. */
export const DEFAULT_RECEIVE_BATCH_SIZE = 32;

/**
 * `BrokerConfig.defaultTopicQueueNums`: 8 queues per auto-created topic. Note PROTOCOL.md §2: the
 * Node producer and SimpleConsumer only use queue 0, so a topic served to them needs queue 0.
 */
export const DEFAULT_QUEUE_COUNT = 8;

/**
 * Max delivery attempts of a consumer group: `SubscriptionGroupConfig.retryMaxTimes` (16) + 1, as
 * `GrpcClientSettingsManager.mergeSubscriptionData` pushes it in `backoff_policy.max_attempts`.
 */
export const DEFAULT_MAX_DELIVERY_ATTEMPTS = 17;

/**
 * The 18 delay levels, level 1 first: `MessageStoreConfig.messageDelayLevel` =
 * "1s 5s 10s 30s 1m 2m 3m 4m 5m 6m 7m 8m 9m 10m 20m 30m 1h 2h" (also `ProxyConfig.messageDelayLevel`).
 */
export const DELAY_LEVELS_MS: readonly number[] = Object.freeze([
  1 * SECOND,
  5 * SECOND,
  10 * SECOND,
  30 * SECOND,
  1 * MINUTE,
  2 * MINUTE,
  3 * MINUTE,
  4 * MINUTE,
  5 * MINUTE,
  6 * MINUTE,
  7 * MINUTE,
  8 * MINUTE,
  9 * MINUTE,
  10 * MINUTE,
  20 * MINUTE,
  30 * MINUTE,
  1 * HOUR,
  2 * HOUR,
]);

/**
 * Redelivery backoff after the n-th failed attempt (index 0 = after the first delivery): RocketMQ's
 * default `CustomizedRetryPolicy.nextDelayDuration(reconsumeTimes)` = `next[reconsumeTimes + 2]` over
 * the delay levels, i.e. 10s 30s 1m 2m … 10m 20m 30m 1h 2h (16 steps), the last step repeating.
 */
export const RETRY_BACKOFF_MS: readonly number[] = Object.freeze(DELAY_LEVELS_MS.slice(2));

/** The backoff before redelivery number `attempt + 1` after delivery `attempt` (≥ 1) failed. */
export function retryBackoffMs(attempt: number): number {
  const index = Math.max(0, Math.floor(attempt) - 1);
  return RETRY_BACKOFF_MS[Math.min(index, RETRY_BACKOFF_MS.length - 1)]!;
}

// ---------------------------------------------------------------------------------------------
// Transactions
// ---------------------------------------------------------------------------------------------

/** `BrokerConfig.transactionTimeOut`: a half message is first checked back 6 s after it was sent. */
export const TRANSACTION_CHECK_FIRST_MS = 6 * SECOND;

/** `BrokerConfig.transactionCheckInterval`: then re-checked every 30 s. */
export const TRANSACTION_CHECK_INTERVAL_MS = 30 * SECOND;

/** `BrokerConfig.transactionCheckMax`: after 15 checks without an answer the half message is dropped. */
export const TRANSACTION_CHECK_MAX = 15;

// ---------------------------------------------------------------------------------------------
// System topics (TopicValidator)
// ---------------------------------------------------------------------------------------------

/** `TopicValidator.AUTO_CREATE_TOPIC_KEY_TOPIC`. */
export const AUTO_CREATE_TOPIC_KEY_TOPIC = 'TBW102';
/** `TopicValidator.RMQ_SYS_SCHEDULE_TOPIC`: where RocketMQ parks delay-level messages. */
export const SCHEDULE_TOPIC = 'SCHEDULE_TOPIC_XXXX';
/** `TopicValidator.RMQ_SYS_BENCHMARK_TOPIC`. */
export const BENCHMARK_TOPIC = 'BenchmarkTest';
/** `TopicValidator.RMQ_SYS_TRANS_HALF_TOPIC`: half (prepared) transaction messages. */
export const TRANS_HALF_TOPIC = 'RMQ_SYS_TRANS_HALF_TOPIC';
/** `TopicValidator.RMQ_SYS_TRACE_TOPIC`: default message-trace topic. */
export const TRACE_TOPIC = 'RMQ_SYS_TRACE_TOPIC';
/** `TopicValidator.RMQ_SYS_TRANS_OP_HALF_TOPIC`: commit/rollback records of half messages. */
export const TRANS_OP_HALF_TOPIC = 'RMQ_SYS_TRANS_OP_HALF_TOPIC';
/** `TopicValidator.RMQ_SYS_TRANS_CHECK_MAX_TIME_TOPIC`: half messages that ran out of check-backs. */
export const TRANS_CHECK_MAX_TIME_TOPIC = 'TRANS_CHECK_MAX_TIME_TOPIC';
/** `TopicValidator.RMQ_SYS_SELF_TEST_TOPIC`. */
export const SELF_TEST_TOPIC = 'SELF_TEST_TOPIC';
/** `TopicValidator.RMQ_SYS_OFFSET_MOVED_EVENT`. */
export const OFFSET_MOVED_EVENT_TOPIC = 'OFFSET_MOVED_EVENT';
/** `TopicValidator.RMQ_SYS_ROCKSDB_OFFSET_TOPIC`. */
export const ROCKSDB_OFFSET_TOPIC = 'CHECKPOINT_TOPIC';

/**
 * `TopicValidator.SYSTEM_TOPIC_SET` as initialised statically. (A Java broker also adds its cluster
 * name, broker name, `<cluster>_REPLY_TOPIC` and the trace topic at runtime, `TopicConfigManager`;
 * pass such names as `extraSystemTopics` to the validator.)
 */
export const SYSTEM_TOPICS: ReadonlySet<string> = new Set([
  AUTO_CREATE_TOPIC_KEY_TOPIC,
  SCHEDULE_TOPIC,
  BENCHMARK_TOPIC,
  TRANS_HALF_TOPIC,
  TRACE_TOPIC,
  TRANS_OP_HALF_TOPIC,
  TRANS_CHECK_MAX_TIME_TOPIC,
  SELF_TEST_TOPIC,
  OFFSET_MOVED_EVENT_TOPIC,
  ROCKSDB_OFFSET_TOPIC,
]);

/**
 * Prefixes of system topics. `rmq_sys_` is `TopicValidator.SYSTEM_TOPIC_PREFIX` (revive, timer
 * wheel, trace data, sync-broker-member topics all start with it). `RMQ_SYS_` is Rocketnest's
 * addition: RocketMQ lists its upper-case system topics one by one, we reserve the whole prefix.
 */
export const SYSTEM_TOPIC_PREFIXES: readonly string[] = Object.freeze(['rmq_sys_', 'RMQ_SYS_']);

// ---------------------------------------------------------------------------------------------
// System groups (MixAll)
// ---------------------------------------------------------------------------------------------

/** `MixAll.CID_RMQ_SYS_PREFIX`: what the proxy rejects as a system group (`MixAll.isSysConsumerGroup`). */
export const SYSTEM_GROUP_PREFIX = 'CID_RMQ_SYS_';

/**
 * `MixAll.PREDEFINE_GROUP_SET`: DEFAULT_CONSUMER, DEFAULT_PRODUCER, TOOLS_CONSUMER, SCHEDULE_CONSUMER,
 * FILTERSRV_CONSUMER, __MONITOR_CONSUMER, CLIENT_INNER_PRODUCER, SELF_TEST_P_GROUP, SELF_TEST_C_GROUP,
 * CID_ONS-HTTP-PROXY, CID_ONSAPI_PERMISSION, CID_ONSAPI_OWNER, CID_ONSAPI_PULL, CID_RMQ_SYS_TRANS.
 * The Java proxy only rejects the prefix above; Rocketnest rejects these names as well.
 */
export const SYSTEM_GROUPS: ReadonlySet<string> = new Set([
  'DEFAULT_CONSUMER',
  'DEFAULT_PRODUCER',
  'TOOLS_CONSUMER',
  'SCHEDULE_CONSUMER',
  'FILTERSRV_CONSUMER',
  '__MONITOR_CONSUMER',
  'CLIENT_INNER_PRODUCER',
  'SELF_TEST_P_GROUP',
  'SELF_TEST_C_GROUP',
  'CID_ONS-HTTP-PROXY',
  'CID_ONSAPI_PERMISSION',
  'CID_ONSAPI_OWNER',
  'CID_ONSAPI_PULL',
  'CID_RMQ_SYS_TRANS',
]);

// ---------------------------------------------------------------------------------------------
// Reserved property keys (MessageConst)
// ---------------------------------------------------------------------------------------------

/** `MessageConst`'s timer properties (`PROPERTY_TIMER_*`), set on a message the timer wheel holds. */
export const TIMER_PROPERTY_KEYS: readonly string[] = Object.freeze([
  'TIMER_DELAY_MS',
  'TIMER_DELAY_SEC',
  'TIMER_DELIVER_MS',
  'TIMER_ENQUEUE_MS',
  'TIMER_DEQUEUE_MS',
  'TIMER_ROLL_TIMES',
  'TIMER_OUT_MS',
  'TIMER_DEL_UNIQKEY',
  'TIMER_DELAY_LEVEL',
]);

/**
 * `MessageConst.STRING_HASH_SET`: the 51 property names RocketMQ keeps for itself. A user property
 * with one of these keys is ILLEGAL_MESSAGE_PROPERTY_KEY (`SendMessageActivity.buildMessageProperty`).
 */
export const ROCKETMQ_RESERVED_PROPERTY_KEYS: ReadonlySet<string> = new Set([
  'TRACE_ON',
  'MSG_REGION',
  'KEYS',
  'TAGS',
  'WAIT',
  'DELAY',
  'RETRY_TOPIC',
  'REAL_TOPIC',
  'REAL_QID',
  'TRAN_MSG',
  'PGROUP',
  'MIN_OFFSET',
  'MAX_OFFSET',
  'BUYER_ID',
  'ORIGIN_MESSAGE_ID',
  'TRANSFER_FLAG',
  'CORRECTION_FLAG',
  'MQ2_FLAG',
  'RECONSUME_TIME',
  'UNIQ_KEY',
  'MAX_RECONSUME_TIMES',
  'CONSUME_START_TIME',
  'POP_CK',
  'POP_CK_OFFSET',
  '1ST_POP_TIME',
  'TRAN_PREPARED_QUEUE_OFFSET',
  'DUP_INFO',
  'EXTEND_UNIQ_INFO',
  'INSTANCE_ID',
  'CORRELATION_ID',
  'REPLY_TO_CLIENT',
  'TTL',
  'ARRIVE_TIME',
  'PUSH_REPLY_TIME',
  'CLUSTER',
  'MSG_TYPE',
  'INNER_MULTI_QUEUE_OFFSET',
  ...TIMER_PROPERTY_KEYS,
  '__BORNHOST',
  'BORN_TIMESTAMP',
  'DLQ_ORIGIN_TOPIC',
  'DLQ_ORIGIN_MESSAGE_ID',
  '__CRC32#',
]);

/**
 * Property names that `MessageConst` defines and the broker sets itself, but that RocketMQ leaves
 * out of STRING_HASH_SET: `__SHARDINGKEY` (message group), `__transactionId__`,
 * `TRANSACTION_CHECK_TIMES`, `CHECK_IMMUNITY_TIME_IN_SECONDS`, `TRACE_CONTEXT`, `INNER_NUM`,
 * `INNER_BASE`, `REDIRECT`, `INNER_MULTI_DISPATCH`, `PROPERTY_FORWARD_QUEUE_ID`. Rocketnest reserves
 * them too (PROTOCOL.md §2 lists `__SHARDINGKEY`), so a user property can never pose as one.
 */
export const ROCKETNEST_RESERVED_PROPERTY_KEYS: ReadonlySet<string> = new Set([
  '__SHARDINGKEY',
  '__transactionId__',
  'TRANSACTION_CHECK_TIMES',
  'CHECK_IMMUNITY_TIME_IN_SECONDS',
  'TRACE_CONTEXT',
  'INNER_NUM',
  'INNER_BASE',
  'REDIRECT',
  'INNER_MULTI_DISPATCH',
  'PROPERTY_FORWARD_QUEUE_ID',
]);

/** Every reserved user-property key: RocketMQ's STRING_HASH_SET plus Rocketnest's additions. */
export const RESERVED_PROPERTY_KEYS: ReadonlySet<string> = new Set([
  ...ROCKETMQ_RESERVED_PROPERTY_KEYS,
  ...ROCKETNEST_RESERVED_PROPERTY_KEYS,
]);

/**
 * `MessageConst.PROPERTY_TRANSIENT_PREFIX`: RocketMQ never stores properties named `__RMQ.TRANSIENT.*`,
 * so a user property with that prefix would vanish silently there; Rocketnest rejects it instead.
 */
export const RESERVED_PROPERTY_KEY_PREFIXES: readonly string[] = Object.freeze(['__RMQ.TRANSIENT.']);

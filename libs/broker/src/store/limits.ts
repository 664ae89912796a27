/**
 * Every limit the store enforces, next to RocketMQ's own value. The gRPC layer validates requests
 * against the same constants before they reach the store; the store checks again because it is
 * also used directly (embedded broker, tools, tests).
 */

/** RocketMQ `maxMessageSize` default: 4 MiB. */
export const MAX_BODY_SIZE = 4 * 1024 * 1024;

/** RocketMQ proxy `maxUserPropertySize`: user properties (keys + values) ≤ 16 KiB. */
export const MAX_PROPERTIES_SIZE = 16 * 1024;

/** RocketMQ proxy `maxUserPropertyNum`: at most 128 user properties. */
export const MAX_PROPERTIES_COUNT = 128;

/**
 * Topics are ≤ 127 chars (RocketMQ `TOPIC_MAX_LENGTH`), but retry and DLQ topics built from a
 * group name may reach 255; the record keeps the topic length in one byte.
 */
export const MAX_STORED_TOPIC_BYTES = 255;

/**
 * Encoded properties section (user + system) is length-prefixed with two bytes. User properties are
 * capped at 16 KiB above; the rest is headroom for system properties (tag, keys, id, group, …).
 */
export const MAX_PROPERTIES_SECTION_BYTES = 0xffff;

/** Default commit-log segment of the standalone broker (RocketMQ `mappedFileSizeCommitLog`). */
export const STANDALONE_SEGMENT_SIZE = 1024 * 1024 * 1024;

/** Default segment of an embedded broker: small so a developer's disk is not filled by an idle broker. */
export const EMBEDDED_SEGMENT_SIZE = 64 * 1024 * 1024;

/** Consume-queue entries per file (RocketMQ `mappedFileSizeConsumeQueue` = 300,000 × 20 B). */
export const CONSUME_QUEUE_ENTRIES_PER_FILE = 300_000;

/** RocketMQ GroupCommitService times a request out after `syncFlushTimeout` = 5 s (FLUSH_DISK_TIMEOUT). */
export const SYNC_FLUSH_TIMEOUT_MS = 5_000;

/** RocketMQ `flushIntervalCommitLog`: async flush every 500 ms. */
export const ASYNC_FLUSH_INTERVAL_MS = 500;

/** RocketMQ `fileReservedTime`: 72 hours. */
export const DEFAULT_RETENTION_HOURS = 72;

/** RocketMQ `diskMaxUsedSpaceRatio`: start deleting when the disk is 75 % full. */
export const DEFAULT_DISK_USAGE_LIMIT = 0.75;

/** Most entries one read may return, whatever the caller asks (RocketMQ `maxTransferCountOnMessageInMemory`). */
export const MAX_READ_BATCH = 1024;

/** Most bytes one read may return (RocketMQ `maxTransferBytesOnMessageInMemory` is 256 KiB; ours serves batches). */
export const MAX_READ_BYTES = 8 * 1024 * 1024;

/**
 * Index file geometry of an embedded broker: 500k hash slots (2 MB, the only part held in memory)
 * and 2M entries of 20 B, so one file is ≈ 42 MB on disk. Four entries per slot on average keeps
 * chains short while a developer's machine does not hold RocketMQ's 20 MB slot table.
 */
export const EMBEDDED_INDEX_SLOTS = 500_000;
export const EMBEDDED_INDEX_ENTRIES = 2_000_000;

/** RocketMQ `maxHashSlotNum` = 5M and `maxIndexNum` = 20M: ≈ 420 MB per index file (standalone broker). */
export const STANDALONE_INDEX_SLOTS = 5_000_000;
export const STANDALONE_INDEX_ENTRIES = 20_000_000;

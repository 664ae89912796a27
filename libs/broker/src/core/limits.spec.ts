import * as storeLimits from '../store/limits.js';
import {
  DEFAULT_MAX_BODY_SIZE,
  DEFAULT_MAX_DELIVERY_ATTEMPTS,
  DELAY_LEVELS_MS,
  GROUP_MAX_LENGTH,
  INVISIBLE_DURATION_MAX_MS,
  INVISIBLE_DURATION_MIN_MS,
  LONG_POLLING_MAX_MS,
  LONG_POLLING_MIN_MS,
  MAX_BODY_SIZE,
  MAX_DELAY_MS,
  MAX_PROPERTIES_COUNT,
  MAX_PROPERTIES_SIZE,
  RECEIVE_BATCH_MAX,
  RESERVED_PROPERTY_KEYS,
  RETRY_BACKOFF_MS,
  RETRY_OR_DLQ_TOPIC_MAX_LENGTH,
  ROCKETMQ_RESERVED_PROPERTY_KEYS,
  ROCKETNEST_RESERVED_PROPERTY_KEYS,
  SYSTEM_GROUPS,
  SYSTEM_TOPICS,
  TOPIC_MAX_LENGTH,
  TRANSACTION_CHECK_FIRST_MS,
  TRANSACTION_CHECK_INTERVAL_MS,
  TRANSACTION_CHECK_MAX,
  TRANSACTION_RECOVERY_MAX_MS,
  retryBackoffMs,
} from './limits.js';

const s = 1_000;
const m = 60 * s;
const h = 60 * m;

describe('core limits', () => {
  it('has RocketMQ values', () => {
    expect(TOPIC_MAX_LENGTH).toBe(127);
    expect(RETRY_OR_DLQ_TOPIC_MAX_LENGTH).toBe(255);
    expect(GROUP_MAX_LENGTH).toBe(120);
    expect(MAX_PROPERTIES_COUNT).toBe(128);
    expect(MAX_PROPERTIES_SIZE).toBe(16 * 1024);
    expect(INVISIBLE_DURATION_MIN_MS).toBe(10 * s);
    expect(INVISIBLE_DURATION_MAX_MS).toBe(12 * h);
    expect(MAX_DELAY_MS).toBe(24 * h);
    expect(TRANSACTION_RECOVERY_MAX_MS).toBe(h);
    expect(RECEIVE_BATCH_MAX).toBe(32);
    expect([LONG_POLLING_MIN_MS, LONG_POLLING_MAX_MS]).toEqual([5 * s, 20 * s]);
    expect(DEFAULT_MAX_DELIVERY_ATTEMPTS).toBe(17);
    expect([TRANSACTION_CHECK_FIRST_MS, TRANSACTION_CHECK_INTERVAL_MS, TRANSACTION_CHECK_MAX]).toEqual([
      6 * s,
      30 * s,
      15,
    ]);
  });

  it('shares the store limits instead of redefining them', () => {
    expect(MAX_BODY_SIZE).toBe(storeLimits.MAX_BODY_SIZE);
    expect(MAX_PROPERTIES_COUNT).toBe(storeLimits.MAX_PROPERTIES_COUNT);
    expect(MAX_PROPERTIES_SIZE).toBe(storeLimits.MAX_PROPERTIES_SIZE);
    expect(DEFAULT_MAX_BODY_SIZE).toBe(4 * 1024 * 1024 - 64 * 1024);
  });

  it('has the 18 delay levels and the 16 retry steps', () => {
    expect(DELAY_LEVELS_MS).toEqual([
      s,
      5 * s,
      10 * s,
      30 * s,
      m,
      2 * m,
      3 * m,
      4 * m,
      5 * m,
      6 * m,
      7 * m,
      8 * m,
      9 * m,
      10 * m,
      20 * m,
      30 * m,
      h,
      2 * h,
    ]);
    expect(RETRY_BACKOFF_MS).toHaveLength(16);
    expect(RETRY_BACKOFF_MS[0]).toBe(10 * s);
    expect(RETRY_BACKOFF_MS.at(-1)).toBe(2 * h);
    // 16 retries after the first delivery: one step per retry up to the 17th attempt.
    expect(RETRY_BACKOFF_MS).toHaveLength(DEFAULT_MAX_DELIVERY_ATTEMPTS - 1);
    expect(Object.isFrozen(DELAY_LEVELS_MS)).toBe(true);
  });

  it('maps a failed attempt to its backoff like CustomizedRetryPolicy', () => {
    expect(retryBackoffMs(1)).toBe(10 * s);
    expect(retryBackoffMs(2)).toBe(30 * s);
    expect(retryBackoffMs(3)).toBe(m);
    expect(retryBackoffMs(16)).toBe(2 * h);
    expect(retryBackoffMs(100)).toBe(2 * h);
    expect(retryBackoffMs(0)).toBe(10 * s);
  });

  it('lists the system topics, groups and reserved keys', () => {
    for (const topic of [
      'TBW102',
      'SCHEDULE_TOPIC_XXXX',
      'RMQ_SYS_TRANS_HALF_TOPIC',
      'TRANS_CHECK_MAX_TIME_TOPIC',
    ]) {
      expect(SYSTEM_TOPICS.has(topic)).toBe(true);
    }
    expect(SYSTEM_TOPICS.size).toBe(10);
    expect(SYSTEM_GROUPS.has('TOOLS_CONSUMER')).toBe(true);
    expect(SYSTEM_GROUPS.has('CID_ONS-HTTP-PROXY')).toBe(true);
    expect(ROCKETMQ_RESERVED_PROPERTY_KEYS.size).toBe(51);
    for (const key of ['KEYS', 'TAGS', 'UNIQ_KEY', 'TRAN_MSG', 'TIMER_DELIVER_MS', 'POP_CK', '__CRC32#']) {
      expect(RESERVED_PROPERTY_KEYS.has(key)).toBe(true);
    }
    expect(RESERVED_PROPERTY_KEYS.size).toBe(
      ROCKETMQ_RESERVED_PROPERTY_KEYS.size + ROCKETNEST_RESERVED_PROPERTY_KEYS.size,
    );
    expect(RESERVED_PROPERTY_KEYS.has('__SHARDINGKEY')).toBe(true);
  });
});

import { StatusCode, type RocketError, type StatusCodeValue } from '../status-code.js';
import {
  BadRequestError,
  IllegalConsumerGroupError,
  IllegalDeliveryTimeError,
  IllegalInvisibleTimeError,
  IllegalMessageGroupError,
  IllegalMessageIdError,
  IllegalMessageKeyError,
  IllegalMessageTagError,
  IllegalPropertyKeyError,
  IllegalTopicError,
  InvalidTransactionIdError,
  MessageBodyEmptyError,
  MessageBodyTooLargeError,
  MessagePropertiesTooLargeError,
  MessageTypeConflictError,
} from './errors.js';
import { DEFAULT_MAX_BODY_SIZE, INVISIBLE_DURATION_MAX_MS, MAX_DELAY_MS } from './limits.js';
import {
  ALL_MESSAGE_TYPES,
  clampReceiveBatchSize,
  validateReceiveBatchSize,
  effectiveMessageType,
  isBlank,
  isSystemGroup,
  isSystemTopic,
  validateBody,
  validateConsumerGroup,
  validateDeliveryTimestamp,
  validateInvisibleDuration,
  validateKeys,
  validateMessageGroup,
  validateMessageId,
  validateMessageType,
  validateTag,
  validateTopicName,
  validateTransactionId,
  validateTransactionRecoveryMs,
  validateUserProperties,
  type MessageType,
} from './validation.js';

/** Runs `fn`, expecting a RocketError of `type` with `code` whose message contains `fragment`. */
function expectError(
  fn: () => unknown,
  type: abstract new (...args: never[]) => RocketError,
  code: StatusCodeValue,
  fragment?: string,
): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(type);
  expect((thrown as RocketError).code).toBe(code);
  if (fragment !== undefined) expect((thrown as RocketError).message).toContain(fragment);
}

describe('isBlank (Java StringUtils.isBlank)', () => {
  it('treats Java whitespace as blank and no-break spaces as text', () => {
    expect(isBlank('')).toBe(true);
    expect(isBlank(' \t\r\n\u000b\f')).toBe(true);
    expect(isBlank('\u2003\u3000\u2028\u001c')).toBe(true);
    expect(isBlank('\u00a0')).toBe(false);
    expect(isBlank('\u202f')).toBe(false);
    expect(isBlank(' a ')).toBe(false);
  });
});

describe('validateTopicName', () => {
  it('accepts RocketMQ topic names', () => {
    for (const name of ['orders', 'a', 'A-b_c%d|e', 'x'.repeat(127), 'ns%orders']) {
      expect(() => validateTopicName(name)).not.toThrow();
    }
  });

  it.each([
    ['', 'blank'],
    ['   ', 'blank'],
    ['x'.repeat(128), 'longer than 127'],
    ['with space', 'illegal characters'],
    ['dot.ted', 'illegal characters'],
    ['ünïcode', 'illegal characters'],
    ['TBW102', 'system topic'],
    ['SCHEDULE_TOPIC_XXXX', 'system topic'],
    ['RMQ_SYS_TRANS_HALF_TOPIC', 'system topic'],
    ['RMQ_SYS_ANYTHING', 'system topic'],
    ['rmq_sys_wheel_timer', 'system topic'],
    ['TRANS_CHECK_MAX_TIME_TOPIC', 'system topic'],
    ['%RETRY%group', 'reserved'],
    ['%DLQ%group', 'reserved'],
  ])('rejects %j (%s)', (name, fragment) => {
    expectError(() => validateTopicName(name), IllegalTopicError, StatusCode.ILLEGAL_TOPIC, fragment);
  });

  it('allows system topics and retry/DLQ topics when asked', () => {
    expect(() => validateTopicName('RMQ_SYS_TRANS_HALF_TOPIC', { allowSystem: true })).not.toThrow();
    expect(() => validateTopicName('%DLQ%group', { allowRetryDlq: true })).not.toThrow();
    expect(() => validateTopicName('%RETRY%' + 'g'.repeat(248), { allowRetryDlq: true })).not.toThrow();
    expectError(
      () => validateTopicName('%RETRY%' + 'g'.repeat(249), { allowRetryDlq: true }),
      IllegalTopicError,
      StatusCode.ILLEGAL_TOPIC,
      'longer than 255',
    );
  });

  it('honours extra system topics', () => {
    const extra = new Set(['DefaultCluster']);
    expect(isSystemTopic('DefaultCluster', extra)).toBe(true);
    expect(isSystemTopic('DefaultCluster')).toBe(false);
    expectError(
      () => validateTopicName('DefaultCluster', { extraSystemTopics: extra }),
      IllegalTopicError,
      StatusCode.ILLEGAL_TOPIC,
    );
  });

  it('keeps a huge name out of the message', () => {
    try {
      validateTopicName('y'.repeat(1_000_000));
      throw new Error('no error');
    } catch (error) {
      expect((error as Error).message.length).toBeLessThan(200);
    }
  });

  it('rejects a value that is not a string', () => {
    expectError(
      () => validateTopicName(undefined as unknown as string),
      IllegalTopicError,
      StatusCode.ILLEGAL_TOPIC,
    );
  });
});

describe('validateConsumerGroup', () => {
  it('accepts RocketMQ group names', () => {
    for (const name of ['GID_orders', 'g', 'g'.repeat(120), 'a|b%c-d_e']) {
      expect(() => validateConsumerGroup(name)).not.toThrow();
    }
  });

  it.each([
    ['', 'blank'],
    [' ', 'blank'],
    ['g'.repeat(121), 'longer than 120'],
    ['bad group', 'illegal characters'],
    ['CID_RMQ_SYS_anything', 'system consumer group'],
    ['TOOLS_CONSUMER', 'system consumer group'],
    ['__MONITOR_CONSUMER', 'system consumer group'],
    ['CID_ONS-HTTP-PROXY', 'system consumer group'],
    ['DEFAULT_CONSUMER', 'system consumer group'],
  ])('rejects %j (%s)', (name, fragment) => {
    expectError(
      () => validateConsumerGroup(name),
      IllegalConsumerGroupError,
      StatusCode.ILLEGAL_CONSUMER_GROUP,
      fragment,
    );
  });

  it('knows the system groups', () => {
    expect(isSystemGroup('CID_RMQ_SYS_TRANS')).toBe(true);
    expect(isSystemGroup('SELF_TEST_C_GROUP')).toBe(true);
    expect(isSystemGroup('my-group')).toBe(false);
  });
});

describe('validateTag', () => {
  it('treats absent and empty as no tag', () => {
    expect(validateTag(undefined)).toBeUndefined();
    expect(validateTag(null)).toBeUndefined();
    expect(validateTag('')).toBeUndefined();
    expect(validateTag('TagA')).toBe('TagA');
    expect(validateTag('with space')).toBe('with space');
    expect(validateTag('*')).toBe('*');
  });

  it.each([
    ['  ', 'whitespace'],
    ['\t', 'whitespace'],
    ['a|b', "'|'"],
    ['a\u0000', 'control'],
    ['a\u001fb', 'control'],
    ['a\u007f', 'control'],
    ['a\u0085', 'control'],
    ['a\u009f', 'control'],
  ])('rejects %j (%s)', (tag, fragment) => {
    expectError(() => validateTag(tag), IllegalMessageTagError, StatusCode.ILLEGAL_MESSAGE_TAG, fragment);
  });

  it('accepts characters just outside the control ranges', () => {
    expect(validateTag('a\u0020\u007e\u00a0b')).toBe('a\u0020\u007e\u00a0b');
  });
});

describe('validateKeys', () => {
  it('accepts absent, empty lists and ordinary keys', () => {
    expect(() => validateKeys(undefined)).not.toThrow();
    expect(() => validateKeys([])).not.toThrow();
    expect(() => validateKeys(['order-1', 'user 42', 'ключ'])).not.toThrow();
  });

  it.each([
    ['', 'empty'],
    [' ', 'whitespace'],
    ['a\nb', 'control'],
  ])('rejects %j (%s)', (key, fragment) => {
    expectError(
      () => validateKeys(['ok', key]),
      IllegalMessageKeyError,
      StatusCode.ILLEGAL_MESSAGE_KEY,
      fragment,
    );
  });
});

describe('validateMessageGroup', () => {
  it('treats absent and empty as no group', () => {
    expect(validateMessageGroup(undefined)).toBeUndefined();
    expect(validateMessageGroup('')).toBeUndefined();
    expect(validateMessageGroup('order-42')).toBe('order-42');
  });

  it('allows at most 63 UTF-8 bytes (the proxy rejects bytes >= 64)', () => {
    expect(validateMessageGroup('g'.repeat(63))).toBe('g'.repeat(63));
    expectError(
      () => validateMessageGroup('g'.repeat(64)),
      IllegalMessageGroupError,
      StatusCode.ILLEGAL_MESSAGE_GROUP,
      '64 UTF-8 bytes',
    );
    // 21 × 3-byte characters = 63 bytes; one more ASCII byte reaches 64.
    expect(validateMessageGroup('€'.repeat(21))).toBe('€'.repeat(21));
    expectError(
      () => validateMessageGroup('€'.repeat(21) + 'x'),
      IllegalMessageGroupError,
      StatusCode.ILLEGAL_MESSAGE_GROUP,
    );
    expectError(
      () => validateMessageGroup('x'.repeat(100_000)),
      IllegalMessageGroupError,
      StatusCode.ILLEGAL_MESSAGE_GROUP,
    );
  });

  it.each([
    [' \t ', 'whitespace'],
    ['a\u0001', 'control'],
    ['a\u0090', 'control'],
  ])('rejects %j (%s)', (group, fragment) => {
    expectError(
      () => validateMessageGroup(group),
      IllegalMessageGroupError,
      StatusCode.ILLEGAL_MESSAGE_GROUP,
      fragment,
    );
  });
});

describe('validateUserProperties', () => {
  it('accepts ordinary properties as a record or a map', () => {
    expect(() => validateUserProperties({ a: '1', b: '', 'x-trace': 'v' })).not.toThrow();
    expect(() => validateUserProperties(new Map([['a', '1']]))).not.toThrow();
    expect(() => validateUserProperties(undefined)).not.toThrow();
  });

  it('allows 128 properties and rejects 129', () => {
    const props: Record<string, string> = {};
    for (let i = 0; i < 128; i++) props[`k${i}`] = 'v';
    expect(() => validateUserProperties(props)).not.toThrow();
    props['k128'] = 'v';
    expectError(
      () => validateUserProperties(props),
      MessagePropertiesTooLargeError,
      StatusCode.MESSAGE_PROPERTIES_TOO_LARGE,
      '129 user properties',
    );
  });

  it('counts keys, values, tag and message keys against 16 KiB', () => {
    const value = 'v'.repeat(16 * 1024 - 1);
    expect(() => validateUserProperties({ k: value })).not.toThrow();
    expectError(
      () => validateUserProperties({ k: value + 'v' }),
      MessagePropertiesTooLargeError,
      StatusCode.MESSAGE_PROPERTIES_TOO_LARGE,
      '16385 bytes',
    );
    expectError(
      () => validateUserProperties({ k: value }, { tag: 'T' }),
      MessagePropertiesTooLargeError,
      StatusCode.MESSAGE_PROPERTIES_TOO_LARGE,
    );
    expectError(
      () => validateUserProperties({ k: value.slice(2) }, { tag: 'T', keys: ['a', 'b'] }),
      MessagePropertiesTooLargeError,
      StatusCode.MESSAGE_PROPERTIES_TOO_LARGE,
    );
    // UTF-8 bytes, not UTF-16 units: 5462 × '€' = 16386 bytes.
    expectError(
      () => validateUserProperties({ k: '€'.repeat(5462) }),
      MessagePropertiesTooLargeError,
      StatusCode.MESSAGE_PROPERTIES_TOO_LARGE,
    );
  });

  it.each([
    ['KEYS', 'used by the system'],
    ['TAGS', 'used by the system'],
    ['UNIQ_KEY', 'used by the system'],
    ['DELAY', 'used by the system'],
    ['TRAN_MSG', 'used by the system'],
    ['__SHARDINGKEY', 'used by the system'],
    ['TIMER_DELIVER_MS', 'used by the system'],
    ['POP_CK', 'used by the system'],
    ['RECONSUME_TIME', 'used by the system'],
    ['__RMQ.TRANSIENT.TOPIC_SYS_FLAG', 'used by the system'],
    ['a\u0000b', 'key cannot contain a control character'],
    ['a\u009fb', 'key cannot contain a control character'],
    ['', 'empty'],
  ])('rejects the key %j (%s)', (key, fragment) => {
    expectError(
      () => validateUserProperties({ [key]: 'v' }),
      IllegalPropertyKeyError,
      StatusCode.ILLEGAL_MESSAGE_PROPERTY_KEY,
      fragment,
    );
  });

  it('rejects a control character in a value, as RocketMQ does', () => {
    expectError(
      () => validateUserProperties({ k: 'line\nbreak' }),
      IllegalPropertyKeyError,
      StatusCode.ILLEGAL_MESSAGE_PROPERTY_KEY,
      'value',
    );
  });

  it('is case-sensitive about reserved keys', () => {
    expect(() => validateUserProperties({ keys: 'v', tags: 'v' })).not.toThrow();
  });
});

describe('validateMessageId and validateTransactionId', () => {
  it('accepts client ids', () => {
    expect(() => validateMessageId('01B0B1C2D3E4F5000012345678000000AB')).not.toThrow();
    expect(() => validateTransactionId('tx-1')).not.toThrow();
  });

  it.each([[''], ['  '], ['a\u0000b'], ['x'.repeat(129)]])('rejects the message id %j', (id) => {
    expectError(() => validateMessageId(id), IllegalMessageIdError, StatusCode.ILLEGAL_MESSAGE_ID);
  });

  it('rejects a blank transaction id', () => {
    expectError(
      () => validateTransactionId(' '),
      InvalidTransactionIdError,
      StatusCode.INVALID_TRANSACTION_ID,
    );
    expectError(
      () => validateTransactionId(undefined),
      InvalidTransactionIdError,
      StatusCode.INVALID_TRANSACTION_ID,
    );
  });
});

describe('validateDeliveryTimestamp', () => {
  const now = 1_700_000_000_000;

  it('delivers past timestamps now', () => {
    expect(validateDeliveryTimestamp(now - 5_000, now)).toBe(now);
    expect(validateDeliveryTimestamp(0, now)).toBe(now);
    expect(validateDeliveryTimestamp(-1, now)).toBe(now);
  });

  it('accepts up to the maximum delay and rejects beyond it', () => {
    expect(validateDeliveryTimestamp(now + MAX_DELAY_MS, now)).toBe(now + MAX_DELAY_MS);
    expectError(
      () => validateDeliveryTimestamp(now + MAX_DELAY_MS + 1, now),
      IllegalDeliveryTimeError,
      StatusCode.ILLEGAL_DELIVERY_TIME,
      `${now + MAX_DELAY_MS + 1}`,
    );
    expect(validateDeliveryTimestamp(now + 10_000, now, 10_000)).toBe(now + 10_000);
    expectError(
      () => validateDeliveryTimestamp(now + 10_001, now, 10_000),
      IllegalDeliveryTimeError,
      StatusCode.ILLEGAL_DELIVERY_TIME,
    );
  });

  it.each([[NaN], [Infinity], [-Infinity]])('rejects %p', (ts) => {
    expectError(
      () => validateDeliveryTimestamp(ts, now),
      IllegalDeliveryTimeError,
      StatusCode.ILLEGAL_DELIVERY_TIME,
      'finite',
    );
  });
});

describe('validateInvisibleDuration', () => {
  it('accepts 10 s to 12 h by default', () => {
    expect(validateInvisibleDuration(10_000)).toBe(10_000);
    expect(validateInvisibleDuration(INVISIBLE_DURATION_MAX_MS)).toBe(INVISIBLE_DURATION_MAX_MS);
  });

  it.each([
    [9_999, 'too small'],
    [INVISIBLE_DURATION_MAX_MS + 1, 'too large'],
    [-1, 'non-negative'],
    [NaN, 'finite'],
  ])('rejects %p ms (%s)', (ms, fragment) => {
    expectError(
      () => validateInvisibleDuration(ms),
      IllegalInvisibleTimeError,
      StatusCode.ILLEGAL_INVISIBLE_TIME,
      fragment,
    );
  });

  it('takes other bounds (ChangeInvisibleDuration accepts 0)', () => {
    expect(validateInvisibleDuration(0, { minMs: 0 })).toBe(0);
    expect(validateInvisibleDuration(1, { minMs: 0 })).toBe(1);
    expectError(
      () => validateInvisibleDuration(61, { minMs: 0, maxMs: 60 }),
      IllegalInvisibleTimeError,
      StatusCode.ILLEGAL_INVISIBLE_TIME,
    );
  });
});

describe('validateTransactionRecoveryMs', () => {
  it('allows up to one hour in whole seconds', () => {
    expect(validateTransactionRecoveryMs(6_000)).toBe(6_000);
    expect(validateTransactionRecoveryMs(3_600_999)).toBe(3_600_999);
    expectError(
      () => validateTransactionRecoveryMs(3_601_000),
      BadRequestError,
      StatusCode.BAD_REQUEST,
      'too large',
    );
    expectError(() => validateTransactionRecoveryMs(NaN), BadRequestError, StatusCode.BAD_REQUEST);
  });
});

describe('validateBody', () => {
  it('rejects an empty body and one over the limit', () => {
    expect(() => validateBody(Buffer.from('x'))).not.toThrow();
    expect(() => validateBody(new Uint8Array(DEFAULT_MAX_BODY_SIZE))).not.toThrow();
    expectError(() => validateBody(Buffer.alloc(0)), MessageBodyEmptyError, StatusCode.MESSAGE_BODY_EMPTY);
    expectError(
      () => validateBody(new Uint8Array(DEFAULT_MAX_BODY_SIZE + 1)),
      MessageBodyTooLargeError,
      StatusCode.MESSAGE_BODY_TOO_LARGE,
      `${DEFAULT_MAX_BODY_SIZE + 1} bytes`,
    );
    expectError(
      () => validateBody(Buffer.alloc(11), 10),
      MessageBodyTooLargeError,
      StatusCode.MESSAGE_BODY_TOO_LARGE,
    );
  });
});

describe('clampReceiveBatchSize', () => {
  it('defaults non-positive sizes and caps at 32', () => {
    expect(clampReceiveBatchSize(10)).toBe(10);
    expect(clampReceiveBatchSize(0)).toBe(32);
    expect(clampReceiveBatchSize(-3)).toBe(32);
    expect(clampReceiveBatchSize(NaN)).toBe(32);
    expect(clampReceiveBatchSize(1000)).toBe(32);
    expect(clampReceiveBatchSize(2.7)).toBe(2);
  });

  it("caps at a broker's configured most instead, and defaults within it", () => {
    expect(clampReceiveBatchSize(1000, 128)).toBe(128);
    expect(clampReceiveBatchSize(0, 128)).toBe(32);
    expect(clampReceiveBatchSize(0, 8)).toBe(8);
  });
});

describe('validateReceiveBatchSize', () => {
  it('takes 32 when missing and clamps above 32, as the proxy does', () => {
    expect(validateReceiveBatchSize(undefined)).toBe(32);
    expect(validateReceiveBatchSize(1)).toBe(1);
    expect(validateReceiveBatchSize(32)).toBe(32);
    expect(validateReceiveBatchSize(33)).toBe(32);
  });

  it("follows a broker's configured most: missing takes it, more is clamped to it", () => {
    expect(validateReceiveBatchSize(undefined, 128)).toBe(128);
    expect(validateReceiveBatchSize(100, 128)).toBe(100);
    expect(validateReceiveBatchSize(1000, 128)).toBe(128);
    expect(validateReceiveBatchSize(undefined, 8)).toBe(8);
    expect(validateReceiveBatchSize(9, 8)).toBe(8);
  });

  it('refuses the rest with BAD_REQUEST', () => {
    for (const bad of [0, -3, 2.7, NaN, Infinity]) {
      expect(() => validateReceiveBatchSize(bad, 128)).toThrow(
        expect.objectContaining({ code: StatusCode.BAD_REQUEST }),
      );
      expect(() => validateReceiveBatchSize(bad)).toThrow(
        expect.objectContaining({ code: StatusCode.BAD_REQUEST }),
      );
    }
  });
});

describe('message types', () => {
  it('ranks TRANSACTION › DELAY › FIFO › NORMAL', () => {
    expect(effectiveMessageType({ transaction: false })).toBe('NORMAL');
    expect(effectiveMessageType({ transaction: false, messageGroup: '' })).toBe('NORMAL');
    expect(effectiveMessageType({ transaction: false, messageGroup: 'g' })).toBe('FIFO');
    expect(effectiveMessageType({ transaction: false, deliveryTimestamp: 0 })).toBe('DELAY');
    expect(effectiveMessageType({ transaction: false, deliveryTimestamp: 5, messageGroup: 'g' })).toBe(
      'DELAY',
    );
    expect(effectiveMessageType({ transaction: true, deliveryTimestamp: 5, messageGroup: 'g' })).toBe(
      'TRANSACTION',
    );
    expect(effectiveMessageType({ transaction: false, deliveryTimestamp: null, messageGroup: null })).toBe(
      'NORMAL',
    );
  });

  const only = (...types: MessageType[]): ReadonlySet<MessageType> => new Set(types);

  it('accepts a type the topic takes, returning it', () => {
    expect(validateMessageType('FIFO', only('FIFO'))).toBe('FIFO');
    expect(validateMessageType({ transaction: true }, ALL_MESSAGE_TYPES)).toBe('TRANSACTION');
    expect(validateMessageType({ transaction: false, messageGroup: 'g' }, only('FIFO'))).toBe('FIFO');
  });

  it.each<[MessageType, MessageType[]]>([
    ['FIFO', ['NORMAL']],
    ['TRANSACTION', ['NORMAL']],
    ['DELAY', ['NORMAL', 'FIFO']],
    ['NORMAL', ['FIFO']],
    ['NORMAL', []],
  ])('rejects %s on a topic taking %j', (type, accepted) => {
    expectError(
      () => validateMessageType(type, only(...accepted)),
      MessageTypeConflictError,
      StatusCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      type,
    );
  });

  it.each([
    [{ transaction: true, deliveryTimestamp: 5 }, 'delivery timestamp'],
    [{ transaction: true, messageGroup: 'g' }, 'message group'],
    [{ transaction: false, deliveryTimestamp: 5, messageGroup: 'g' }, 'both'],
  ])('rejects the mix %j even on a MIXED topic', (traits, fragment) => {
    expectError(
      () => validateMessageType(traits, ALL_MESSAGE_TYPES),
      MessageTypeConflictError,
      StatusCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE,
      fragment,
    );
  });
});

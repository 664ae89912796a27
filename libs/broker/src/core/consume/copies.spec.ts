import { type StoredMessage } from '../../store/index.js';
import { SysFlag } from '../../store/message-record.js';
import { deadLetterCopy, messageGroupOf, resendCopy, retryCopy, retryFromOf } from './copies.js';
import {
  DLQ_ORIGIN_TOPIC_PROPERTY,
  LAST_ERROR_MAX_CHARS,
  LAST_ERROR_PROPERTY,
  MESSAGE_GROUP_PROPERTY,
  ORIGIN_QUEUE_ID_PROPERTY,
  RETRY_TOPIC_PROPERTY,
} from './names.js';

function stored(overrides: Partial<StoredMessage> = {}): StoredMessage {
  return {
    topic: 'orders',
    queueId: 3,
    queueOffset: 9,
    physicalOffset: 1234,
    size: 200,
    body: Buffer.from('hello'),
    bodyCrc: 0,
    messageId: 'ID-1',
    tag: 'paid',
    keys: ['k1', 'k2'],
    userProperties: { a: '1' },
    systemProperties: {
      [MESSAGE_GROUP_PROPERTY]: 'mg',
      TIMER_DELIVER_MS: '123',
      TRAN_MSG: 'true',
      REAL_TOPIC: 'x',
      CUSTOM: 'kept',
    },
    flag: 5,
    sysFlag: SysFlag.TRANSACTION_COMMIT | SysFlag.COMPRESSED,
    bornTimestamp: 42,
    bornHost: '10.0.0.1:1234',
    storeTimestamp: 43,
    storeHost: '127.0.0.1:8081',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
    ...overrides,
  };
}

describe('copies', () => {
  it('a retry copy keeps the message and records where it came from', () => {
    const copy = retryCopy(
      stored(),
      'orders',
      'g',
      2,
      { topic: 'orders', queueId: 3, queueOffset: 9 },
      'x'.repeat(999),
    );
    expect(copy).toMatchObject({
      topic: '%RETRY%g_orders',
      queueId: 0,
      messageId: 'ID-1',
      tag: 'paid',
      keys: ['k1', 'k2'],
      userProperties: { a: '1' },
      flag: 5,
      sysFlag: SysFlag.COMPRESSED,
      bornTimestamp: 42,
      bornHost: '10.0.0.1:1234',
      reconsumeTimes: 2,
    });
    expect(copy.systemProperties).toMatchObject({
      [RETRY_TOPIC_PROPERTY]: 'orders',
      [ORIGIN_QUEUE_ID_PROPERTY]: '3',
      [MESSAGE_GROUP_PROPERTY]: 'mg',
      CUSTOM: 'kept',
      RECONSUME_TIME: '2',
    });
    for (const gone of ['TIMER_DELIVER_MS', 'TRAN_MSG', 'REAL_TOPIC'])
      expect(copy.systemProperties![gone]).toBeUndefined();
    expect(copy.systemProperties![LAST_ERROR_PROPERTY]!.length).toBe(LAST_ERROR_MAX_CHARS);
    const asStored = stored({
      topic: '%RETRY%g_orders',
      queueId: 0,
      systemProperties: copy.systemProperties!,
    });
    expect(retryFromOf(asStored)).toEqual({ topic: 'orders', queueId: 3, queueOffset: 9 });
    expect(messageGroupOf(asStored)).toBe('mg');
    // A copy of a copy keeps the first queue id.
    const again = retryCopy(
      asStored,
      'orders',
      'g',
      3,
      { topic: '%RETRY%g_orders', queueId: 0, queueOffset: 0 },
      'r',
    );
    expect(again.systemProperties![ORIGIN_QUEUE_ID_PROPERTY]).toBe('3');
  });

  it('retryFromOf ignores a malformed value', () => {
    for (const value of ['', '1', '1/2', 'a/2/t', '1/b/t', '1/2/']) {
      expect(retryFromOf(stored({ systemProperties: { __RN_RETRY_FROM: value } }))).toBeUndefined();
    }
    expect(messageGroupOf(stored({ systemProperties: { [MESSAGE_GROUP_PROPERTY]: '' } }))).toBeUndefined();
  });

  it('a resend goes back to the original topic and queue, or queue 0 when that queue is gone', () => {
    const dead = deadLetterCopy(stored(), 'orders', 'g', 17, 'expired', 1_000);
    expect(dead.systemProperties![DLQ_ORIGIN_TOPIC_PROPERTY]).toBe('orders');
    const asStored = stored({
      topic: '%DLQ%g',
      queueId: 0,
      systemProperties: dead.systemProperties!,
      reconsumeTimes: 17,
    });
    const back = resendCopy(asStored, () => 8);
    expect(back).toMatchObject({ topic: 'orders', queueId: 3, messageId: 'ID-1', reconsumeTimes: 0 });
    expect(Object.keys(back.systemProperties!).sort()).toEqual(['CUSTOM', MESSAGE_GROUP_PROPERTY]);
    expect(resendCopy(asStored, () => 2).queueId).toBe(0);
  });
});

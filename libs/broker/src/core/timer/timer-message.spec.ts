import type { StoredMessage } from '../../store/index.js';
import { SCHEDULE_TOPIC } from '../limits.js';
import {
  DELAY,
  deliverAtOf,
  REAL_QID,
  REAL_TOPIC,
  TIMER_DELIVER_MS,
  toImmediateMessage,
  toRealMessage,
  toScheduleRecord,
} from './timer-message.js';

function stored(systemProperties: Record<string, string>): StoredMessage {
  return {
    topic: SCHEDULE_TOPIC,
    queueId: 4,
    queueOffset: 0,
    physicalOffset: 0,
    size: 100,
    body: Buffer.from('b'),
    bodyCrc: 0,
    messageId: 'id',
    tag: 't',
    keys: ['k'],
    userProperties: { u: '1' },
    systemProperties,
    flag: 3,
    sysFlag: 0,
    bornTimestamp: 1,
    bornHost: '1.2.3.4:5',
    storeTimestamp: 2,
    storeHost: '5.6.7.8:9',
    reconsumeTimes: 4,
    preparedTransactionOffset: 0,
  };
}

describe('timer message shapes', () => {
  const original = {
    topic: 'orders',
    queueId: 2,
    body: Buffer.from('x'),
    messageId: 'id',
    systemProperties: { __SHARDINGKEY: 'g', [DELAY]: '9' },
  };

  it('parks a message under SCHEDULE_TOPIC with RocketMQ property names', () => {
    const parked = toScheduleRecord(original, 1234, 7, 3);
    expect(parked).toMatchObject({ topic: SCHEDULE_TOPIC, queueId: 7, messageId: 'id' });
    expect(parked.systemProperties).toEqual({
      __SHARDINGKEY: 'g',
      [REAL_TOPIC]: 'orders',
      [REAL_QID]: '2',
      [TIMER_DELIVER_MS]: '1234',
      [DELAY]: '3',
    });
    // The caller's object is untouched.
    expect(original.systemProperties).toEqual({ __SHARDINGKEY: 'g', [DELAY]: '9' });
    expect(toScheduleRecord(original, 1234, 7).systemProperties?.[DELAY]).toBeUndefined();
  });

  it('delivers at once with the delivery time recorded', () => {
    expect(toImmediateMessage(original, 99).systemProperties).toEqual({
      __SHARDINGKEY: 'g',
      [TIMER_DELIVER_MS]: '99',
    });
  });

  it('rebuilds the real message, dropping REAL_TOPIC, REAL_QID and DELAY', () => {
    const real = toRealMessage(
      stored({ [REAL_TOPIC]: 'orders', [REAL_QID]: '2', [TIMER_DELIVER_MS]: '5', [DELAY]: '1', x: 'y' }),
    );
    expect(real).toMatchObject({
      topic: 'orders',
      queueId: 2,
      messageId: 'id',
      tag: 't',
      keys: ['k'],
      userProperties: { u: '1' },
      systemProperties: { [TIMER_DELIVER_MS]: '5', x: 'y' },
      flag: 3,
      bornTimestamp: 1,
      bornHost: '1.2.3.4:5',
      reconsumeTimes: 4,
    });
  });

  it('explains records that are not parked messages', () => {
    expect(toRealMessage(stored({}))).toMatch(/REAL_TOPIC/);
    expect(toRealMessage(stored({ [REAL_TOPIC]: 'a', [REAL_QID]: '-1' }))).toMatch(/REAL_QID/);
    expect(toRealMessage(stored({ [REAL_TOPIC]: 'a', [REAL_QID]: '' }))).toMatch(/REAL_QID/);
    expect(deliverAtOf(stored({ [TIMER_DELIVER_MS]: 'soon' }))).toBeUndefined();
    expect(deliverAtOf(stored({ [TIMER_DELIVER_MS]: '' }))).toBeUndefined();
    expect(deliverAtOf(stored({ [TIMER_DELIVER_MS]: '42' }))).toBe(42);
  });
});

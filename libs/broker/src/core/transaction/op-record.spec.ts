import type { StoredMessage } from '../../store/index.js';
import { TRANS_OP_HALF_TOPIC } from '../limits.js';
import { CHECK_TAG, opRecordMessage, parseOpRecord, REMOVE_TAG, type OpRecord } from './op-record.js';

/** What the store would hand back for `opRecordMessage(op)`. */
function stored(op: OpRecord): StoredMessage {
  const m = opRecordMessage(op);
  return {
    topic: m.topic,
    queueId: m.queueId,
    queueOffset: 0,
    physicalOffset: 0,
    size: 0,
    body: m.body,
    bodyCrc: 0,
    messageId: m.messageId,
    tag: m.tag,
    keys: m.keys ?? [],
    userProperties: {},
    systemProperties: m.systemProperties ?? {},
    flag: 0,
    sysFlag: 0,
    bornTimestamp: m.bornTimestamp ?? 0,
    bornHost: '',
    storeTimestamp: 0,
    storeHost: '',
    reconsumeTimes: 0,
    preparedTransactionOffset: 0,
  };
}

const base = {
  transactionId: 'TX1',
  messageId: 'MSG-1',
  halfQueueOffset: 42,
  halfPhysicalOffset: 123_456_789_012,
  at: 1_700_000_000_000,
};

describe('op records', () => {
  it("keep RocketMQ's shape for finished halves: tag d, body '<half queue offset>,'", () => {
    const m = opRecordMessage({ ...base, kind: 'COMMIT', source: 'CLIENT' });
    expect(m).toMatchObject({ topic: TRANS_OP_HALF_TOPIC, queueId: 0, tag: REMOVE_TAG, keys: ['TX1'] });
    expect(m.body.toString()).toBe('42,');
    expect(m.messageId).not.toBe('MSG-1');
    expect(opRecordMessage({ ...base, kind: 'CHECK', checks: 3 }).tag).toBe(CHECK_TAG);
  });

  it('round-trip every kind', () => {
    for (const op of [
      { ...base, kind: 'COMMIT', source: 'CLIENT' },
      { ...base, kind: 'ROLLBACK', source: 'SERVER_CHECK' },
      { ...base, kind: 'DISCARD', source: 'BROKER' },
      { ...base, kind: 'COMMIT', source: 'RECOVERY' },
      { ...base, kind: 'CHECK', checks: 7 },
    ] as OpRecord[]) {
      expect(parseOpRecord(stored(op))).toEqual(op);
    }
  });

  it('ignore records that are not op records', () => {
    const good = stored({ ...base, kind: 'ROLLBACK', source: 'CLIENT' });
    expect(parseOpRecord({ ...good, systemProperties: {} })).toBeUndefined();
    expect(parseOpRecord({ ...good, body: Buffer.from('x,') })).toBeUndefined();
    expect(
      parseOpRecord({ ...good, systemProperties: { ...good.systemProperties, __RN_TX_OP: 'EXPLODE' } }),
    ).toBeUndefined();
    const check = stored({ ...base, kind: 'CHECK', checks: 2 });
    expect(
      parseOpRecord({
        ...check,
        systemProperties: { ...check.systemProperties, TRANSACTION_CHECK_TIMES: '-1' },
      }),
    ).toBeUndefined();
  });
});

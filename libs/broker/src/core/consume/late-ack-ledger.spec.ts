import { LateAckLedger, leaseKey } from './late-ack-ledger.js';

describe('LateAckLedger', () => {
  it('accepts one late ack per matching lease and hands the record to the copy', () => {
    const ledger = new LateAckLedger(10);
    const key = leaseKey('g', 'orders', 1, 42);
    ledger.put(key, { leaseId: 7, acked: false });
    expect(ledger.ack(key, 8)).toBe(false);
    expect(ledger.ack(leaseKey('g', 'orders', 1, 43), 7)).toBe(false);
    expect(ledger.ack(key, 7)).toBe(true);
    expect(ledger.ack(key, 7)).toBe(false);
    expect(ledger.take(key)).toEqual({ leaseId: 7, acked: true });
    expect(ledger.take(key)).toBeUndefined();
    expect(ledger.ack(key, 7)).toBe(false);
  });

  it('keeps at most `capacity` records, dropping the oldest', () => {
    const ledger = new LateAckLedger(3);
    for (let i = 0; i < 5; i++) ledger.put(leaseKey('g', 't', 0, i), { leaseId: i, acked: false });
    expect(ledger.size).toBe(3);
    expect(ledger.ack(leaseKey('g', 't', 0, 1), 1)).toBe(false);
    expect(ledger.ack(leaseKey('g', 't', 0, 4), 4)).toBe(true);
    const none = new LateAckLedger(0);
    none.put('k', { leaseId: 1, acked: false });
    expect(none.size).toBe(0);
    expect(() => new LateAckLedger(-1)).toThrow(RangeError);
  });

  it('keys do not collide across groups, topics, queues and offsets', () => {
    const keys = [
      leaseKey('g', 't', 1, 2),
      leaseKey('g', 't', 12, 2),
      leaseKey('g', 't1', 2, 2),
      leaseKey('gt', '', 1, 2),
      leaseKey('g', 't', 1, 22),
    ];
    expect(new Set(keys).size).toBe(keys.length);
  });
});

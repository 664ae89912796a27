import { historyProblems, type HistoryEntry, type OrderWithHistory } from './order-history.js';

const created: HistoryEntry = {
  seq: 1,
  from: null,
  to: 'PENDING',
  event: 'ORDER_CREATED',
  at: '2026-01-01T00:00:00.000Z',
};
const paid: HistoryEntry = {
  seq: 2,
  from: 'PENDING',
  to: 'PAID',
  event: 'PAYMENT_SUCCEEDED',
  at: '2026-01-01T00:00:01.000Z',
};
const order = (status: OrderWithHistory['status'], history: HistoryEntry[]): OrderWithHistory => ({
  id: 'o1',
  status,
  history,
});

describe('order history rule (what the sample proofs check on every order)', () => {
  it('accepts created → paid, created alone, and a cancellation followed by a refund flag', () => {
    expect(historyProblems(order('PAID', [created, paid]))).toEqual([]);
    expect(historyProblems(order('PENDING', [created]))).toEqual([]);
    const cancelled: HistoryEntry = { ...paid, to: 'CANCELLED', event: 'PAYMENT_TIMEOUT' };
    const refund: HistoryEntry = {
      seq: 3,
      from: 'CANCELLED',
      to: 'CANCELLED',
      event: 'REFUND_REQUIRED',
      at: '2026-01-01T00:00:02.000Z',
    };
    expect(historyProblems(order('CANCELLED', [created, cancelled, refund]))).toEqual([]);
  });

  it('rejects a gap or a repeat in the numbering', () => {
    expect(historyProblems(order('PAID', [created, { ...paid, seq: 3 }]))).toEqual([
      'o1 #2: seq 3, expected 2',
    ]);
  });

  it('rejects a change that does not start where the previous one ended (applied out of order)', () => {
    const second: HistoryEntry = { ...paid, seq: 3, from: 'PENDING', to: 'FAILED', event: 'PAYMENT_FAILED' };
    expect(historyProblems(order('FAILED', [created, paid, second]))).toEqual([
      'o1 #3: from PENDING, but the order was PAID',
      'o1: left PENDING 2 times',
    ]);
  });

  it('rejects time going back, a history not starting with the creation, and an end that is not the status', () => {
    expect(historyProblems(order('PAID', [created, { ...paid, at: '2025-12-31T23:59:59.000Z' }]))).toEqual([
      'o1 #2: at 2025-12-31T23:59:59.000Z before 2026-01-01T00:00:00.000Z',
    ]);
    expect(historyProblems(order('PAID', [{ ...paid, seq: 1 }]))).toEqual([
      'o1 #1: starts with PAYMENT_SUCCEEDED from PENDING, not the creation',
    ]);
    expect(historyProblems(order('FAILED', [created, paid]))).toEqual([
      'o1: history ends at PAID, the order is FAILED',
    ]);
  });

  it('rejects an event that does not lead to the status it names, and an empty history', () => {
    expect(historyProblems(order('PAID', [created, { ...paid, event: 'PAYMENT_FAILED' }]))).toEqual([
      'o1 #2: PAYMENT_FAILED led to PAID',
    ]);
    expect(historyProblems(order('PENDING', []))).toEqual(['o1: no history']);
  });
});

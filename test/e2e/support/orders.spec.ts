import { type OrderStatus } from './order-history.js';
import { paymentMismatches, type PaymentRow } from './orders.js';

const paid = (orderId: string): PaymentRow => ({ orderId, status: 'PAID', reason: null });
const declined = (orderId: string): PaymentRow => ({ orderId, status: 'FAILED', reason: 'DECLINED' });

describe('payment audit (what the sample proofs check between orders and payments)', () => {
  it('accepts one PAID payment per PAID order, one FAILED payment or a dead letter per FAILED order', () => {
    const statuses = new Map<string, OrderStatus>([
      ['a', 'PAID'],
      ['b', 'FAILED'],
      ['c', 'FAILED'],
    ]);
    const payments = new Map([
      ['a', [paid('a')]],
      ['b', [declined('b')]],
    ]);
    expect(paymentMismatches(statuses, payments, new Set(['c']))).toEqual([]);
  });

  it('reports a second payment, a PAID order without its payment, and contradicting outcomes', () => {
    const statuses = new Map<string, OrderStatus>([
      ['twice', 'PAID'],
      ['unpaid', 'PAID'],
      ['failed-but-paid', 'FAILED'],
      ['failed-silently', 'FAILED'],
    ]);
    const payments = new Map([
      ['twice', [paid('twice'), paid('twice')]],
      ['failed-but-paid', [paid('failed-but-paid')]],
    ]);
    expect(paymentMismatches(statuses, payments, new Set())).toEqual([
      'twice: 2 payments',
      'unpaid: PAID with payment none',
      'failed-but-paid: FAILED with payment PAID and no dead letter',
      'failed-silently: FAILED with payment none and no dead letter',
    ]);
  });
});

/**
 * Payment outcomes, FIFO per order (`@Orderly`: the payment service sends them with the order id as
 * message group), applied once (`@Idempotent`, keyed by order: one payment outcome per order, so a
 * re-sent copy with another message id is a duplicate too) in the same transaction as the key.
 */
import { Inject, Injectable } from '@nestjs/common';
import { IdempotencyContext, Idempotent } from '@rocketnest/idempotency';
import { Orderly, RocketListener, type RocketMQContext } from '@rocketnest/rocketmq';
import { type PaymentResultEvent } from '../../../shared/src/events.js';
import { ORDER_PAYMENT_RESULT_GROUP, PAYMENT_RESULT_TOPIC } from '../../../shared/src/topics.js';
import { OrderNotFoundError, OrderTransitions } from './order-transitions.js';

/** A payment-result body this service cannot apply (retried, then dead-lettered). */
export class MalformedPaymentResultError extends Error {}

function checkPaymentResult(value: unknown): PaymentResultEvent {
  const r = value as Partial<PaymentResultEvent> | null;
  if (
    r === null ||
    typeof r !== 'object' ||
    typeof r.orderId !== 'string' ||
    (r.status !== 'PAID' && r.status !== 'FAILED')
  ) {
    throw new MalformedPaymentResultError(`not a payment result: ${JSON.stringify(value)?.slice(0, 200)}`);
  }
  return r as PaymentResultEvent;
}

@Injectable()
export class PaymentResultListener {
  constructor(
    @Inject(IdempotencyContext) private readonly idem: IdempotencyContext,
    @Inject(OrderTransitions) private readonly transitions: OrderTransitions,
  ) {}

  @RocketListener({ topic: PAYMENT_RESULT_TOPIC, group: ORDER_PAYMENT_RESULT_GROUP })
  @Orderly()
  @Idempotent<PaymentResultEvent>({
    key: (r) => `payment-result:${r?.orderId}`,
    // Two outcomes for one order would be a payment-service bug: counted as a mismatch.
    payloadHash: (r) => `${r?.orderId}:${r?.status}`,
  })
  async onPaymentResult(payload: unknown, ctx: RocketMQContext): Promise<void> {
    const result = checkPaymentResult(payload);
    const outcome = await this.transitions.applyPayment(this.idem.manager, result, ctx.getMessageId());
    // The order commits before its message is visible, so it exists unless databases disagree:
    // thrown, the key rolls back and the message is retried (then dead-lettered).
    if (outcome.kind === 'absent') throw new OrderNotFoundError(result.orderId);
  }
}

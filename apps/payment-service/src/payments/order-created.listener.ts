/**
 * Charges each order once. The consumer group `payment` on `order-created`:
 *
 * `@Idempotent` (transaction mode) claims the key `order:<id>` — a business key, so a second
 * *message* about the same order (a producer retry) is a duplicate too — and runs the handler in
 * the claim's database transaction: the payments row commits with the key or not at all. A throw
 * rolls both back and the broker retries with backoff; after maxReconsumeTimes the message goes to
 * `%DLQ%payment`.
 *
 * The outcome is published *inside* that transaction, before its commit. Published after it, a
 * crash between the commit and the send would lose the outcome for good (the redelivery is a
 * duplicate and skipped). Published before, a crash before the commit means the order is charged
 * again on redelivery — rolled back, so still one payments row — and its outcome sent again: the
 * same outcome, because the gateway's answer is a function of the order (transient failures throw
 * and send nothing), and the order service applies one outcome per order.
 */
import { Inject, Injectable } from '@nestjs/common';
import { IdempotencyContext, Idempotent } from '@rocketnest/idempotency';
import { RocketListener, type RocketMQContext } from '@rocketnest/rocketmq';
import { randomUUID } from 'node:crypto';
import { type OrderCreatedEvent } from '../../../shared/src/events.js';
import { ORDER_CREATED_TOPIC, PAYMENT_GROUP } from '../../../shared/src/topics.js';
import { PaymentEntity } from '../entities/payment.entity.js';
import { checkOrderCreated } from './order-event.js';
import { PaymentGateway } from './payment-gateway.js';
import { PaymentResultPublisher } from './payment-result.publisher.js';

@Injectable()
export class OrderCreatedListener {
  constructor(
    @Inject(IdempotencyContext) private readonly idem: IdempotencyContext,
    @Inject(PaymentGateway) private readonly gateway: PaymentGateway,
    @Inject(PaymentResultPublisher) private readonly publisher: PaymentResultPublisher,
  ) {}

  @RocketListener({ topic: ORDER_CREATED_TOPIC, group: PAYMENT_GROUP })
  @Idempotent<OrderCreatedEvent>({ key: (order) => `order:${order?.orderId}` })
  async onOrderCreated(payload: unknown, ctx: RocketMQContext): Promise<void> {
    const order = checkOrderCreated(payload);
    const attempt = ctx.getDeliveryAttempt();
    const outcome = await this.gateway.charge(order, attempt);
    const now = new Date();
    await this.idem.manager.insert(PaymentEntity, {
      id: randomUUID(),
      orderId: order.orderId,
      userId: order.userId,
      amount: order.amount,
      status: outcome.status,
      reason: outcome.reason,
      attempts: attempt,
      createdAt: now,
    });
    await this.publisher.publish({
      orderId: order.orderId,
      userId: order.userId,
      status: outcome.status,
      amount: order.amount,
      ...(outcome.reason === null ? {} : { reason: outcome.reason }),
      at: now.getTime(),
    });
  }
}

/**
 * Fan-out: the notification service reads `order-created` and `payment-result` in groups of its
 * own, so every message reaches it *and* the payment/order services — added without touching the
 * producer. Each notification is recorded once per message (`@Idempotent`: the key and the row
 * commit together).
 */
import { Inject, Injectable } from '@nestjs/common';
import { IdempotencyContext, Idempotent } from '@rocketnest/idempotency';
import {
  RESOLVED_ROCKETMQ_OPTIONS,
  RocketListener,
  type ResolvedRocketMQOptions,
  type RocketMQContext,
} from '@rocketnest/rocketmq';
import { randomUUID } from 'node:crypto';
import { type OrderCreatedEvent, type PaymentResultEvent } from '../../../shared/src/events.js';
import {
  NOTIFICATION_ORDER_GROUP,
  NOTIFICATION_PAYMENT_GROUP,
  ORDER_CREATED_TOPIC,
  PAYMENT_RESULT_TOPIC,
} from '../../../shared/src/topics.js';
import { NotificationEntity, type NotificationKind } from '../entities/notification.entity.js';
import { NotificationSettings } from './notification-settings.js';

@Injectable()
export class NotificationListeners {
  constructor(
    @Inject(IdempotencyContext) private readonly idem: IdempotencyContext,
    @Inject(NotificationSettings) private readonly settings: NotificationSettings,
    @Inject(RESOLVED_ROCKETMQ_OPTIONS) private readonly rocketmq: ResolvedRocketMQOptions,
  ) {}

  @RocketListener({ topic: ORDER_CREATED_TOPIC, group: NOTIFICATION_ORDER_GROUP })
  @Idempotent<OrderCreatedEvent>({ key: (order) => `order-created:${order?.orderId}` })
  async onOrderCreated(order: OrderCreatedEvent, ctx: RocketMQContext): Promise<void> {
    await this.#record(
      'ORDER_CONFIRMATION',
      order,
      ctx,
      `${this.settings.get('greeting')} ${order.userId}, we received your order ${order.orderId} (${order.amount.toFixed(2)}).`,
    );
  }

  @RocketListener({ topic: PAYMENT_RESULT_TOPIC, group: NOTIFICATION_PAYMENT_GROUP })
  @Idempotent<PaymentResultEvent>({ key: (result) => `payment-result:${result?.orderId}` })
  async onPaymentResult(result: PaymentResultEvent, ctx: RocketMQContext): Promise<void> {
    const paid = result.status === 'PAID';
    await this.#record(
      paid ? 'PAYMENT_RECEIPT' : 'PAYMENT_FAILED',
      result,
      ctx,
      paid
        ? `${this.settings.get('greeting')} ${result.userId}, payment of ${result.amount.toFixed(2)} received for order ${result.orderId}.`
        : `${this.settings.get('greeting')} ${result.userId}, the payment for order ${result.orderId} failed (${result.reason ?? 'unknown'}).`,
    );
  }

  async #record(
    kind: NotificationKind,
    about: { orderId?: unknown; userId?: unknown },
    ctx: RocketMQContext,
    text: string,
  ): Promise<void> {
    await this.idem.manager.insert(NotificationEntity, {
      id: randomUUID(),
      kind,
      orderId: typeof about?.orderId === 'string' ? about.orderId : null,
      userId: typeof about?.userId === 'string' ? about.userId : null,
      instance: this.rocketmq.instanceName,
      messageId: ctx.getMessageId(),
      text,
      createdAt: new Date(),
    });
  }
}

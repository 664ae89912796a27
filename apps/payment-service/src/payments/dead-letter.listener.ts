/**
 * The payment group's dead letters (`%DLQ%payment`), consumed by a group of their own: each is
 * recorded (`payment_dead_letters`, what an operator would inspect and replay) and its order is
 * answered FAILED (`DEAD_LETTERED`), so that it reaches a final state instead of waiting for its
 * timeout. Nothing is charged: a dead-lettered message never committed a payment.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { IdempotencyContext, Idempotent } from '@rocketnest/idempotency';
import { RocketListener, type RocketMQContext } from '@rocketnest/rocketmq';
import { PAYMENT_DLQ_GROUP, PAYMENT_DLQ_TOPIC } from '../../../shared/src/topics.js';
import { DeadLetterEntity } from '../entities/dead-letter.entity.js';
import { PaymentEntity } from '../entities/payment.entity.js';
import { checkOrderCreated } from './order-event.js';
import { PaymentResultPublisher } from './payment-result.publisher.js';

/** Longest body kept per dead letter (the DLQ itself keeps the whole message). */
export const MAX_DEAD_LETTER_BODY_CHARS = 4_000;

@Injectable()
export class DeadLetterListener {
  readonly #logger = new Logger('DeadLetters');

  constructor(
    @Inject(IdempotencyContext) private readonly idem: IdempotencyContext,
    @Inject(PaymentResultPublisher) private readonly publisher: PaymentResultPublisher,
  ) {}

  @RocketListener({ topic: PAYMENT_DLQ_TOPIC, group: PAYMENT_DLQ_GROUP })
  @Idempotent()
  async onDeadLetter(payload: unknown, ctx: RocketMQContext): Promise<void> {
    const manager = this.idem.manager;
    let order: ReturnType<typeof checkOrderCreated> | undefined;
    try {
      order = checkOrderCreated(payload);
    } catch {
      order = undefined; // recorded as it is; no order to answer
    }
    await manager.insert(DeadLetterEntity, {
      messageId: ctx.getMessageId(),
      orderId: order?.orderId ?? null,
      body: JSON.stringify(payload ?? null).slice(0, MAX_DEAD_LETTER_BODY_CHARS),
      recordedAt: new Date(),
    });
    this.#logger.warn(
      `dead letter ${ctx.getMessageId()} recorded${order ? ` (order ${order.orderId})` : ''}`,
    );
    if (order === undefined) return;
    if (await manager.existsBy(PaymentEntity, { orderId: order.orderId })) return; // charged by another copy
    await this.publisher.publish({
      orderId: order.orderId,
      userId: order.userId,
      status: 'FAILED',
      amount: order.amount,
      reason: 'DEAD_LETTERED',
      at: Date.now(),
    });
  }
}

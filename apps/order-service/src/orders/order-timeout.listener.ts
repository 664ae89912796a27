/**
 * The delayed `order-timeout` message: cancels the order if it is still PENDING. Idempotent by
 * its conditional UPDATE (a second copy finds it CANCELLED, PAID or FAILED and changes nothing),
 * so no idempotency key is needed — and none is wanted: an order not in the database yet (its
 * check-back still pending) asks for the message again later, which a done key would swallow.
 */
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { Reconsume, RocketListener, type RetryAfter, type RocketMQContext } from '@rocketnest/rocketmq';
import { type DataSource } from 'typeorm';
import { type OrderTimeoutEvent } from '../../../shared/src/events.js';
import { ORDER_TIMEOUT_GROUP, ORDER_TIMEOUT_TOPIC } from '../../../shared/src/topics.js';
import { ORDER_SERVICE_CONFIG, type OrderServiceConfig } from '../config.js';
import { OrderTransitions } from './order-transitions.js';

/** How long to wait before asking again about an order whose creation may still commit. */
export const ABSENT_ORDER_RECHECK_MS = 5_000;

@Injectable()
export class OrderTimeoutListener {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(OrderTransitions) private readonly transitions: OrderTransitions,
    @Inject(ORDER_SERVICE_CONFIG) private readonly config: OrderServiceConfig,
  ) {}

  @RocketListener({ topic: ORDER_TIMEOUT_TOPIC, group: ORDER_TIMEOUT_GROUP })
  async onTimeout(event: OrderTimeoutEvent, ctx: RocketMQContext): Promise<RetryAfter | void> {
    if (typeof event?.orderId !== 'string') return; // nothing to cancel: acknowledged
    const outcome = await this.dataSource.transaction((manager) =>
      this.transitions.cancelIfUnpaid(manager, event.orderId, ctx.getMessageId()),
    );
    if (outcome.kind !== 'absent') return;
    // Absent: rolled back for good (acknowledge), or its creation may still be committed by the
    // check-back (look again later).
    const createdAt = typeof event.createdAt === 'number' ? event.createdAt : ctx.getBornTimestamp();
    if (Date.now() - createdAt < this.config.orderTimeoutMs + this.config.txRollbackAfterMs) {
      return Reconsume.after(ABSENT_ORDER_RECHECK_MS);
    }
  }
}

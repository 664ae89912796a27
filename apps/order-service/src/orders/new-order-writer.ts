/**
 * The local transaction of `POST /orders`: in ONE database transaction, the order (PENDING), its
 * first history row and the transaction-log row the check-back reads; and, before the commit, the
 * delayed `order-timeout` message (a stray one, should the commit fail, finds no order and is
 * dropped; sent after the commit, a crash in between would leave an order that never times out).
 */
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { RocketTemplate, type SendReceipt } from '@rocketnest/rocketmq';
import { type DataSource } from 'typeorm';
import { type OrderCreatedEvent, type OrderTimeoutEvent } from '../../../shared/src/events.js';
import { ORDER_TIMEOUT_TOPIC } from '../../../shared/src/topics.js';
import { ORDER_SERVICE_CONFIG, type OrderServiceConfig } from '../config.js';
import { OrderEntity } from '../entities/order.entity.js';
import { OrderStatusHistoryEntity } from '../entities/order-status-history.entity.js';
import { OrderTransactionLogEntity } from '../entities/order-transaction-log.entity.js';
import { OrderOutcomeUnknownError } from './order-errors.js';

@Injectable()
export class NewOrderWriter {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(RocketTemplate) private readonly rocket: RocketTemplate,
    @Inject(ORDER_SERVICE_CONFIG) private readonly config: OrderServiceConfig,
  ) {}

  /**
   * Stores the order. Rejects with the cause when the transaction rolled back (nothing stored),
   * with OrderOutcomeUnknownError when COMMIT itself failed (maybe stored).
   */
  async write(event: OrderCreatedEvent, receipt: SendReceipt): Promise<void> {
    const runner = this.dataSource.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction();
      try {
        const createdAt = new Date(event.createdAt);
        const manager = runner.manager;
        await manager.insert(OrderEntity, {
          id: event.orderId,
          userId: event.userId,
          items: [...event.items],
          amount: event.amount,
          status: 'PENDING',
          refundRequired: false,
          version: 1,
          createdAt,
          updatedAt: createdAt,
        });
        await manager.insert(OrderStatusHistoryEntity, {
          orderId: event.orderId,
          seq: 1,
          fromStatus: null,
          toStatus: 'PENDING',
          event: 'ORDER_CREATED',
          messageId: null,
          at: createdAt,
        });
        await manager.insert(OrderTransactionLogEntity, {
          orderId: event.orderId,
          transactionId: receipt.transactionId ?? receipt.messageId,
          messageId: receipt.messageId,
          createdAt: new Date(),
        });
        const timeout: OrderTimeoutEvent = { orderId: event.orderId, createdAt: event.createdAt };
        await this.rocket.sendDelayed(ORDER_TIMEOUT_TOPIC, timeout, this.config.orderTimeoutMs, {
          keys: [event.orderId],
        });
      } catch (err) {
        // The error says what went wrong; a failing ROLLBACK (connection gone) rolls back anyway.
        await runner.rollbackTransaction().catch(() => undefined);
        throw err;
      }
      try {
        await runner.commitTransaction();
      } catch (err) {
        throw new OrderOutcomeUnknownError(event.orderId, { cause: err });
      }
    } finally {
      await runner.release();
    }
  }
}

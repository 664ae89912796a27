/**
 * The check-back of `order-created` half messages whose outcome the broker never learned (the
 * service died between the half message and its COMMIT, or the database COMMIT's outcome was
 * unknown). The answer comes from the database, never from memory:
 * - the transaction-log row exists → the local transaction committed → COMMIT;
 * - absent, and the order is older than ORDER_TX_ROLLBACK_AFTER_MS → it never will be → ROLLBACK;
 * - absent but recent → the local transaction may still be running → UNKNOWN (asked again later).
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import {
  TransactionChecker,
  type TransactionCheckMessage,
  type TransactionResolution,
} from '@rocketnest/rocketmq';
import { type DataSource } from 'typeorm';
import { type OrderCreatedEvent } from '../../../shared/src/events.js';
import { ORDER_CREATED_TOPIC } from '../../../shared/src/topics.js';
import { ORDER_SERVICE_CONFIG, type OrderServiceConfig } from '../config.js';
import { OrderTransactionLogEntity } from '../entities/order-transaction-log.entity.js';

@Injectable()
export class OrderTransactionChecker {
  readonly #logger = new Logger('OrderTransactionChecker');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(ORDER_SERVICE_CONFIG) private readonly config: OrderServiceConfig,
  ) {}

  @TransactionChecker({ topic: ORDER_CREATED_TOPIC })
  async check(event: OrderCreatedEvent, message: TransactionCheckMessage): Promise<TransactionResolution> {
    const orderId = typeof event?.orderId === 'string' ? event.orderId : message.keys[0];
    if (orderId === undefined || !/^[0-9a-f-]{36}$/i.test(orderId)) {
      this.#logger.warn(`check-back of ${message.transactionId}: no order id in the half message; ROLLBACK`);
      return 'ROLLBACK';
    }
    const committed = await this.dataSource.manager.existsBy(OrderTransactionLogEntity, { orderId });
    if (committed) {
      this.#logger.log(`check-back of order ${orderId}: its transaction log exists; COMMIT`);
      return 'COMMIT';
    }
    const createdAt =
      typeof event?.createdAt === 'number' ? event.createdAt : (message.bornTimestamp ?? Date.now());
    const age = Date.now() - createdAt;
    if (age > this.config.txRollbackAfterMs) {
      this.#logger.log(`check-back of order ${orderId}: absent after ${age} ms; ROLLBACK`);
      return 'ROLLBACK';
    }
    return 'UNKNOWN';
  }
}

/**
 * Orders: created through a transactional message, read with their history.
 *
 * Creation (RocketMQ's transactional message, RELIABILITY.md §2):
 * 1. half message `order-created` (keys = order id): stored by the broker, invisible to consumers;
 * 2. the local transaction (NewOrderWriter) stores the order, its history and the transaction log;
 * 3. COMMIT makes the message visible (payment and notification consume it); a failed local
 *    transaction answers ROLLBACK (the message is dropped: nothing is ever charged); a COMMIT whose
 *    outcome is unknown, or a crash before step 3, leaves it to the check-back (OrderTransactionChecker).
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { RocketTemplate } from '@rocketnest/rocketmq';
import { randomUUID } from 'node:crypto';
import { type DataSource } from 'typeorm';
import { type OrderCreatedEvent } from '../../../shared/src/events.js';
import { ORDER_CREATED_TOPIC } from '../../../shared/src/topics.js';
import { ORDER_SERVICE_CONFIG, type OrderServiceConfig } from '../config.js';
import { OrderEntity } from '../entities/order.entity.js';
import { OrderStatusHistoryEntity } from '../entities/order-status-history.entity.js';
import { type CreateOrderDto } from './create-order.dto.js';
import { OrderNotCreatedError, OrderOutcomeUnknownError } from './order-errors.js';
import { type OrderStatus } from './order-status.js';
import { NewOrderWriter } from './new-order-writer.js';

/** Most orders `GET /orders` returns. */
export const MAX_LIST_LIMIT = 500;
export const DEFAULT_LIST_LIMIT = 50;

export interface OrderView {
  readonly id: string;
  readonly userId: string;
  readonly items: OrderEntity['items'];
  readonly amount: number;
  readonly status: OrderStatus;
  readonly refundRequired: boolean;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface OrderHistoryView {
  readonly seq: number;
  readonly from: OrderStatus | null;
  readonly to: OrderStatus;
  readonly event: string;
  readonly messageId: string | null;
  readonly at: string;
}

export interface OrderFilter {
  readonly status?: OrderStatus | undefined;
  readonly userId?: string | undefined;
  readonly limit: number;
}

function viewOf(order: OrderEntity): OrderView {
  return {
    id: order.id,
    userId: order.userId,
    items: order.items,
    amount: order.amount,
    status: order.status,
    refundRequired: order.refundRequired,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}

@Injectable()
export class OrdersService {
  readonly #logger = new Logger('Orders');

  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(RocketTemplate) private readonly rocket: RocketTemplate,
    @Inject(NewOrderWriter) private readonly writer: NewOrderWriter,
    @Inject(ORDER_SERVICE_CONFIG) private readonly config: OrderServiceConfig,
  ) {}

  /**
   * Creates the order (PENDING) and publishes `order-created` atomically with it.
   * @throws OrderNotCreatedError when the order was not stored (the message is rolled back)
   * @throws OrderOutcomeUnknownError when the database commit's outcome is unknown
   * @throws the client's error when the broker cannot take the half message
   */
  async create(dto: CreateOrderDto): Promise<OrderView> {
    const event: OrderCreatedEvent = {
      orderId: randomUUID(),
      userId: dto.userId,
      items: dto.items.map((i) => ({ sku: i.sku, qty: i.qty, price: i.price })),
      amount: dto.amount,
      createdAt: Date.now(),
    };
    let failure: unknown;
    await this.rocket.sendInTransaction(
      ORDER_CREATED_TOPIC,
      event,
      async (receipt) => {
        try {
          await this.writer.write(event, receipt);
          return 'COMMIT';
        } catch (err) {
          if (err instanceof OrderOutcomeUnknownError) throw err; // UNKNOWN: the check-back decides
          failure = err;
          return 'ROLLBACK';
        }
      },
      { keys: [event.orderId] },
    );
    if (failure !== undefined) throw new OrderNotCreatedError(event.orderId, { cause: failure });
    if (this.config.duplicateRate > 0 && Math.random() < this.config.duplicateRate) {
      this.#publishDuplicate(event);
    }
    return {
      id: event.orderId,
      userId: event.userId,
      items: [...event.items],
      amount: event.amount,
      status: 'PENDING',
      refundRequired: false,
      createdAt: new Date(event.createdAt).toISOString(),
      updatedAt: new Date(event.createdAt).toISOString(),
    };
  }

  /**
   * Chaos (ORDER_DUPLICATE_RATE): the same order-created published again, as a producer retrying
   * after a lost acknowledgement would — the consumers must charge and notify once. A committed
   * transactional message, so that it also fits a TRANSACTION-typed topic on Apache RocketMQ.
   */
  #publishDuplicate(event: OrderCreatedEvent): void {
    this.rocket
      .sendInTransaction(ORDER_CREATED_TOPIC, event, () => 'COMMIT', { keys: [event.orderId] })
      .catch((err: unknown) =>
        this.#logger.warn(`duplicate of order ${event.orderId} not sent: ${String(err)}`),
      );
  }

  async find(id: string): Promise<{ order: OrderView; history: OrderHistoryView[] } | undefined> {
    const order = await this.dataSource.manager.findOneBy(OrderEntity, { id });
    if (order === null) return undefined;
    const history = await this.dataSource.manager.find(OrderStatusHistoryEntity, {
      where: { orderId: id },
      order: { seq: 'ASC' },
    });
    return {
      order: viewOf(order),
      history: history.map((h) => ({
        seq: h.seq,
        from: h.fromStatus,
        to: h.toStatus,
        event: h.event,
        messageId: h.messageId,
        at: h.at.toISOString(),
      })),
    };
  }

  async list(filter: OrderFilter): Promise<OrderView[]> {
    const orders = await this.dataSource.manager.find(OrderEntity, {
      where: {
        ...(filter.status === undefined ? {} : { status: filter.status }),
        ...(filter.userId === undefined ? {} : { userId: filter.userId }),
      },
      order: { createdAt: 'DESC' },
      take: filter.limit,
    });
    return orders.map(viewOf);
  }
}

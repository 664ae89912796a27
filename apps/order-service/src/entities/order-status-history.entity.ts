import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { type OrderEvent, type OrderStatus } from '../orders/order-status.js';

/** One row per change of an order, numbered by the order's version (unique per order). */
@Entity({ name: 'order_status_history' })
@Index('order_status_history_order_seq_key', ['orderId', 'seq'], { unique: true })
export class OrderStatusHistoryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint' })
  id!: string;

  @Column({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  @Column({ type: 'int' })
  seq!: number;

  @Column({ name: 'from_status', type: 'text', nullable: true })
  fromStatus!: OrderStatus | null;

  @Column({ name: 'to_status', type: 'text' })
  toStatus!: OrderStatus;

  @Column({ type: 'text' })
  event!: OrderEvent;

  /** The message that caused it (none for the creation, which the HTTP request caused). */
  @Column({ name: 'message_id', type: 'text', nullable: true })
  messageId!: string | null;

  @Column({ type: 'timestamptz' })
  at!: Date;
}

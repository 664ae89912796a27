import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { type OrderItem } from '../../../shared/src/events.js';
import { type OrderStatus } from '../orders/order-status.js';
import { decimalTransformer } from '../../../shared/src/database/decimal-transformer.js';

@Entity({ name: 'orders' })
@Index('orders_status_idx', ['status'])
@Index('orders_user_idx', ['userId'])
export class OrderEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'user_id', type: 'text' })
  userId!: string;

  @Column({ type: 'jsonb' })
  items!: OrderItem[];

  @Column({ type: 'numeric', precision: 12, scale: 2, transformer: decimalTransformer })
  amount!: number;

  @Column({ type: 'text' })
  status!: OrderStatus;

  /** A payment arrived for an order already cancelled: someone must refund it. */
  @Column({ name: 'refund_required', type: 'boolean', default: false })
  refundRequired!: boolean;

  /** Bumped by every change; the history row of a change carries it as its `seq`. */
  @Column({ type: 'int' })
  version!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt!: Date;
}

import { Column, Entity, PrimaryColumn } from 'typeorm';
import { type PaymentStatus } from '../../../shared/src/events.js';
import { decimalTransformer } from '../../../shared/src/database/decimal-transformer.js';

/** One row per order (unique order id): the charge, or its decline. */
@Entity({ name: 'payments' })
export class PaymentEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ name: 'order_id', type: 'uuid', unique: true })
  orderId!: string;

  @Column({ name: 'user_id', type: 'text' })
  userId!: string;

  @Column({ type: 'numeric', precision: 12, scale: 2, transformer: decimalTransformer })
  amount!: number;

  @Column({ type: 'text' })
  status!: PaymentStatus;

  @Column({ type: 'text', nullable: true })
  reason!: string | null;

  /** The delivery attempt that succeeded (1 = first try; more = retries after transient failures). */
  @Column({ type: 'int' })
  attempts!: number;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

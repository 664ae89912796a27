import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Written in the same database transaction as the order: its presence is the durable proof that
 * the local transaction committed, which is what the check-back of the half message asks
 * (RELIABILITY.md §2: never an in-memory map, lost on restart).
 */
@Entity({ name: 'order_transaction_log' })
export class OrderTransactionLogEntity {
  @PrimaryColumn({ name: 'order_id', type: 'uuid' })
  orderId!: string;

  @Column({ name: 'transaction_id', type: 'text' })
  transactionId!: string;

  @Column({ name: 'message_id', type: 'text' })
  messageId!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

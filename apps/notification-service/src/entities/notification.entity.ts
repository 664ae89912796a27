import { Column, Entity, Index, PrimaryColumn } from 'typeorm';

export type NotificationKind = 'ORDER_CONFIRMATION' | 'PAYMENT_RECEIPT' | 'PAYMENT_FAILED' | 'CONFIG_APPLIED';

/** A notification "sent" (recorded): to a user about an order, or a config change an instance applied. */
@Entity({ name: 'notifications' })
@Index('notifications_order_idx', ['orderId'])
export class NotificationEntity {
  @PrimaryColumn({ type: 'uuid' })
  id!: string;

  @Column({ type: 'text' })
  kind!: NotificationKind;

  @Column({ name: 'order_id', type: 'text', nullable: true })
  orderId!: string | null;

  @Column({ name: 'user_id', type: 'text', nullable: true })
  userId!: string | null;

  /** The instance that recorded it (broadcast messages: one row per instance). */
  @Column({ type: 'text' })
  instance!: string;

  @Column({ name: 'message_id', type: 'text' })
  messageId!: string;

  @Column({ type: 'text' })
  text!: string;

  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt!: Date;
}

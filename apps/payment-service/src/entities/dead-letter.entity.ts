import { Column, Entity, PrimaryColumn } from 'typeorm';

/** A message of order-created the payment group gave up on (seen in `%DLQ%payment`). */
@Entity({ name: 'payment_dead_letters' })
export class DeadLetterEntity {
  @PrimaryColumn({ name: 'message_id', type: 'text' })
  messageId!: string;

  @Column({ name: 'order_id', type: 'text', nullable: true })
  orderId!: string | null;

  @Column({ type: 'text' })
  body!: string;

  @Column({ name: 'recorded_at', type: 'timestamptz' })
  recordedAt!: Date;
}

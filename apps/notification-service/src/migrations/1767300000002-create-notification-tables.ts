import { type MigrationInterface, type QueryRunner } from 'typeorm';

export class CreateNotificationTables1767300000002 implements MigrationInterface {
  readonly name = 'CreateNotificationTables1767300000002';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE notifications (
  id uuid PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('ORDER_CONFIRMATION', 'PAYMENT_RECEIPT', 'PAYMENT_FAILED', 'CONFIG_APPLIED')),
  order_id text,
  user_id text,
  instance text NOT NULL,
  message_id text NOT NULL,
  text text NOT NULL,
  created_at timestamptz NOT NULL
)`);
    await queryRunner.query(`CREATE INDEX notifications_order_idx ON notifications (order_id)`);
    // A broadcast message is applied once per instance, whatever its redeliveries.
    await queryRunner.query(
      `CREATE UNIQUE INDEX notifications_broadcast_key ON notifications (message_id, instance) WHERE kind = 'CONFIG_APPLIED'`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE notifications`);
  }
}

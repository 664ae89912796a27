import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** payments (one per order: the unique key is what makes a second charge impossible) and dead letters. */
export class CreatePaymentTables1767300000001 implements MigrationInterface {
  readonly name = 'CreatePaymentTables1767300000001';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE payments (
  id uuid PRIMARY KEY,
  order_id uuid NOT NULL,
  user_id text NOT NULL,
  amount numeric(12,2) NOT NULL,
  status text NOT NULL CHECK (status IN ('PAID', 'FAILED')),
  reason text,
  attempts int NOT NULL CHECK (attempts >= 1),
  created_at timestamptz NOT NULL,
  CONSTRAINT payments_order_id_key UNIQUE (order_id)
)`);
    await queryRunner.query(`CREATE INDEX payments_created_at_idx ON payments (created_at)`);
    await queryRunner.query(`CREATE TABLE payment_dead_letters (
  message_id text PRIMARY KEY,
  order_id text,
  body text NOT NULL,
  recorded_at timestamptz NOT NULL
)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE payment_dead_letters`);
    await queryRunner.query(`DROP TABLE payments`);
  }
}

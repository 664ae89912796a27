import { type MigrationInterface, type QueryRunner } from 'typeorm';

/** orders, their status history and the transaction log of the order-created half messages. */
export class CreateOrderTables1767300000000 implements MigrationInterface {
  readonly name = 'CreateOrderTables1767300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE TABLE orders (
  id uuid PRIMARY KEY,
  user_id text NOT NULL,
  items jsonb NOT NULL,
  amount numeric(12,2) NOT NULL CHECK (amount > 0),
  status text NOT NULL CHECK (status IN ('PENDING', 'PAID', 'FAILED', 'CANCELLED')),
  refund_required boolean NOT NULL DEFAULT false,
  version int NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL
)`);
    await queryRunner.query(`CREATE INDEX orders_status_idx ON orders (status)`);
    await queryRunner.query(`CREATE INDEX orders_user_idx ON orders (user_id)`);
    await queryRunner.query(`CREATE INDEX orders_created_at_idx ON orders (created_at)`);
    await queryRunner.query(`CREATE TABLE order_status_history (
  id bigserial PRIMARY KEY,
  order_id uuid NOT NULL REFERENCES orders (id),
  seq int NOT NULL,
  from_status text,
  to_status text NOT NULL,
  event text NOT NULL,
  message_id text,
  at timestamptz NOT NULL
)`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX order_status_history_order_seq_key ON order_status_history (order_id, seq)`,
    );
    await queryRunner.query(`CREATE TABLE order_transaction_log (
  order_id uuid PRIMARY KEY,
  transaction_id text NOT NULL,
  message_id text NOT NULL,
  created_at timestamptz NOT NULL
)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE order_transaction_log`);
    await queryRunner.query(`DROP TABLE order_status_history`);
    await queryRunner.query(`DROP TABLE orders`);
  }
}

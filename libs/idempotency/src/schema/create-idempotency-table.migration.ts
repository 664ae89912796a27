/**
 * The TypeORM migration of the idempotency table, for applications that run their migrations with
 * TypeORM (`migrations: [CreateIdempotencyTable1767225600000]`). Applications without a migration
 * pipeline call `ensureIdempotencySchema(dataSource)` instead (the module does by default); both
 * run the same `IF NOT EXISTS` DDL, so they can be mixed.
 */
import { type MigrationInterface, type QueryRunner } from 'typeorm';
import { DEFAULT_TABLE } from '../constants.js';
import { parseTableName } from '../table-name.js';
import { createTableStatements, dropTableStatements } from './idempotency-ddl.js';

/** A migration class for the table `table` (`table` or `schema.table`). */
export function createIdempotencyMigration(table: string = DEFAULT_TABLE): new () => MigrationInterface {
  const name = parseTableName(table);
  // TypeORM reads the migration's timestamp from the end of its name.
  return class CreateIdempotencyTable1767225600000 implements MigrationInterface {
    readonly name = `CreateIdempotencyTable${name.name === DEFAULT_TABLE ? '' : `_${name.name.replace('.', '_')}_`}1767225600000`;

    async up(queryRunner: QueryRunner): Promise<void> {
      for (const statement of createTableStatements(name)) await queryRunner.query(statement);
    }

    async down(queryRunner: QueryRunner): Promise<void> {
      for (const statement of dropTableStatements(name)) await queryRunner.query(statement);
    }
  };
}

/** The migration of the default table `mq_idempotency`. */
export const CreateIdempotencyTable1767225600000 = createIdempotencyMigration(DEFAULT_TABLE);

/**
 * The idempotency table as a TypeORM entity, to read it with repositories (dashboards, support
 * tools). The library itself uses plain SQL (its conditional upserts have no query-builder form),
 * and creates the table with its migration or `ensureIdempotencySchema`, not with `synchronize`.
 * Maps the default table `mq_idempotency`.
 */
import { Check, Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { DEFAULT_TABLE, MAX_KEY_LENGTH } from '../constants.js';

/** `processing`: a lease-mode claim in progress; `done`: handled (both modes). */
export type IdempotencyStatus = 'processing' | 'done';

@Entity({ name: DEFAULT_TABLE })
@Check(`length(idem_key) BETWEEN 1 AND ${MAX_KEY_LENGTH}`)
@Check(`status IN ('processing', 'done')`)
export class IdempotencyRecord {
  @PrimaryColumn({ name: 'consumer_group', type: 'text' })
  consumerGroup!: string;

  @PrimaryColumn({ name: 'idem_key', type: 'text' })
  key!: string;

  @Column({ type: 'text' })
  status!: IdempotencyStatus;

  /** SHA-256 of the payload the key was first handled with. */
  @Column({ name: 'payload_hash', type: 'bytea', nullable: true })
  payloadHash!: Buffer | null;

  @Column({ name: 'lease_owner', type: 'uuid', nullable: true })
  leaseOwner!: string | null;

  @Column({ name: 'lease_until', type: 'timestamptz', nullable: true })
  leaseUntil!: Date | null;

  /** Claims of this key: 1, plus one per lease takeover or `'process'` re-claim. */
  @Column({ type: 'int', default: 1 })
  attempts!: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'done_at', type: 'timestamptz', nullable: true })
  doneAt!: Date | null;

  @Index()
  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;
}

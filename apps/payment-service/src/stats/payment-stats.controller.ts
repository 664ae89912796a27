/**
 * `GET /stats[?since=ms]`: payments by outcome, retries (from the attempt that succeeded, durable,
 * plus transient failures seen since start), dead letters, duplicates suppressed, and the payment
 * group's backlog on order-created (with BROKER_ADMIN_URL).
 */
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IdempotencyMetrics } from '@rocketnest/idempotency';
import { type DataSource } from 'typeorm';
import { BrokerAdminProbe } from '../../../shared/src/broker-admin-probe.js';
import { parseSince } from '../../../shared/src/since.js';
import { ORDER_CREATED_TOPIC, PAYMENT_GROUP } from '../../../shared/src/topics.js';
import { PaymentGateway, type GatewayCounters } from '../payments/payment-gateway.js';
import { PaymentResultPublisher } from '../payments/payment-result.publisher.js';

export interface PaymentStats {
  readonly since: string;
  readonly payments: { readonly paid: number; readonly failed: number };
  /** Redeliveries before a payment was decided (Σ attempts − 1 of the payments rows). */
  readonly retries: number;
  readonly deadLetters: number;
  /** order-created deliveries skipped as duplicates (since this instance started). */
  readonly duplicatesSuppressed: number;
  readonly gateway: Readonly<GatewayCounters>;
  readonly duplicatesSent: number;
  /** Messages of order-created not yet consumed by the payment group; null without a broker admin API. */
  readonly lag: number | null;
}

@Controller('stats')
export class PaymentStatsController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(IdempotencyMetrics) private readonly idempotency: IdempotencyMetrics,
    @Inject(BrokerAdminProbe) private readonly broker: BrokerAdminProbe,
    @Inject(PaymentGateway) private readonly gateway: PaymentGateway,
    @Inject(PaymentResultPublisher) private readonly publisher: PaymentResultPublisher,
  ) {}

  @Get()
  async stats(@Query('since') sinceText?: string): Promise<PaymentStats> {
    const since = parseSince(sinceText);
    const [payments] = (await this.dataSource.query(
      `SELECT count(*) FILTER (WHERE status = 'PAID')::int AS paid,
              count(*) FILTER (WHERE status = 'FAILED')::int AS failed,
              coalesce(sum(attempts - 1), 0)::int AS retries
       FROM payments WHERE created_at >= $1`,
      [since],
    )) as Array<{ paid: number; failed: number; retries: number }>;
    const [dead] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM payment_dead_letters WHERE recorded_at >= $1`,
      [since],
    )) as Array<{ n: number }>;
    return {
      since: since.toISOString(),
      payments: { paid: payments?.paid ?? 0, failed: payments?.failed ?? 0 },
      retries: payments?.retries ?? 0,
      deadLetters: dead?.n ?? 0,
      duplicatesSuppressed: this.idempotency.snapshot().outcomes.duplicate,
      gateway: { ...this.gateway.counters },
      duplicatesSent: this.publisher.duplicatesSent,
      lag: await this.broker.lag(PAYMENT_GROUP, ORDER_CREATED_TOPIC),
    };
  }
}

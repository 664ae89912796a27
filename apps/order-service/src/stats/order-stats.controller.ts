/**
 * `GET /stats[?since=ms]`: what the load demo prints — orders by status, refunds required,
 * order → PAID latency (p50/p99, from the history), duplicates the idempotency layer suppressed,
 * and the backlog: orders still waiting for their payment, and (with BROKER_ADMIN_URL) the broker's
 * lag of the payment group on order-created — the queue absorbing a burst (peak shaving).
 */
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IdempotencyMetrics } from '@rocketnest/idempotency';
import { type DataSource } from 'typeorm';
import { BrokerAdminProbe } from '../../../shared/src/broker-admin-probe.js';
import { parseSince } from '../../../shared/src/since.js';
import { ORDER_CREATED_TOPIC, PAYMENT_GROUP } from '../../../shared/src/topics.js';
import { ORDER_STATUSES, type OrderStatus } from '../orders/order-status.js';

export interface OrderStats {
  readonly since: string;
  readonly orders: number;
  readonly byStatus: Readonly<Record<OrderStatus, number>>;
  readonly refundRequired: number;
  /** Created → PAID, ms; null without paid orders. */
  readonly paidLatencyMs: {
    readonly count: number;
    readonly p50: number | null;
    readonly p99: number | null;
  };
  /** Payment outcomes this instance skipped as duplicates (since it started). */
  readonly duplicatesSuppressed: number;
  readonly backlog: {
    /** Orders (all time) still PENDING: waiting for payment. */
    readonly pendingOrders: number;
    /** Messages of order-created the payment group has not consumed; null without a broker admin API. */
    readonly paymentLag: number | null;
  };
}

@Controller('stats')
export class OrderStatsController {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    @Inject(IdempotencyMetrics) private readonly idempotency: IdempotencyMetrics,
    @Inject(BrokerAdminProbe) private readonly broker: BrokerAdminProbe,
  ) {}

  @Get()
  async stats(@Query('since') sinceText?: string): Promise<OrderStats> {
    const since = parseSince(sinceText);
    const byStatusRows = (await this.dataSource.query(
      `SELECT status, count(*)::int AS n, count(*) FILTER (WHERE refund_required)::int AS refunds
       FROM orders WHERE created_at >= $1 GROUP BY status`,
      [since],
    )) as Array<{ status: OrderStatus; n: number; refunds: number }>;
    const byStatus = Object.fromEntries(ORDER_STATUSES.map((s) => [s, 0])) as Record<OrderStatus, number>;
    let refundRequired = 0;
    for (const row of byStatusRows) {
      byStatus[row.status] = row.n;
      refundRequired += row.refunds;
    }
    const [latency] = (await this.dataSource.query(
      `SELECT count(*)::int AS count,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
              percentile_cont(0.99) WITHIN GROUP (ORDER BY ms) AS p99
       FROM (SELECT extract(epoch FROM h.at - o.created_at) * 1000 AS ms
             FROM orders o JOIN order_status_history h ON h.order_id = o.id AND h.event = 'PAYMENT_SUCCEEDED'
             WHERE o.created_at >= $1) paid`,
      [since],
    )) as Array<{ count: number; p50: number | string | null; p99: number | string | null }>;
    const [pending] = (await this.dataSource.query(
      `SELECT count(*)::int AS n FROM orders WHERE status = 'PENDING'`,
    )) as Array<{ n: number }>;
    return {
      since: since.toISOString(),
      orders: byStatusRows.reduce((sum, r) => sum + r.n, 0),
      byStatus,
      refundRequired,
      paidLatencyMs: {
        count: latency?.count ?? 0,
        p50: roundedOrNull(latency?.p50),
        p99: roundedOrNull(latency?.p99),
      },
      duplicatesSuppressed: this.idempotency.snapshot().outcomes.duplicate,
      backlog: {
        pendingOrders: pending?.n ?? 0,
        paymentLag: await this.broker.lag(PAYMENT_GROUP, ORDER_CREATED_TOPIC),
      },
    };
  }
}

function roundedOrNull(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return Math.round(Number(value));
}

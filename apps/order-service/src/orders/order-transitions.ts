/**
 * Status changes of an order after its creation, each a conditional UPDATE (the database decides
 * which change wins, so duplicates and races are harmless) plus a history row numbered by the
 * order's new version — so the history of an order is always in the order its changes committed.
 *
 * | current    | payment PAID        | payment FAILED | timeout   |
 * |------------|---------------------|----------------|-----------|
 * | PENDING    | PAID                | FAILED         | CANCELLED |
 * | CANCELLED  | refund required (*) | —              | —         |
 * | PAID/FAILED| —                   | —              | —         |
 *
 * (*) The choice for a payment that arrives after the order was cancelled: the customer was
 * charged for an order that no longer exists. The order stays CANCELLED (the customer was told so,
 * stock may be released) and is flagged `refund_required` with a `REFUND_REQUIRED` history row,
 * which a refund process would pick up; reviving it to PAID would undo a cancellation the customer
 * already saw.
 */
import { Injectable, Logger } from '@nestjs/common';
import { type EntityManager } from 'typeorm';
import { type PaymentResultEvent } from '../../../shared/src/events.js';
import { OrderStatusHistoryEntity } from '../entities/order-status-history.entity.js';
import { type OrderEvent, type OrderStatus } from './order-status.js';

/** What a change did. */
export type TransitionOutcome =
  | { readonly kind: 'changed'; readonly from: OrderStatus; readonly to: OrderStatus; readonly seq: number }
  | { readonly kind: 'refund-required'; readonly seq: number }
  | { readonly kind: 'ignored'; readonly status: OrderStatus }
  | { readonly kind: 'absent' };

/** The order is not in this database (yet): the message is retried. */
export class OrderNotFoundError extends Error {
  constructor(readonly orderId: string) {
    super(`order ${orderId} does not exist (yet)`);
    this.name = 'OrderNotFoundError';
  }
}

interface VersionRow {
  readonly version: number;
}

@Injectable()
export class OrderTransitions {
  readonly #logger = new Logger('OrderTransitions');

  /** Applies a payment's outcome, inside the caller's transaction (`manager`). */
  async applyPayment(
    manager: EntityManager,
    result: PaymentResultEvent,
    messageId: string,
  ): Promise<TransitionOutcome> {
    const to: OrderStatus = result.status === 'PAID' ? 'PAID' : 'FAILED';
    const event: OrderEvent = result.status === 'PAID' ? 'PAYMENT_SUCCEEDED' : 'PAYMENT_FAILED';
    const changed = await this.#change(manager, result.orderId, 'PENDING', to, event, messageId);
    if (changed.kind !== 'ignored' || changed.status !== 'CANCELLED' || result.status !== 'PAID') {
      return changed;
    }
    const rows = (await manager.query(
      `UPDATE orders SET refund_required = true, version = version + 1, updated_at = now()
       WHERE id = $1 AND status = 'CANCELLED' AND NOT refund_required RETURNING version`,
      [result.orderId],
    )) as unknown;
    const version = returnedVersion(rows);
    if (version === undefined) return changed; // already flagged by an earlier copy
    await this.#history(
      manager,
      result.orderId,
      version,
      'CANCELLED',
      'CANCELLED',
      'REFUND_REQUIRED',
      messageId,
    );
    this.#logger.warn(`order ${result.orderId} was paid after its cancellation: refund required`);
    return { kind: 'refund-required', seq: version };
  }

  /** Cancels the order if it is still PENDING, inside the caller's transaction. */
  cancelIfUnpaid(manager: EntityManager, orderId: string, messageId: string): Promise<TransitionOutcome> {
    return this.#change(manager, orderId, 'PENDING', 'CANCELLED', 'PAYMENT_TIMEOUT', messageId);
  }

  async #change(
    manager: EntityManager,
    orderId: string,
    from: OrderStatus,
    to: OrderStatus,
    event: OrderEvent,
    messageId: string,
  ): Promise<TransitionOutcome> {
    const rows = (await manager.query(
      `UPDATE orders SET status = $2, version = version + 1, updated_at = now()
       WHERE id = $1 AND status = $3 RETURNING version`,
      [orderId, to, from],
    )) as unknown;
    const version = returnedVersion(rows);
    if (version !== undefined) {
      await this.#history(manager, orderId, version, from, to, event, messageId);
      return { kind: 'changed', from, to, seq: version };
    }
    const current = (await manager.query(`SELECT status FROM orders WHERE id = $1`, [orderId])) as Array<{
      status: OrderStatus;
    }>;
    return current[0] === undefined ? { kind: 'absent' } : { kind: 'ignored', status: current[0].status };
  }

  async #history(
    manager: EntityManager,
    orderId: string,
    seq: number,
    from: OrderStatus,
    to: OrderStatus,
    event: OrderEvent,
    messageId: string,
  ): Promise<void> {
    await manager.insert(OrderStatusHistoryEntity, {
      orderId,
      seq,
      fromStatus: from,
      toStatus: to,
      event,
      messageId,
      at: new Date(),
    });
  }
}

/**
 * The version an `UPDATE … RETURNING version` returned, if a row changed. The `pg` driver answers
 * an UPDATE through TypeORM as `[rows, count]`, PGlite's as the rows: both shapes are read.
 */
function returnedVersion(result: unknown): number | undefined {
  const rows: unknown =
    Array.isArray(result) && result.length === 2 && Array.isArray(result[0]) ? result[0] : result;
  if (!Array.isArray(rows) || rows.length === 0) return undefined;
  const row = rows[0] as VersionRow;
  return Number(row.version);
}

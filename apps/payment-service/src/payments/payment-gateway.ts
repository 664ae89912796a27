/**
 * The card network, simulated: what a real gateway does that matters to messaging.
 * - Transient failures (PAYMENT_FAILURE_RATE of attempts): thrown, so the message is retried with
 *   backoff — the retries the demo counts.
 * - Declines (amount above PAYMENT_DECLINE_ABOVE): a definite answer, FAILED. A function of the
 *   order alone, so a redelivery after a crash decides the same (the outcome sent downstream
 *   twice is the same outcome).
 * - A poison order (`userId` `poison`): throws on every attempt, so the message ends in
 *   `%DLQ%payment` after maxReconsumeTimes.
 * - PAYMENT_LATENCY_MS per charge: a slow dependency, so a burst builds a backlog the queue absorbs.
 */
import { Inject, Injectable } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { type OrderCreatedEvent, type PaymentStatus } from '../../../shared/src/events.js';
import { PAYMENT_SERVICE_CONFIG, type PaymentServiceConfig } from '../config.js';

/** The user id that makes an order poison. */
export const POISON_USER_ID = 'poison';

/** The gateway did not answer this time; trying again may work. */
export class TransientPaymentError extends Error {
  constructor(orderId: string, attempt: number) {
    super(`payment gateway unavailable for order ${orderId} (attempt ${attempt})`);
    this.name = 'TransientPaymentError';
  }
}

/** This order can never be charged (and is not a decline): it belongs in the DLQ. */
export class PoisonOrderError extends Error {
  constructor(orderId: string) {
    super(`order ${orderId} cannot be processed (poison)`);
    this.name = 'PoisonOrderError';
  }
}

export interface ChargeOutcome {
  readonly status: PaymentStatus;
  readonly reason: string | null;
}

/** Counters since start (the DB holds the durable ones). */
export interface GatewayCounters {
  transientFailures: number;
  poisonFailures: number;
  charges: number;
  declines: number;
}

@Injectable()
export class PaymentGateway {
  readonly counters: GatewayCounters = { transientFailures: 0, poisonFailures: 0, charges: 0, declines: 0 };

  constructor(@Inject(PAYMENT_SERVICE_CONFIG) private readonly config: PaymentServiceConfig) {}

  /**
   * @throws TransientPaymentError (retry), PoisonOrderError (always)
   */
  async charge(order: OrderCreatedEvent, attempt: number): Promise<ChargeOutcome> {
    if (this.config.latencyMs > 0) await sleep(this.config.latencyMs);
    if (order.userId === POISON_USER_ID) {
      this.counters.poisonFailures++;
      throw new PoisonOrderError(order.orderId);
    }
    if (this.config.failureRate > 0 && Math.random() < this.config.failureRate) {
      this.counters.transientFailures++;
      throw new TransientPaymentError(order.orderId, attempt);
    }
    if (order.amount > this.config.declineAbove) {
      this.counters.declines++;
      return { status: 'FAILED', reason: 'DECLINED' };
    }
    this.counters.charges++;
    return { status: 'PAID', reason: null };
  }
}

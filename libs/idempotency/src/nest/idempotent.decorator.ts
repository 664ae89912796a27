/**
 * `@Idempotent()` on a `@RocketListener` method or an `@EventPattern` handler: each message is
 * handled once per consumer group; a duplicate is skipped (and acknowledged), a failure rolls back
 * and is retried.
 *
 * ```ts
 * @RocketListener({ topic: 'orders' })
 * @Idempotent()                                        // key: `${topic}:${messageId}`
 * async created(order: Order) {
 *   await this.idem.manager.insert(OrderRow, order);   // same transaction as the key
 * }
 *
 * @RocketListener({ topic: 'payments' })
 * @Idempotent<Payment>({ key: (p) => `payment:${p.paymentId}` })   // "same payment, new message id"
 * async paid(payment: Payment, @IdempotentManager() manager: EntityManager) { … }
 *
 * @RocketListener({ topic: 'mails' })
 * @Idempotent({ mode: 'lease', lease: 30_000 })        // effects outside Postgres
 * async send(mail: Mail) { await this.smtp.send(mail); }
 * ```
 */
import { applyDecorators, SetMetadata, UseInterceptors } from '@nestjs/common';
import { type IdempotencyMode } from '../core/idempotency-scope.js';
import { type PayloadMismatchPolicy } from '../core/idempotency-store-options.js';
import { IdempotencyInterceptor } from './idempotency.interceptor.js';
import { IDEMPOTENT_METADATA } from './idempotency.tokens.js';
import { type IdempotentMessageContext } from './idempotent-message-context.js';

export interface IdempotentOptions<P = unknown> {
  /**
   * The key of a message within its consumer group (1..255 characters). Default
   * `${topic}:${messageId}`, stable across redeliveries; a business key makes two messages about
   * the same thing one ("same order, different message").
   */
  readonly key?: (payload: P, context: IdempotentMessageContext) => string;
  /** `'transaction'` (default): key and effects in one Postgres transaction. `'lease'`: effects elsewhere. */
  readonly mode?: IdempotencyMode;
  /** How long the done key is remembered, ms. Default: the module's (7 days). */
  readonly ttl?: number;
  /** Lease mode: the lease, ms (renewed while the handler runs). Default: the module's (60 s). */
  readonly lease?: number;
  /** A key seen before with another payload. Default: the module's (`'skip'`). */
  readonly onPayloadMismatch?: PayloadMismatchPolicy;
  /**
   * What the payload hash covers. Default: the raw message body when the context exposes it
   * (`getMessage().body`), else the decoded payload. `false`: no hash, no mismatch detection.
   */
  readonly payloadHash?: false | ((payload: P, context: IdempotentMessageContext) => Uint8Array | string);
}

/** Makes the handler idempotent (an interceptor underneath; see the module docs). */
export function Idempotent<P = unknown>(options: IdempotentOptions<P> = {}): MethodDecorator {
  return applyDecorators(SetMetadata(IDEMPOTENT_METADATA, options), UseInterceptors(IdempotencyInterceptor));
}

/**
 * `@TransactionChecker({ topic? })` on a provider method: answers the broker's check-back of a
 * transactional message whose outcome it never learned (the producer died between the half message
 * and its end, or the local transaction answered UNKNOWN). Return (or resolve) `'COMMIT'`,
 * `'ROLLBACK'` or `'UNKNOWN'` (asked again later).
 *
 * Several per application, routed by the half message's topic; one without `topic` answers for
 * every other topic. Two checkers for the same topic (or two defaults) fail the bootstrap.
 *
 * ```ts
 * @TransactionChecker({ topic: 'payments' })
 * async checkPayment(payment: Payment, message: TransactionCheckMessage): Promise<TransactionResolution> {
 *   return (await this.repo.exists(payment.id)) ? 'COMMIT' : 'ROLLBACK';
 * }
 * ```
 * The method receives the decoded payload and the half message.
 */
import { appendMethodMetadata, ROCKET_TRANSACTION_CHECKER_METADATA } from './metadata-keys.js';

export interface TransactionCheckerOptions {
  /** The topic answered for; absent = the default checker. */
  readonly topic?: string;
}

export function TransactionChecker(options: TransactionCheckerOptions = {}): MethodDecorator {
  return (_target, _key, descriptor) => {
    if (typeof descriptor.value !== 'function') throw new TypeError('@TransactionChecker goes on a method');
    appendMethodMetadata(ROCKET_TRANSACTION_CHECKER_METADATA, options, descriptor.value);
  };
}

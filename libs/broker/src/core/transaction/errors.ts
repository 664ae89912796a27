/**
 * Errors of the transaction service that `core/errors.ts` has no class for. (An unknown, blank,
 * finished-the-other-way or mismatched transaction id is `InvalidTransactionIdError` from there.)
 */
import { RocketError, StatusCode } from '../../status-code.js';

/**
 * The table of pending half messages is full: the producers are not resolving their transactions.
 * TOO_MANY_REQUESTS, as the proxy answers when the broker flow-controls a send.
 */
export class TooManyPendingTransactionsError extends RocketError {
  constructor(readonly limit: number) {
    super(
      StatusCode.TOO_MANY_REQUESTS,
      `too many pending transactions (${limit}): commit or roll back open transactions first`,
    );
  }
}

/** A call after `close()` began. */
export class TransactionServiceClosedError extends RocketError {
  constructor() {
    super(StatusCode.INTERNAL_SERVER_ERROR, 'the transaction service is closed');
  }
}

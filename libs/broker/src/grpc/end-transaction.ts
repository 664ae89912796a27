/**
 * EndTransaction: COMMIT makes a half message visible, ROLLBACK drops it; repeating the same
 * resolution is OK (the core is idempotent). A blank, unknown or finished-the-other-way transaction
 * id is INVALID_TRANSACTION_ID; a resolution other than COMMIT/ROLLBACK is BAD_REQUEST. The topic is
 * checked (ILLEGAL_TOPIC) and must be one the user may publish to (40300). `source` tells a client's
 * own decision (commit()/rollback()) from an answer to a check-back; UNSPECIFIED counts as CLIENT.
 */
import { BadRequestError } from '../core/errors.js';
import { type TransactionResolution as CoreResolution } from '../core/transaction/transaction-service.js';
import { validateTopicName } from '../core/validation.js';
import { type HandlerDeps } from './handler-deps.js';
import {
  TransactionResolution,
  TransactionSource,
  type EndTransactionRequest,
  type EndTransactionResponse,
} from './proto-types.js';
import { OK_STATUS } from './status.js';
import { unary } from './unary.js';

function resolutionOf(value: number | undefined): CoreResolution {
  if (value === TransactionResolution.COMMIT) return 'COMMIT';
  if (value === TransactionResolution.ROLLBACK) return 'ROLLBACK';
  throw new BadRequestError(`transaction resolution ${String(value)} is neither COMMIT nor ROLLBACK`);
}

export function endTransactionHandler(deps: HandlerDeps) {
  return unary<EndTransactionRequest, EndTransactionResponse>(
    deps,
    'EndTransaction',
    async (request, context) => {
      const topic = context.nameOf(request.topic);
      validateTopicName(topic);
      context.authorizeTopic(topic);
      const resolution = resolutionOf(request.resolution);
      const source = request.source === TransactionSource.SERVER_CHECK ? 'SERVER_CHECK' : 'CLIENT';
      await deps.core.endTransaction(
        request.transaction_id ?? '',
        request.message_id ?? '',
        resolution,
        source,
      );
      return { status: OK_STATUS };
    },
  );
}

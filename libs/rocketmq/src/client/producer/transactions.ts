/**
 * Transactional messages (RocketMQ 5): a half message, invisible to consumers, then EndTransaction
 * COMMIT (visible) or ROLLBACK (dropped). Half messages are sent alone (never batched with other
 * messages) and never retried: a retry after a lost answer would leave a second, unknown half.
 *
 * Check-backs: when the server does not learn the outcome (the producer died, or the local
 * function said UNKNOWN) it sends `recover_orphaned_transaction_command` on the producer's telemetry
 * stream; the producer's checker answers and the client ends the transaction with source
 * SERVER_CHECK (Apache counts those separately from the client's own decisions).
 */
import {
  TransactionResolution as ProtoResolution,
  TransactionSource,
  type Message as ProtoMessage,
} from '@rocketnest/broker/grpc/proto-types.js';
import { millisOfTimestamp } from '@rocketnest/broker/grpc/proto-time.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { RocketMQClientError, checkStatus, errorOfStatus } from '../errors.js';
import { type RpcClient } from '../rpc-client.js';
import { type OrphanedTransactionCommand } from '../telemetry-session.js';
import { type PreparedMessage } from './message.js';
import {
  type SendReceipt,
  type TransactionCheckMessage,
  type TransactionResolution,
} from './producer-types.js';

const RESOLUTIONS: ReadonlySet<string> = new Set(['COMMIT', 'ROLLBACK', 'UNKNOWN']);

/** A value returned by a local function or checker, as a resolution (anything else is UNKNOWN). */
export function asResolution(value: unknown): TransactionResolution | undefined {
  return typeof value === 'string' && RESOLUTIONS.has(value) ? (value as TransactionResolution) : undefined;
}

/**
 * Sends one half message to `endpoint` (queue `queueId`) in one call, no retry.
 * @throws RocketMQClientError of the call or of the entry's status
 */
export async function sendHalfMessage(
  rpc: Pick<RpcClient, 'unaryWithId'>,
  message: PreparedMessage,
  queue: { id: number; endpoint: string },
): Promise<SendReceipt> {
  message.proto.system_properties!.queue_id = queue.id;
  const { response, requestId } = await rpc.unaryWithId(
    'SendMessage',
    { messages: [message.proto] },
    { endpoint: queue.endpoint, checkStatus: false },
  );
  const entry = response.entries?.[0];
  if (!entry) {
    throw (
      checkStatus(response.status, requestId) ??
      new RocketMQClientError(StatusCode.INTERNAL_ERROR, 'SendMessage answered no entry', false, {
        requestId,
      })
    );
  }
  if (entry.status?.code !== StatusCode.OK) {
    throw errorOfStatus(entry.status?.code, entry.status?.message, { requestId });
  }
  if (!entry.transaction_id) {
    throw new RocketMQClientError(
      StatusCode.INTERNAL_ERROR,
      'the server stored the half message but gave no transaction id to end it with',
      false,
      { requestId },
    );
  }
  return {
    messageId: entry.message_id || message.messageId,
    topic: message.topic,
    queueId: queue.id,
    offset: typeof entry.offset === 'number' ? entry.offset : 0,
    transactionId: entry.transaction_id,
  };
}

export interface EndTransactionArgs {
  readonly topic: string;
  readonly messageId: string;
  readonly transactionId: string;
  readonly resolution: 'COMMIT' | 'ROLLBACK';
  readonly source: 'CLIENT' | 'SERVER_CHECK';
  readonly endpoint: string;
}

/** EndTransaction. @throws RocketMQClientError (e.g. 40008 for an unknown transaction id) */
export async function endTransaction(
  rpc: Pick<RpcClient, 'unary' | 'resource'>,
  args: EndTransactionArgs,
): Promise<void> {
  await rpc.unary(
    'EndTransaction',
    {
      topic: rpc.resource(args.topic),
      message_id: args.messageId,
      transaction_id: args.transactionId,
      resolution: args.resolution === 'COMMIT' ? ProtoResolution.COMMIT : ProtoResolution.ROLLBACK,
      source: args.source === 'CLIENT' ? TransactionSource.CLIENT : TransactionSource.SERVER_CHECK,
      trace_context: '',
    },
    { endpoint: args.endpoint },
  );
}

/** The checker's view of the message of a check-back command. */
export function checkMessageOf(
  command: OrphanedTransactionCommand,
  namespace: string,
): TransactionCheckMessage {
  const message: ProtoMessage = command.message;
  const sp = message.system_properties ?? {};
  const name = message.topic?.name ?? '';
  const prefix = namespace === '' ? '' : `${namespace}%`;
  return {
    messageId: sp.message_id ?? '',
    transactionId: command.transactionId,
    topic: prefix !== '' && name.startsWith(prefix) ? name.slice(prefix.length) : name,
    body: message.body ?? Buffer.alloc(0),
    tag: sp.tag === '' ? undefined : sp.tag,
    keys: sp.keys ?? [],
    properties: message.user_properties ?? {},
    bornTimestamp: millisOfTimestamp(sp.born_timestamp),
  };
}

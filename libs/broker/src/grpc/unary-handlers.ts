/**
 * Every unary RPC of MessagingService, by method name, each built from the shared HandlerDeps.
 */
import { type handleUnaryCall } from '@grpc/grpc-js';
import { type HandlerDeps } from './handler-deps.js';
import { UNSUPPORTED_UNARY_RPCS, unsupportedUnaryHandler } from './unsupported.js';

/** Method name → grpc-js handler. Types are erased here: each factory is typed with its own messages. */
export type UnaryHandlerTable = Record<string, handleUnaryCall<never, unknown>>;

/** RPCs still to be implemented in this file's families (answered UNSUPPORTED until then). */
const PENDING_RPCS = [
  'QueryRoute',
  'Heartbeat',
  'SendMessage',
  'QueryAssignment',
  'AckMessage',
  'ForwardMessageToDeadLetterQueue',
  'EndTransaction',
  'NotifyClientTermination',
  'ChangeInvisibleDuration',
] as const;

export function unaryHandlers(deps: HandlerDeps): UnaryHandlerTable {
  const table: UnaryHandlerTable = {};
  for (const rpc of [...UNSUPPORTED_UNARY_RPCS, ...PENDING_RPCS]) {
    table[rpc] = unsupportedUnaryHandler(deps, rpc);
  }
  return table;
}

/**
 * Every unary RPC of MessagingService, by method name, each built from the shared HandlerDeps.
 * (ReceiveMessage, Telemetry and PullMessage are streams: see messaging-server.ts.)
 */
import { type handleUnaryCall } from '@grpc/grpc-js';
import { notifyClientTerminationHandler, heartbeatHandler } from './client-lifecycle.js';
import {
  ackMessageHandler,
  changeInvisibleDurationHandler,
  forwardToDeadLetterQueueHandler,
} from './consume-acks.js';
import { endTransactionHandler } from './end-transaction.js';
import { type HandlerDeps } from './handler-deps.js';
import { queryAssignmentHandler, queryRouteHandler } from './route.js';
import { type SendFlowControl } from './send-flow-control.js';
import { sendMessageHandler } from './send-message.js';
import { UNSUPPORTED_UNARY_RPCS, unsupportedUnaryHandler } from './unsupported.js';

/** Method name → grpc-js handler. Types are erased here: each factory is typed with its own messages. */
export type UnaryHandlerTable = Record<string, handleUnaryCall<never, unknown>>;

export function unaryHandlers(deps: HandlerDeps, sendFlow?: SendFlowControl): UnaryHandlerTable {
  const table: UnaryHandlerTable = {
    QueryRoute: queryRouteHandler(deps),
    QueryAssignment: queryAssignmentHandler(deps),
    Heartbeat: heartbeatHandler(deps),
    NotifyClientTermination: notifyClientTerminationHandler(deps),
    SendMessage: sendMessageHandler(deps, sendFlow),
    EndTransaction: endTransactionHandler(deps),
    AckMessage: ackMessageHandler(deps),
    ChangeInvisibleDuration: changeInvisibleDurationHandler(deps),
    ForwardMessageToDeadLetterQueue: forwardToDeadLetterQueueHandler(deps),
  };
  for (const rpc of UNSUPPORTED_UNARY_RPCS) table[rpc] = unsupportedUnaryHandler(deps, rpc);
  return table;
}

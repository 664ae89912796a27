/**
 * The one way a unary RPC is served: authenticate, read the metadata, require a client id (40017),
 * run the handler and answer with its response. Any throw (typed or not) becomes a response carrying
 * only a `status`, with gRPC status OK (PROTOCOL.md §0). A handler can therefore never crash the server nor leave a call
 * unanswered, and every response has a status (never code 0).
 */
import { type handleUnaryCall, type ServerUnaryCall } from '@grpc/grpc-js';
import { type CallContext } from './call-context.js';
import { type HandlerDeps } from './handler-deps.js';
import { type Status } from './proto-types.js';
import { statusOf } from './status.js';

/** A handler of one unary RPC. The request is the decoded message (fields as proto-types.ts says). */
export type UnaryHandler<Req, Res> = (
  request: Req,
  context: CallContext,
  call: ServerUnaryCall<Req, Res>,
) => Res | Promise<Res>;

export function unary<Req, Res extends { status?: Status }>(
  deps: HandlerDeps,
  rpc: string,
  handler: UnaryHandler<Req, Res>,
): handleUnaryCall<Req, Res> {
  return (call, callback) => {
    const answer = (response: Res): void => {
      try {
        callback(null, response);
      } catch (err) {
        // grpc-js reports serialization failures itself; this only guards against the unexpected.
        deps.logger.error(`${rpc}: answering failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    const fail = (err: unknown): void => answer({ status: statusOf(err, deps.logger, rpc) } as Res);
    try {
      const context = deps.authenticate(call);
      // Like the Java proxy (`GrpcMessagingApplication.validateContext`): every call needs a client id.
      deps.clients.touch(context.requireClientId());
      const request = (call.request ?? {}) as Req;
      Promise.resolve(handler(request, context, call)).then(answer, fail);
    } catch (err) {
      fail(err);
    }
  };
}

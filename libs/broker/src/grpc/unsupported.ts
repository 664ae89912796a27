/**
 * The RPCs no client of the built-in broker needs (PROTOCOL.md §2 "Never called by Producer, Simple
 * or Push"): PullMessage, UpdateOffset, GetOffset, QueryOffset, RecallMessage, SyncLiteSubscription.
 * Each answers UNSUPPORTED (50500) in its status, never a crash and never a raw gRPC error: every
 * one of their responses has a status (PullMessage as its single stream frame), so the client sees
 * a mapped "unsupported" exception.
 */
import { type handleServerStreamingCall, type handleUnaryCall } from '@grpc/grpc-js';
import { UnsupportedRpcError } from './errors.js';
import { type HandlerDeps } from './handler-deps.js';
import { type StatusOnlyResponse } from './proto-types.js';
import { statusOf } from './status.js';
import { unary } from './unary.js';

/** The unary RPCs answered UNSUPPORTED. */
export const UNSUPPORTED_UNARY_RPCS = [
  'UpdateOffset',
  'GetOffset',
  'QueryOffset',
  'RecallMessage',
  'SyncLiteSubscription',
] as const;

export function unsupportedUnaryHandler(
  deps: HandlerDeps,
  rpc: string,
): handleUnaryCall<unknown, StatusOnlyResponse> {
  return unary<unknown, StatusOnlyResponse>(deps, rpc, () => {
    throw new UnsupportedRpcError(rpc);
  });
}

/** PullMessage: one `{status}` frame (after authentication), then the stream ends with OK. */
export function pullMessageHandler(
  deps: HandlerDeps,
): handleServerStreamingCall<unknown, StatusOnlyResponse> {
  return (call) => {
    let response: StatusOnlyResponse;
    try {
      deps.authenticate(call).requireClientId();
      response = { status: statusOf(new UnsupportedRpcError('PullMessage')) };
    } catch (err) {
      response = { status: statusOf(err, deps.logger, 'PullMessage') };
    }
    try {
      call.write(response);
      call.end();
    } catch (err) {
      deps.logger.error(`PullMessage: answering failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}

/**
 * ReceiveMessage (PLACEHOLDER of grpc-core, owned by grpc-streams from here on): answers a single
 * NOT_IMPLEMENTED status frame and ends the call with OK. Note for the real handler: a
 * `message_queue.id` of 0 or −1 must read the whole topic (all its queues), because QueryRoute
 * advertises every queue of a topic while the official client only uses queue 0.
 */
import { type handleServerStreamingCall } from '@grpc/grpc-js';
import { StatusCode } from '../status-code.js';
import { type HandlerDeps } from './handler-deps.js';
import { type ReceiveMessageRequest, type ReceiveMessageResponse } from './proto-types.js';

export function receiveMessageHandler(
  _deps: HandlerDeps,
): handleServerStreamingCall<ReceiveMessageRequest, ReceiveMessageResponse> {
  return (call) => {
    call.write({ status: { code: StatusCode.NOT_IMPLEMENTED, message: 'receive is not implemented yet' } });
    call.end();
  };
}

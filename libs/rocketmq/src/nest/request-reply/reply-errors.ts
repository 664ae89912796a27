/**
 * How a request can fail on the requester's side, as typed errors of the client's family
 * (`RocketMQClientError`, so one `instanceof` and a status code cover them like any client error):
 *
 * - `ReplyTimeoutError` (40800, a `RequestTimeoutError`): no reply within the request's timeout.
 *   The handler may still have run (its reply came too late, or is still to come): a timeout says
 *   nothing about whether the work was done.
 * - `RemoteHandlerError` (50000): the handler answered with an error; it carries what the
 *   responder sent (`{ message, name, status? }`).
 */
import { RocketMQClientError, RequestTimeoutError, StatusCode } from '../../client/index.js';

/** The error a responder describes in a reply (`REPLY_ERROR` set, JSON body). */
export interface RemoteErrorBody {
  readonly message: string;
  readonly name: string;
  /** Nest's `status` of an RPC error (`'error'`), or an HTTP-like status a filter put there. */
  readonly status?: string | number;
}

/** No reply to a request within its timeout. */
export class ReplyTimeoutError extends RequestTimeoutError {
  constructor(
    readonly correlationId: string,
    readonly destination: string,
    readonly timeoutMs: number,
  ) {
    super(`no reply to request ${correlationId} (${destination}) within ${timeoutMs} ms`);
  }
}

/** The remote handler answered a request with an error. */
export class RemoteHandlerError extends RocketMQClientError {
  /** The `name` the responder reported (`Error`, `RpcException`, a class of yours…). */
  readonly remoteName: string;
  /** The `status` the responder reported, when it had one. */
  readonly remoteStatus: string | number | undefined;

  constructor(
    readonly correlationId: string,
    remote: RemoteErrorBody,
  ) {
    super(StatusCode.INTERNAL_ERROR, remote.message, false);
    this.remoteName = remote.name;
    this.remoteStatus = remote.status;
  }
}

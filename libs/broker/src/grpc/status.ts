/**
 * RocketMQ `Status` values for responses. Unary failures travel in the response's `status` with gRPC
 * status OK (as the Java proxy does): raw gRPC errors are opaque to the clients (PROTOCOL.md §0).
 *
 * Rules: a RocketError keeps its code and message; anything else is a bug on our side and becomes
 * INTERNAL_ERROR (50000) with a generic message, its stack logged here (never sent to the client).
 * Code 0 (CODE_UNSPECIFIED) is never sent: the client maps it to "unsupported" (PROTOCOL.md §1).
 */
import { type BrokerCoreLogger } from '../core/broker-core-types.js';
import { RocketError, StatusCode } from '../status-code.js';
import { type Status } from './proto-types.js';

/** Longest status message sent; error messages already shorten client values, this is a backstop. */
export const STATUS_MESSAGE_MAX_CHARS = 1024;

export const OK_STATUS: Readonly<Status> = Object.freeze({ code: StatusCode.OK, message: 'OK' });

const KNOWN_CODES: ReadonlySet<number> = new Set(Object.values(StatusCode));

export function status(code: number, message: string): Status {
  return { code, message: clip(message) };
}

/**
 * The status a failed call answers with.
 * @param context what was being done, for the log line of an unexpected error
 */
export function statusOf(err: unknown, logger?: BrokerCoreLogger, context = 'a gRPC call'): Status {
  if (err instanceof RocketError && KNOWN_CODES.has(err.code) && err.code !== StatusCode.OK) {
    return status(err.code, err.message);
  }
  const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
  logger?.error(`${context} failed unexpectedly: ${detail}`);
  return status(StatusCode.INTERNAL_ERROR, 'internal error');
}

/** True for the codes the official client does not throw on (PROTOCOL.md §1). */
export function isSuccessCode(code: number): boolean {
  return code === StatusCode.OK || code === StatusCode.MULTIPLE_RESULTS;
}

function clip(message: string): string {
  return message.length <= STATUS_MESSAGE_MAX_CHARS
    ? message
    : `${message.slice(0, STATUS_MESSAGE_MAX_CHARS - 1)}…`;
}

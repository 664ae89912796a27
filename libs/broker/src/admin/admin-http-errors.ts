/**
 * Errors of the admin HTTP API. Every error answer is `{"code": <RocketMQ status code>, "message":
 * "…"}` with an HTTP status derived from the code, so a script sees the same number the gRPC API
 * (and the Java SDK) would show for the same fault, and a human sees a familiar HTTP status.
 */
import { BrokerCoreClosedError } from '../core/broker-core-errors.js';
import { RocketError, StatusCode, type StatusCodeValue } from '../status-code.js';

/** An answer the admin API gives on purpose: HTTP status, RocketMQ code, message, extra headers. */
export class AdminHttpError extends RocketError {
  constructor(
    readonly httpStatus: number,
    code: StatusCodeValue,
    message: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(code, message);
  }
}

/** 409: the resource exists already (RocketMQ has no "conflict" code; its own answer is BAD_REQUEST). */
export function conflict(message: string): AdminHttpError {
  return new AdminHttpError(409, StatusCode.BAD_REQUEST, message);
}

export function notFound(code: StatusCodeValue, message: string): AdminHttpError {
  return new AdminHttpError(404, code, message);
}

/** The HTTP status for a RocketMQ status code (by its class, as RocketMQ builds codes from HTTP's). */
export function httpStatusOf(code: number): number {
  if (code === StatusCode.UNAUTHORIZED) return 401;
  if (code === StatusCode.FORBIDDEN) return 403;
  if (code === StatusCode.TOO_MANY_REQUESTS) return 429;
  if (code === StatusCode.NOT_IMPLEMENTED || code === StatusCode.UNSUPPORTED) return 501;
  const family = Math.floor(code / 100);
  if (family === 404) return 404;
  if (family === 413) return 413;
  if (family === 431) return 431;
  if (code >= 40000 && code < 50000) return 400;
  return 500;
}

export interface ErrorAnswer {
  readonly httpStatus: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: { readonly code: number; readonly message: string };
}

/**
 * The answer for anything a handler threw. RocketErrors keep their code and message (they are
 * written for clients); anything else is an internal error whose details go to the log only.
 */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof AdminHttpError) {
    return {
      httpStatus: err.httpStatus,
      headers: err.headers,
      body: { code: err.code, message: err.message },
    };
  }
  if (err instanceof BrokerCoreClosedError) {
    return { httpStatus: 503, headers: {}, body: { code: err.code, message: err.message } };
  }
  if (err instanceof RocketError) {
    return {
      httpStatus: httpStatusOf(err.code),
      headers: {},
      body: { code: err.code, message: err.message },
    };
  }
  return {
    httpStatus: 500,
    headers: {},
    body: { code: StatusCode.INTERNAL_SERVER_ERROR, message: 'internal error (see the broker log)' },
  };
}

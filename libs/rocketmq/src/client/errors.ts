/**
 * Typed errors of the client. Every error the client throws or rejects with is a
 * `RocketMQClientError` (itself a `RocketError` of `@rocketnest/broker`, so one `instanceof` covers
 * both ends) carrying:
 *
 * - `code`: the RocketMQ 5 status code (`StatusCode`), the server's when the server answered, else
 *   the closest one for what happened on the client (transport failures, timeouts, validation);
 * - `retryable`: whether sending the same request again may succeed (flow control, server-side
 *   internal errors, timeouts, an unreachable endpoint), which is what the producer's retries use;
 * - `requestId`: the `x-mq-request-id` of the call, to find it in the server's logs;
 * - `grpcCode` for failures of the transport itself (no RocketMQ status was received).
 *
 * Families follow the official clients' `StatusChecker` (PROTOCOL.md §1): 400xx bad request, 40100
 * unauthorized, 40200 payment required, 40300 forbidden, 404xx not found, 413xx payload too large,
 * 42900 too many requests, 431xx header fields too large, 500xx internal, 504xx proxy timeout, and
 * everything else unsupported.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { RocketError, StatusCode, type StatusCodeValue } from '@rocketnest/broker/status-code.js';

export { StatusCode, type StatusCodeValue };

/** What every client error may carry besides its code. */
export interface ClientErrorDetails {
  readonly requestId?: string;
  readonly cause?: unknown;
  /** gRPC status code, for failures of the transport (no RocketMQ status received). */
  readonly grpcCode?: number;
}

/** Base of every error the client throws. */
export class RocketMQClientError extends RocketError {
  /** Whether the same request may succeed if sent again. */
  readonly retryable: boolean;
  /** `x-mq-request-id` of the call that failed, when a call was made. */
  readonly requestId: string | undefined;
  /** gRPC status of a transport failure; undefined when the server answered with a RocketMQ status. */
  readonly grpcCode: number | undefined;

  constructor(code: StatusCodeValue, message: string, retryable: boolean, details: ClientErrorDetails = {}) {
    super(code, message, details.cause === undefined ? undefined : { cause: details.cause });
    this.retryable = retryable;
    this.requestId = details.requestId;
    this.grpcCode = details.grpcCode;
  }
}

/** 40000–40019 (and 41302, an empty body): the request is malformed; sending it again cannot help. */
export class BadRequestError extends RocketMQClientError {
  constructor(code: StatusCodeValue, message: string, details?: ClientErrorDetails) {
    super(code, message, false, details);
  }
}

/** 40100: missing, unknown or wrong credentials. */
export class UnauthorizedError extends RocketMQClientError {
  constructor(message: string, details?: ClientErrorDetails) {
    super(StatusCode.UNAUTHORIZED, message, false, details);
  }
}

/** 40200. */
export class PaymentRequiredError extends RocketMQClientError {
  constructor(message: string, details?: ClientErrorDetails) {
    super(StatusCode.PAYMENT_REQUIRED, message, false, details);
  }
}

/** 40300: authenticated, but not allowed this topic or group. */
export class ForbiddenError extends RocketMQClientError {
  constructor(message: string, details?: ClientErrorDetails) {
    super(StatusCode.FORBIDDEN, message, false, details);
  }
}

/** 40400, 40402 (topic), 40403 (consumer group), 40404 (offset). */
export class NotFoundError extends RocketMQClientError {
  constructor(code: StatusCodeValue, message: string, details?: ClientErrorDetails) {
    super(code, message, false, details);
  }
}

/** 40800: a call (or the start of the client) did not complete within its deadline. */
export class RequestTimeoutError extends RocketMQClientError {
  constructor(message: string, details?: ClientErrorDetails) {
    super(StatusCode.REQUEST_TIMEOUT, message, true, details);
  }
}

/**
 * `Producer.start` / `RpcClient.connect` did not complete within `startupTimeoutMs`: the endpoint is
 * unreachable, or accepts connections but never answers. `cause` holds the last failure seen.
 */
export class StartupTimeoutError extends RequestTimeoutError {}

/** 41300, 41301: a body or request larger than the server takes. */
export class PayloadTooLargeError extends RocketMQClientError {
  constructor(code: StatusCodeValue, message: string, details?: ClientErrorDetails) {
    super(code, message, false, details);
  }
}

/** 42800 and client states that forbid the call (a closed client, an aborted request). */
export class PreconditionFailedError extends RocketMQClientError {
  constructor(message: string, details?: ClientErrorDetails) {
    super(StatusCode.PRECONDITION_FAILED, message, false, details);
  }
}

/** The client was closed (or is closing): nothing more is sent. */
export class ClientClosedError extends PreconditionFailedError {
  constructor(message = 'the client is closed', details?: ClientErrorDetails) {
    super(message, details);
  }
}

/** The caller aborted the request (AbortSignal). */
export class RequestAbortedError extends PreconditionFailedError {
  constructor(message = 'the request was aborted', details?: ClientErrorDetails) {
    super(message, details);
  }
}

/** 42900: the server is shedding load; retry after a backoff. */
export class TooManyRequestsError extends RocketMQClientError {
  constructor(message: string, details?: ClientErrorDetails) {
    super(StatusCode.TOO_MANY_REQUESTS, message, true, details);
  }
}

/** 43100, 43101: headers or message properties too large. */
export class RequestHeaderFieldsTooLargeError extends RocketMQClientError {
  constructor(code: StatusCodeValue, message: string, details?: ClientErrorDetails) {
    super(code, message, false, details);
  }
}

/** 50000–50002: the server failed; the same request may succeed later. */
export class InternalServerError extends RocketMQClientError {
  constructor(code: StatusCodeValue, message: string, details?: ClientErrorDetails) {
    super(code, message, true, details);
  }
}

/** 50400–50402: the proxy timed out talking to its brokers (persistence timeouts included). */
export class ProxyTimeoutError extends RocketMQClientError {
  constructor(code: StatusCodeValue, message: string, details?: ClientErrorDetails) {
    super(code, message, true, details);
  }
}

/** 50100, 50500–50502 and any code this client does not know (PROTOCOL.md §1). */
export class UnsupportedError extends RocketMQClientError {
  constructor(code: StatusCodeValue, message: string, details?: ClientErrorDetails) {
    super(code, message, false, details);
  }
}

/**
 * The call failed in the transport: no RocketMQ status came back. `grpcCode` says how; `code` is
 * INTERNAL_ERROR (50000) unless a closer RocketMQ code exists (see `transportError`).
 */
export class TransportError extends RocketMQClientError {}

/** gRPC UNAVAILABLE: the endpoint cannot be reached (refused, reset, DNS, TLS handshake, …). */
export class UnavailableError extends TransportError {
  constructor(message: string, details?: ClientErrorDetails) {
    super(StatusCode.INTERNAL_ERROR, message, true, { grpcCode: GrpcStatus.UNAVAILABLE, ...details });
  }
}

// ---------------------------------------------------------------------------------------------
// Mapping
// ---------------------------------------------------------------------------------------------

/** Codes that are not failures for a call as a whole (PROTOCOL.md §1). */
export function isOkCode(code: number): boolean {
  return code === StatusCode.OK || code === StatusCode.MULTIPLE_RESULTS;
}

const KNOWN_CODES: ReadonlySet<number> = new Set(Object.values(StatusCode));

/** The typed error of a non-OK RocketMQ status. */
export function errorOfStatus(
  code: number | undefined,
  message: string | undefined,
  details: ClientErrorDetails = {},
): RocketMQClientError {
  const c = (typeof code === 'number' && KNOWN_CODES.has(code) ? code : 0) as StatusCodeValue | 0;
  const text = `${message && message !== '' ? message : 'no message'} (code ${code ?? 'missing'})`;
  if (c === 0) {
    // Code 0 or a code from a newer server: Unsupported, as the official clients do.
    return new UnsupportedError(StatusCode.UNSUPPORTED, `unknown status: ${text}`, details);
  }
  if ((c >= 40000 && c <= 40019) || c === StatusCode.MESSAGE_BODY_EMPTY) {
    return new BadRequestError(c, text, details);
  }
  switch (c) {
    case StatusCode.UNAUTHORIZED:
      return new UnauthorizedError(text, details);
    case StatusCode.PAYMENT_REQUIRED:
      return new PaymentRequiredError(text, details);
    case StatusCode.FORBIDDEN:
      return new ForbiddenError(text, details);
    case StatusCode.NOT_FOUND:
    case StatusCode.MESSAGE_NOT_FOUND:
    case StatusCode.TOPIC_NOT_FOUND:
    case StatusCode.CONSUMER_GROUP_NOT_FOUND:
    case StatusCode.OFFSET_NOT_FOUND:
      return new NotFoundError(c, text, details);
    case StatusCode.REQUEST_TIMEOUT:
      return new RequestTimeoutError(text, details);
    case StatusCode.PAYLOAD_TOO_LARGE:
    case StatusCode.MESSAGE_BODY_TOO_LARGE:
      return new PayloadTooLargeError(c, text, details);
    case StatusCode.PRECONDITION_FAILED:
      return new PreconditionFailedError(text, details);
    case StatusCode.TOO_MANY_REQUESTS:
      return new TooManyRequestsError(text, details);
    case StatusCode.REQUEST_HEADER_FIELDS_TOO_LARGE:
    case StatusCode.MESSAGE_PROPERTIES_TOO_LARGE:
      return new RequestHeaderFieldsTooLargeError(c, text, details);
    case StatusCode.INTERNAL_ERROR:
    case StatusCode.INTERNAL_SERVER_ERROR:
    case StatusCode.HA_NOT_AVAILABLE:
      return new InternalServerError(c, text, details);
    case StatusCode.PROXY_TIMEOUT:
    case StatusCode.MASTER_PERSISTENCE_TIMEOUT:
    case StatusCode.SLAVE_PERSISTENCE_TIMEOUT:
      return new ProxyTimeoutError(c, text, details);
    default:
      return new UnsupportedError(c, text, details);
  }
}

/** A status of a response: undefined when OK (or MULTIPLE_RESULTS), else its typed error. */
export function checkStatus(
  status: { code?: number; message?: string } | null | undefined,
  requestId?: string,
): RocketMQClientError | undefined {
  if (!status) {
    return new InternalServerError(StatusCode.INTERNAL_ERROR, 'the response carries no status', {
      ...(requestId === undefined ? {} : { requestId }),
    });
  }
  if (typeof status.code === 'number' && isOkCode(status.code)) return undefined;
  return errorOfStatus(status.code, status.message, requestId === undefined ? {} : { requestId });
}

function isServiceError(err: unknown): err is ServiceError {
  return typeof err === 'object' && err !== null && typeof (err as ServiceError).code === 'number';
}

/**
 * The typed error of a failed gRPC call (no RocketMQ status): DEADLINE_EXCEEDED → RequestTimeoutError,
 * UNAVAILABLE → UnavailableError, UNAUTHENTICATED → 40100, PERMISSION_DENIED → 40300,
 * INVALID_ARGUMENT → 40000, NOT_FOUND → 40400, UNIMPLEMENTED → 50100, RESOURCE_EXHAUSTED → 41300 when
 * a frame was too large (grpc-js's size limits) else 42900, CANCELLED → RequestAbortedError,
 * anything else (INTERNAL, UNKNOWN, DATA_LOSS, a reset stream) → a retryable TransportError 50000.
 */
export function transportError(err: unknown, context: string, requestId?: string): RocketMQClientError {
  if (err instanceof RocketMQClientError) return err;
  const base = requestId === undefined ? {} : { requestId };
  if (!isServiceError(err)) {
    const text = err instanceof Error ? err.message : String(err);
    return new TransportError(StatusCode.INTERNAL_ERROR, `${context}: ${text}`, true, {
      ...base,
      cause: err,
    });
  }
  const details = { ...base, cause: err, grpcCode: err.code };
  const text = `${context}: ${err.details || err.message}`;
  switch (err.code) {
    case GrpcStatus.DEADLINE_EXCEEDED:
      return new RequestTimeoutError(text, details);
    case GrpcStatus.UNAVAILABLE:
      return new UnavailableError(text, details);
    case GrpcStatus.UNAUTHENTICATED:
      return new UnauthorizedError(text, details);
    case GrpcStatus.PERMISSION_DENIED:
      return new ForbiddenError(text, details);
    case GrpcStatus.INVALID_ARGUMENT:
      return new BadRequestError(StatusCode.BAD_REQUEST, text, details);
    case GrpcStatus.NOT_FOUND:
      return new NotFoundError(StatusCode.NOT_FOUND, text, details);
    case GrpcStatus.UNIMPLEMENTED:
      return new UnsupportedError(StatusCode.NOT_IMPLEMENTED, text, details);
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return /larger than max/i.test(text)
        ? new PayloadTooLargeError(StatusCode.PAYLOAD_TOO_LARGE, text, details)
        : new TooManyRequestsError(text, details);
    case GrpcStatus.CANCELLED:
      return new RequestAbortedError(text, details);
    default:
      return new TransportError(StatusCode.INTERNAL_ERROR, text, true, details);
  }
}

/**
 * A `RocketError` of the broker core's validators (same status codes as the server would answer)
 * as a client error of the matching family, the original kept as `cause`.
 */
export function clientErrorOf(err: unknown): RocketMQClientError {
  if (err instanceof RocketMQClientError) return err;
  if (err instanceof RocketError) return errorOfStatus(err.code, err.message, { cause: err });
  const text = err instanceof Error ? err.message : String(err);
  return new BadRequestError(StatusCode.BAD_REQUEST, text, { cause: err });
}

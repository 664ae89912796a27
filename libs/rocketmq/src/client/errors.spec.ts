import { status as GrpcStatus } from '@grpc/grpc-js';
import { IllegalTopicError } from '@rocketnest/broker/core/errors.js';
import { RocketError, StatusCode } from '@rocketnest/broker/status-code.js';
import {
  BadRequestError,
  ForbiddenError,
  InternalServerError,
  NotFoundError,
  PayloadTooLargeError,
  ProxyTimeoutError,
  RequestAbortedError,
  RequestHeaderFieldsTooLargeError,
  RequestTimeoutError,
  RocketMQClientError,
  TooManyRequestsError,
  TransportError,
  UnauthorizedError,
  UnavailableError,
  UnsupportedError,
  checkStatus,
  clientErrorOf,
  errorOfStatus,
  transportError,
} from './errors.js';

describe('errorOfStatus', () => {
  it.each([
    [StatusCode.BAD_REQUEST, BadRequestError, false],
    [StatusCode.ILLEGAL_MESSAGE_TAG, BadRequestError, false],
    [StatusCode.MESSAGE_BODY_EMPTY, BadRequestError, false],
    [StatusCode.UNAUTHORIZED, UnauthorizedError, false],
    [StatusCode.FORBIDDEN, ForbiddenError, false],
    [StatusCode.TOPIC_NOT_FOUND, NotFoundError, false],
    [StatusCode.MESSAGE_BODY_TOO_LARGE, PayloadTooLargeError, false],
    [StatusCode.TOO_MANY_REQUESTS, TooManyRequestsError, true],
    [StatusCode.MESSAGE_PROPERTIES_TOO_LARGE, RequestHeaderFieldsTooLargeError, false],
    [StatusCode.INTERNAL_ERROR, InternalServerError, true],
    [StatusCode.HA_NOT_AVAILABLE, InternalServerError, true],
    [StatusCode.MASTER_PERSISTENCE_TIMEOUT, ProxyTimeoutError, true],
    [StatusCode.NOT_IMPLEMENTED, UnsupportedError, false],
    [StatusCode.VERSION_UNSUPPORTED, UnsupportedError, false],
  ])('maps %i to its family with the code kept and retryable set', (code, type, retryable) => {
    const err = errorOfStatus(code, 'text', { requestId: 'rid' });
    expect(err).toBeInstanceOf(type);
    expect(err).toBeInstanceOf(RocketMQClientError);
    expect(err).toBeInstanceOf(RocketError);
    expect(err.code).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.requestId).toBe('rid');
    expect(err.message).toContain(`code ${code}`);
  });

  it('maps code 0 and unknown codes to Unsupported (50500), as the official clients do', () => {
    for (const code of [0, 12345, undefined]) {
      const err = errorOfStatus(code, 'x');
      expect(err).toBeInstanceOf(UnsupportedError);
      expect(err.code).toBe(StatusCode.UNSUPPORTED);
    }
  });

  it('checkStatus: OK and MULTIPLE_RESULTS pass, a missing status is an internal error', () => {
    expect(checkStatus({ code: StatusCode.OK })).toBeUndefined();
    expect(checkStatus({ code: StatusCode.MULTIPLE_RESULTS })).toBeUndefined();
    expect(checkStatus(undefined, 'r')).toBeInstanceOf(InternalServerError);
    expect(checkStatus({ code: StatusCode.FORBIDDEN, message: 'no' })).toBeInstanceOf(ForbiddenError);
  });
});

describe('transportError', () => {
  const grpcError = (code: number, details: string) => Object.assign(new Error(details), { code, details });

  it.each([
    [GrpcStatus.DEADLINE_EXCEEDED, RequestTimeoutError, StatusCode.REQUEST_TIMEOUT, true],
    [GrpcStatus.UNAVAILABLE, UnavailableError, StatusCode.INTERNAL_ERROR, true],
    [GrpcStatus.UNAUTHENTICATED, UnauthorizedError, StatusCode.UNAUTHORIZED, false],
    [GrpcStatus.PERMISSION_DENIED, ForbiddenError, StatusCode.FORBIDDEN, false],
    [GrpcStatus.INVALID_ARGUMENT, BadRequestError, StatusCode.BAD_REQUEST, false],
    [GrpcStatus.UNIMPLEMENTED, UnsupportedError, StatusCode.NOT_IMPLEMENTED, false],
    [GrpcStatus.CANCELLED, RequestAbortedError, StatusCode.PRECONDITION_FAILED, false],
    [GrpcStatus.INTERNAL, TransportError, StatusCode.INTERNAL_ERROR, true],
    [GrpcStatus.UNKNOWN, TransportError, StatusCode.INTERNAL_ERROR, true],
  ])('maps gRPC %i with its gRPC code kept', (code, type, rocketCode, retryable) => {
    const err = transportError(grpcError(code, 'boom'), 'SendMessage', 'rid');
    expect(err).toBeInstanceOf(type);
    expect(err.code).toBe(rocketCode);
    expect(err.grpcCode).toBe(code);
    expect(err.retryable).toBe(retryable);
    expect(err.requestId).toBe('rid');
    expect(err.message).toBe('SendMessage: boom');
  });

  it('tells a frame over the size limit (not retryable) from flow control (retryable)', () => {
    const tooLarge = transportError(
      grpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'Received message larger than max (5 vs 4)'),
      'x',
    );
    expect(tooLarge).toBeInstanceOf(PayloadTooLargeError);
    expect(tooLarge.retryable).toBe(false);
    expect(transportError(grpcError(GrpcStatus.RESOURCE_EXHAUSTED, 'quota'), 'x')).toBeInstanceOf(
      TooManyRequestsError,
    );
  });

  it('keeps a client error as it is and wraps anything else as a retryable transport error', () => {
    const known = new ForbiddenError('no');
    expect(transportError(known, 'x')).toBe(known);
    const other = transportError(new Error('socket hang up'), 'x');
    expect(other).toBeInstanceOf(TransportError);
    expect(other.retryable).toBe(true);
  });
});

describe('clientErrorOf', () => {
  it('turns a broker-core validation error into the client family with the same code', () => {
    const err = clientErrorOf(new IllegalTopicError('a b', 'contains illegal characters'));
    expect(err).toBeInstanceOf(BadRequestError);
    expect(err.code).toBe(StatusCode.ILLEGAL_TOPIC);
    expect(err.cause).toBeInstanceOf(IllegalTopicError);
  });
});

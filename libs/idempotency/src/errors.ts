/**
 * Typed errors of `@rocketnest/idempotency`. Each carries a RocketMQ status code (as every
 * Rocketnest error does) and `retryable`: whether delivering the same message again may succeed.
 * A consumer that sees a retryable error leaves the message to be redelivered; a non-retryable one
 * means the message can only end in the dead-letter queue.
 */
import { RocketError, StatusCode, type StatusCodeValue } from '@rocketnest/broker/status-code.js';

/** Base of every error this library throws. */
export class IdempotencyError extends RocketError {
  constructor(
    code: StatusCodeValue,
    message: string,
    /** Whether a later delivery of the same message may succeed. */
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
  }
}

/**
 * Another consumer holds the same key right now (a transaction still open past the lock timeout,
 * or a live lease). Nothing ran; retry the message later.
 */
export class IdempotencyBusyError extends IdempotencyError {
  constructor(
    readonly group: string,
    readonly key: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(StatusCode.TOO_MANY_REQUESTS, `idempotency key ${group}/${key} is busy: ${reason}`, true, options);
  }
}

/**
 * Postgres could not be reached or failed in a way that leaves the outcome unknown (including a
 * COMMIT whose answer was lost). The library fails closed: the handler either did not run, or ran
 * in a transaction whose commit is unknown; the message must not be acknowledged.
 */
export class IdempotencyStoreError extends IdempotencyError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(StatusCode.INTERNAL_ERROR, message, true, options);
  }
}

/**
 * The key was seen before with a different payload and the policy is `'fail'`: the message is
 * refused on every delivery, so it ends in the dead-letter queue for a person to look at.
 */
export class PayloadMismatchError extends IdempotencyError {
  constructor(
    readonly group: string,
    readonly key: string,
  ) {
    super(
      StatusCode.PRECONDITION_FAILED,
      `idempotency key ${group}/${key} was already used with a different payload`,
      false,
    );
  }
}

/** The key (or group) is empty, too long or not a string: the message cannot be deduplicated. */
export class InvalidIdempotencyKeyError extends IdempotencyError {
  constructor(message: string) {
    super(StatusCode.ILLEGAL_MESSAGE_KEY, message, false);
  }
}

/** The library is used wrongly (bad options, `IdempotencyContext.manager` outside a transaction). */
export class IdempotencyUsageError extends IdempotencyError {
  constructor(message: string) {
    super(StatusCode.BAD_REQUEST, message, false);
  }
}

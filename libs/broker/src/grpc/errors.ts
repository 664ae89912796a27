/**
 * Typed errors of the gRPC layer: the faults only a gRPC request can have (credentials, metadata,
 * unsupported RPCs). Each carries its RocketMQ status code, so `statusOf` maps them like the core's.
 */
import { quote } from '../core/errors.js';
import { RocketError, StatusCode } from '../status-code.js';

/** Missing, malformed, stale or wrongly signed credentials, or an unknown access key (40100). */
export class UnauthorizedError extends RocketError {
  constructor(reason: string) {
    super(StatusCode.UNAUTHORIZED, `unauthorized: ${reason}`);
  }
}

/** The authenticated user may not use this topic or group (40300). */
export class ForbiddenError extends RocketError {
  constructor(
    readonly accessKey: string,
    readonly kind: 'topic' | 'group',
    readonly resourceName: string,
  ) {
    super(StatusCode.FORBIDDEN, `access key ${quote(accessKey)} may not use ${kind} ${quote(resourceName)}`);
  }
}

/** The call needs `x-mq-client-id` and has none (40017). */
export class ClientIdRequiredError extends RocketError {
  constructor() {
    super(StatusCode.CLIENT_ID_REQUIRED, 'the x-mq-client-id header is required');
  }
}

/** A `client_type` this broker does not serve (40015). */
export class UnrecognizedClientTypeError extends RocketError {
  constructor(readonly clientType: number) {
    super(StatusCode.UNRECOGNIZED_CLIENT_TYPE, `unrecognized client type ${clientType}`);
  }
}

/** An RPC the built-in broker does not offer (50500): no client it serves needs it. */
export class UnsupportedRpcError extends RocketError {
  constructor(readonly rpc: string) {
    super(StatusCode.UNSUPPORTED, `${rpc} is not supported by the built-in broker`);
  }
}

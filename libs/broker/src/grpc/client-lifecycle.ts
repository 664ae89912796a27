/**
 * Heartbeat and NotifyClientTermination: a client says it is alive, or that it is going away.
 *
 * - Heartbeat: `client_type` PRODUCER, PUSH_CONSUMER or SIMPLE_CONSUMER (anything else is
 *   UNRECOGNIZED_CLIENT_TYPE: the broker serves no pull or lite consumers); consumers name a legal
 *   group they may use. No earlier Settings are required (PROTOCOL.md §2). The registry records the
 *   client as alive.
 * - NotifyClientTermination: the registry forgets the client and the core makes its leased messages
 *   visible again at once. Always OK for a well-formed request: `shutdown()` of the official client
 *   throws on a gRPC error (PROTOCOL.md §2).
 */
import { validateConsumerGroup } from '../core/validation.js';
import { UnrecognizedClientTypeError } from './errors.js';
import { type HandlerDeps } from './handler-deps.js';
import {
  ClientType,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type NotifyClientTerminationRequest,
  type NotifyClientTerminationResponse,
} from './proto-types.js';
import { OK_STATUS } from './status.js';
import { unary } from './unary.js';

const CONSUMER_TYPES: ReadonlySet<number> = new Set([ClientType.PUSH_CONSUMER, ClientType.SIMPLE_CONSUMER]);

export function heartbeatHandler(deps: HandlerDeps) {
  return unary<HeartbeatRequest, HeartbeatResponse>(deps, 'Heartbeat', (request, context) => {
    const clientId = context.requireClientId();
    const clientType = typeof request.client_type === 'number' ? request.client_type : ClientType.UNSPECIFIED;
    if (clientType === ClientType.PRODUCER) {
      deps.clients.touch(clientId, clientType);
    } else if (CONSUMER_TYPES.has(clientType)) {
      const group = context.nameOf(request.group);
      validateConsumerGroup(group);
      context.authorizeGroup(group);
      deps.clients.touch(clientId, clientType, group);
    } else {
      throw new UnrecognizedClientTypeError(clientType);
    }
    return { status: OK_STATUS };
  });
}

export function notifyClientTerminationHandler(deps: HandlerDeps) {
  return unary<NotifyClientTerminationRequest, NotifyClientTerminationResponse>(
    deps,
    'NotifyClientTermination',
    (request, context) => {
      const clientId = context.requireClientId();
      const group = request.group?.name ? context.nameOf(request.group) : undefined;
      if (group !== undefined) {
        validateConsumerGroup(group);
        context.authorizeGroup(group);
      }
      deps.clients.terminate(clientId, group);
      return { status: OK_STATUS };
    },
  );
}

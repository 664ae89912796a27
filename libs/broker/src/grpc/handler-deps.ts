/**
 * What every RPC handler factory of the gRPC layer is given (`xxxHandler(deps)`): the core it
 * translates to, the client registry, the advertised endpoint, authentication, logging and time.
 */
import { type BrokerCoreLogger } from '../core/broker-core-types.js';
import { type BrokerCore } from '../core/broker-core.js';
import { type Clock } from '../core/clock.js';
import { type CallContext, type CallLike } from './call-context.js';
import { type ClientRegistry } from './client-registry.js';

export interface HandlerDeps {
  readonly core: BrokerCore;
  readonly clients: ClientRegistry;
  /** host:port advertised in routes, assignments and `store_host`: the same on every call. */
  readonly endpoint: () => { host: string; port: number };
  /**
   * Checks the call's credentials (when authentication is on) and reads its metadata.
   * @throws UnauthorizedError (40100); BadRequestError for a malformed namespace header
   */
  authenticate(call: CallLike): CallContext;
  readonly logger: BrokerCoreLogger;
  readonly clock: Clock;
  /**
   * Aborted when the server starts closing: long polls return at once and telemetry streams end with
   * OK, so that the graceful shutdown does not wait for them.
   */
  readonly shutdown: AbortSignal;
}

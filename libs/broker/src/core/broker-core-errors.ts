import { RocketError, StatusCode } from '../status-code.js';

/**
 * A call reached the broker core after `close()` began. INTERNAL_SERVER_ERROR, like the timer and
 * transaction services' "closed" errors: the client may retry against a live broker.
 */
export class BrokerCoreClosedError extends RocketError {
  constructor() {
    super(StatusCode.INTERNAL_SERVER_ERROR, 'the broker is shutting down');
  }
}

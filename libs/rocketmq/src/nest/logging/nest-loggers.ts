/**
 * The client's and the embedded broker's logs through Nest's `Logger`, so that an application sees
 * them with its own formatting, levels and `app.useLogger(...)` replacement.
 */
import { Logger } from '@nestjs/common';
import { type BrokerCoreLogger } from '@rocketnest/broker/core/broker-core-types.js';
import { type ClientLogger } from '../../client/index.js';

/** A `ClientLogger` (debug/info/warn/error) writing to Nest's Logger under `context`. */
export function nestClientLogger(context: string): ClientLogger {
  const logger = new Logger(context);
  return {
    debug: (m) => logger.debug(m),
    info: (m) => logger.log(m),
    warn: (m) => logger.warn(m),
    error: (m) => logger.error(m),
  };
}

/** The embedded broker's logger (log/warn/error) on Nest's Logger. */
export function nestBrokerLogger(context = 'RocketMQBroker'): BrokerCoreLogger {
  const logger = new Logger(context);
  return {
    log: (m) => logger.log(m),
    warn: (m) => logger.warn(m),
    error: (m) => logger.error(m),
  };
}

/** Nest's `LoggerService` (Logger, or your `app.useLogger` one) as the client's four-level logger. */
import { type LoggerService } from '@nestjs/common';
import { type ClientLogger } from '../../client/index.js';

export function clientLoggerOf(logger: LoggerService): ClientLogger {
  return {
    debug: (m) => logger.debug?.(m),
    info: (m) => logger.log(m),
    warn: (m) => logger.warn(m),
    error: (m) => logger.error(m),
  };
}

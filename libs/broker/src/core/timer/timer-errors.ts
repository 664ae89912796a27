/**
 * Typed errors of the timer service. A bad delivery timestamp is the core's IllegalDeliveryTimeError
 * (re-exported here for callers that only import the timer); a bad delay level carries the same
 * RocketMQ code, ILLEGAL_DELIVERY_TIME, since a level is just another way to say when.
 */
import { RocketError, StatusCode } from '../../status-code.js';
import { preview } from '../errors.js';

export { IllegalDeliveryTimeError } from '../errors.js';

export class IllegalDelayLevelError extends RocketError {
  constructor(
    readonly level: unknown,
    levels: number,
  ) {
    super(
      StatusCode.ILLEGAL_DELIVERY_TIME,
      `illegal delay level ${preview(String(level))}: must be an integer from 1 to ${levels}`,
    );
  }
}

/** `schedule` after `close` (or while closing): the caller should retry on a live broker. */
export class TimerServiceClosedError extends RocketError {
  constructor() {
    super(StatusCode.INTERNAL_SERVER_ERROR, 'the timer service is closed');
  }
}

import { RocketError, StatusCode } from '../../status-code.js';

/** A call reached the consumption engine after `close()` (broker shutting down). */
export class ConsumeEngineClosedError extends RocketError {
  constructor() {
    super(StatusCode.INTERNAL_ERROR, 'the consumption engine is closed');
  }
}

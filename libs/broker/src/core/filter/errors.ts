import { RocketError, StatusCode } from '../../status-code.js';
import { type FilterType } from './types.js';

/**
 * A filter expression that cannot be compiled: syntax error, unsupported construct or a bound of
 * `FILTER_LIMITS` exceeded. Maps to `ILLEGAL_FILTER_EXPRESSION` (40010), as the RocketMQ proxy does.
 */
export class IllegalFilterExpressionError extends RocketError {
  constructor(
    /** The filter type the expression was compiled as, when known. */
    readonly filterType: FilterType | undefined,
    /** What is wrong, without the position. */
    readonly reason: string,
    /** 0-based UTF-16 offset in the expression of the offending token, when there is one. */
    readonly position?: number,
  ) {
    super(
      StatusCode.ILLEGAL_FILTER_EXPRESSION,
      `illegal ${filterType ?? 'filter'} expression: ${reason}` +
        (position === undefined ? '' : ` (at position ${position + 1})`),
    );
  }
}

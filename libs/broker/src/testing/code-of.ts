import { RocketError, type StatusCodeValue } from '../status-code.js';

/** The RocketMQ status code `fn` throws, or undefined when it returns; other errors propagate. */
export function codeOf(fn: () => unknown): StatusCodeValue | undefined {
  try {
    fn();
  } catch (err) {
    if (err instanceof RocketError) return err.code;
    throw err;
  }
  return undefined;
}

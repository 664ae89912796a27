/**
 * What an `@EventPattern` handler's result means for its message. Nest ignores event results; the
 * transport reads two of them, the consumer's own answers:
 *
 * - `Reconsume.after(ms)` → retried after `ms`, without an error (nothing is logged as a failure);
 * - `ConsumeResult.FAILURE` → retried after the group's backoff, as a thrown error would be;
 * - anything else (nothing, a value) → acknowledged.
 *
 * Several `@EventPattern` handlers of one pattern run together (Nest chains them and joins their
 * results as `{ current, next }`); the message is then acknowledged only if none asks for a retry:
 * a FAILURE wins, else the longest `Reconsume` delay.
 */
import { ConsumeResult, isRetryAfter, type RetryAfter } from '../../client/index.js';

/** What the consumer is told: nothing (ack), FAILURE, or a retry after a delay. */
export type EventOutcome = typeof ConsumeResult.FAILURE | RetryAfter | undefined;

/**
 * The outcome of an event handler's (last) result.
 * @param chained whether Nest chained several handlers (their results joined as `{ current, next }`)
 */
export function eventOutcomeOf(result: unknown, chained: boolean): EventOutcome {
  if (chained && isJoined(result)) {
    return combine(eventOutcomeOf(result.current, false), eventOutcomeOf(result.next, true));
  }
  if (result === ConsumeResult.FAILURE) return ConsumeResult.FAILURE;
  if (isRetryAfter(result)) return result;
  return undefined;
}

function isJoined(value: unknown): value is { current: unknown; next: unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.keys(value).length === 2 &&
    'current' in value &&
    'next' in value
  );
}

function combine(a: EventOutcome, b: EventOutcome): EventOutcome {
  if (a === ConsumeResult.FAILURE || b === ConsumeResult.FAILURE) return ConsumeResult.FAILURE;
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a.delayMs >= b.delayMs ? a : b;
}

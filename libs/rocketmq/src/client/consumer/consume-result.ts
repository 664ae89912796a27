/**
 * What a message handler answers. Resolving with nothing (or `ConsumeResult.SUCCESS`) acknowledges
 * the message; throwing, rejecting or answering `ConsumeResult.FAILURE` retries it after the group's
 * backoff for this delivery attempt; `Reconsume.after(ms)` retries it after exactly `ms`.
 *
 * Standard groups retry on the server: the message is made invisible for the delay
 * (ChangeInvisibleDuration) and comes back with `deliveryAttempt + 1`, to this or another consumer;
 * after the group's max delivery attempts the server moves it to `%DLQ%<group>`. FIFO groups retry
 * locally (the message group stays blocked meanwhile), and the last failed attempt forwards the
 * message to the dead-letter queue, so that the group can move on.
 */

/** A retry after an explicit delay, instead of the group's backoff. */
export interface RetryAfter {
  readonly kind: 'retry-after';
  /** Milliseconds, ≥ 0. */
  readonly delayMs: number;
}

export const ConsumeResult = Object.freeze({
  /** Acknowledge: the message is done. */
  SUCCESS: 'SUCCESS',
  /** Retry after the group's backoff (as a thrown error does). */
  FAILURE: 'FAILURE',
} as const);

/** What a handler may resolve with; `undefined` means SUCCESS. */
export type ConsumeResult = (typeof ConsumeResult)[keyof typeof ConsumeResult] | RetryAfter;

/** Longest explicit retry delay: the longest invisible duration RocketMQ accepts (12 h). */
export const MAX_RETRY_DELAY_MS = 12 * 60 * 60 * 1000;

export const Reconsume = Object.freeze({
  /**
   * Retry after `delayMs` instead of the group's backoff.
   * @throws RangeError when `delayMs` is not a number in 0..12 h
   */
  after(delayMs: number): RetryAfter {
    if (
      typeof delayMs !== 'number' ||
      !Number.isFinite(delayMs) ||
      delayMs < 0 ||
      delayMs > MAX_RETRY_DELAY_MS
    ) {
      throw new RangeError(`Reconsume.after needs 0..${MAX_RETRY_DELAY_MS} ms, got ${String(delayMs)}`);
    }
    return Object.freeze({ kind: 'retry-after', delayMs: Math.round(delayMs) });
  },
});

/** A handler's outcome, normalized: done, or retry (after the backoff, or after an explicit delay). */
export type Outcome = { readonly ok: true } | { readonly ok: false; readonly delayMs?: number };

const OK: Outcome = Object.freeze({ ok: true });
const FAILED: Outcome = Object.freeze({ ok: false });

/** Reads what a handler resolved with; anything unknown counts as a failure (and is reported). */
export function outcomeOf(result: unknown): { outcome: Outcome; unknown: boolean } {
  if (result === undefined || result === ConsumeResult.SUCCESS) return { outcome: OK, unknown: false };
  if (result === ConsumeResult.FAILURE) return { outcome: FAILED, unknown: false };
  if (isRetryAfter(result)) return { outcome: { ok: false, delayMs: result.delayMs }, unknown: false };
  return { outcome: FAILED, unknown: true };
}

/** The outcome of a handler that threw. */
export const FAILED_OUTCOME = FAILED;

/** A `Reconsume.after(ms)` answer (also one built elsewhere with the same shape). */
export function isRetryAfter(value: unknown): value is RetryAfter {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<RetryAfter>;
  return (
    candidate.kind === 'retry-after' &&
    typeof candidate.delayMs === 'number' &&
    Number.isFinite(candidate.delayMs) &&
    candidate.delayMs >= 0
  );
}

/**
 * Pacing of the consumer's own retries (failed acks, nacks, dead-letter forwards, receives): short
 * at first, capped, so that a broker that comes back is used at once and one that stays away is
 * not hammered. Java retries these every second (ack: 100 ms for FIFO); starting lower and
 * doubling gets both a quick recovery and a bounded load.
 */

/** First retry of a failed settlement call. */
export const SETTLE_RETRY_INITIAL_MS = 100;
/** Longest pause between retries of a settlement call. */
export const SETTLE_RETRY_MAX_MS = 5_000;

/** Delay before retry number `failures` (≥ 1) of a settlement call. */
export function settleRetryDelayMs(failures: number): number {
  const n = Math.max(1, Math.floor(failures));
  return Math.min(SETTLE_RETRY_INITIAL_MS * 2 ** (n - 1), SETTLE_RETRY_MAX_MS);
}

/**
 * Resolves after `ms`, or at once when `signal` aborts (then with false). The timer is cleared on
 * abort, so a stopped consumer leaves none behind.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * How long a failed message waits before its next delivery, by attempt, and how many attempts a
 * group allows: the Settings' `backoff_policy` (the server's view of the group, PROTOCOL.md §2), or
 * what the application configures.
 *
 * Same arithmetic as the Java client: exponential = min(initial × multiplier^(attempt − 1), max);
 * customized = step `attempt − 1`, the last step repeating. Durations are read in full (seconds and
 * nanos): the official Node client reads only the seconds and uses them as milliseconds
 * (PROTOCOL.md §7.2); this client does not copy that bug.
 */
import { type RetryPolicy as ProtoRetryPolicy } from '@rocketnest/broker/grpc/proto-types.js';
import { millisOfDuration } from '@rocketnest/broker/grpc/proto-time.js';

/** An exponential schedule. */
export interface ExponentialBackoff {
  readonly initialMs: number;
  readonly maxMs: number;
  readonly multiplier: number;
}

/** The schedule as an application configures it: exponential, or one delay per attempt. */
export type BackoffOptions = ExponentialBackoff | readonly number[];

export interface RetryPolicy {
  /** Most deliveries of one message (the first one included) before it goes to the DLQ. */
  readonly maxAttempts: number;
  /** Delay after delivery `attempt` (≥ 1) failed. */
  nextDelayMs(attempt: number): number;
}

/** When neither the server nor the application says: RocketMQ's 16 retries. */
export const DEFAULT_MAX_ATTEMPTS = 17;
/** When neither the server nor the application says: 1 s, doubling, at most 60 s. */
export const DEFAULT_BACKOFF: ExponentialBackoff = Object.freeze({
  initialMs: 1_000,
  maxMs: 60_000,
  multiplier: 2,
});

/**
 * The policy in effect: the configured backoff wins over the server's (an explicit choice), the
 * server's max attempts win over the configured fallback (the server moves messages to the DLQ by
 * its own count, and local FIFO retries must agree with it).
 */
export function effectivePolicy(
  server: ProtoRetryPolicy | null | undefined,
  configured: { backoff?: BackoffOptions; maxAttempts?: number } = {},
): RetryPolicy {
  const serverMax = server?.max_attempts;
  const maxAttempts =
    typeof serverMax === 'number' && Number.isInteger(serverMax) && serverMax > 0
      ? serverMax
      : (configured.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  const backoff = configured.backoff ?? backoffOfProto(server) ?? DEFAULT_BACKOFF;
  return policyOf(maxAttempts, backoff);
}

/** A policy from a schedule. */
export function policyOf(maxAttempts: number, backoff: BackoffOptions): RetryPolicy {
  checkBackoff(backoff);
  if (isSteps(backoff)) {
    const steps = [...backoff];
    return Object.freeze({
      maxAttempts,
      nextDelayMs: (attempt: number) => steps[Math.min(Math.max(1, Math.floor(attempt)), steps.length) - 1]!,
    });
  }
  const { initialMs, maxMs, multiplier } = backoff;
  return Object.freeze({
    maxAttempts,
    nextDelayMs: (attempt: number) => {
      const delay = Math.min(initialMs * multiplier ** (Math.max(1, Math.floor(attempt)) - 1), maxMs);
      return delay > 0 ? Math.round(delay) : 0;
    },
  });
}

/**
 * Checks a configured schedule.
 * @throws RangeError for an empty list, negative or non-finite delays, a multiplier < 1, max < initial
 */
export function checkBackoff(backoff: BackoffOptions): void {
  if (isSteps(backoff)) {
    if (backoff.length === 0) throw new RangeError('a retry backoff list needs at least one delay');
    for (const step of backoff) checkDelay(step, 'retry backoff step');
    return;
  }
  if (typeof backoff !== 'object' || backoff === null)
    throw new RangeError('retry backoff must be a list or an object');
  checkDelay(backoff.initialMs, 'retry backoff initialMs');
  checkDelay(backoff.maxMs, 'retry backoff maxMs');
  if (backoff.maxMs < backoff.initialMs) throw new RangeError('retry backoff maxMs is below initialMs');
  if (
    typeof backoff.multiplier !== 'number' ||
    !Number.isFinite(backoff.multiplier) ||
    backoff.multiplier < 1
  ) {
    throw new RangeError(`retry backoff multiplier must be ≥ 1, got ${String(backoff.multiplier)}`);
  }
}

/** The server's schedule, if it sent a usable one. */
export function backoffOfProto(policy: ProtoRetryPolicy | null | undefined): BackoffOptions | undefined {
  if (!policy) return undefined;
  const exponential = policy.exponential_backoff;
  if (exponential && (policy.strategy === undefined || policy.strategy === 'exponential_backoff')) {
    const initialMs = millisOfDuration(exponential.initial) ?? 0;
    const maxMs = millisOfDuration(exponential.max) ?? 0;
    const multiplier = exponential.multiplier ?? 1;
    const candidate = {
      initialMs,
      maxMs: Math.max(maxMs, initialMs),
      multiplier: multiplier >= 1 ? multiplier : 1,
    };
    return usable(candidate) ? candidate : undefined;
  }
  const steps = (policy.customized_backoff?.next ?? []).map((d) => millisOfDuration(d) ?? NaN);
  return steps.length > 0 && usable(steps) ? steps : undefined;
}

function usable(backoff: BackoffOptions): boolean {
  try {
    checkBackoff(backoff);
    return true;
  } catch {
    return false;
  }
}

function isSteps(backoff: BackoffOptions): backoff is readonly number[] {
  return Array.isArray(backoff);
}

function checkDelay(ms: unknown, what: string): void {
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new RangeError(`${what} must be a finite number of milliseconds ≥ 0, got ${String(ms)}`);
  }
}

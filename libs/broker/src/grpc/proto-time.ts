/**
 * google.protobuf.Timestamp / Duration ⇄ milliseconds. Reading is strict so that garbage becomes NaN
 * (then the core's range checks answer with the field's status code) rather than a plausible time:
 * non-finite seconds and nanos outside 0..999,999,999 are not times.
 */
import { type Duration, type Timestamp } from './proto-types.js';

const NANOS_PER_MS = 1_000_000;
const MAX_NANOS = 999_999_999;

function millisOf(value: Timestamp | Duration): number {
  const seconds = value.seconds ?? 0;
  const nanos = value.nanos ?? 0;
  if (typeof seconds !== 'number' || !Number.isFinite(seconds)) return NaN;
  if (typeof nanos !== 'number' || !Number.isInteger(nanos) || nanos < 0 || nanos > MAX_NANOS) return NaN;
  return seconds * 1000 + Math.floor(nanos / NANOS_PER_MS);
}

/** Epoch ms of a Timestamp; undefined when absent, NaN when malformed. */
export function millisOfTimestamp(ts: Timestamp | null | undefined): number | undefined {
  return ts === null || ts === undefined ? undefined : millisOf(ts);
}

/** Milliseconds of a Duration; undefined when absent, NaN when malformed (negative stays negative). */
export function millisOfDuration(duration: Duration | null | undefined): number | undefined {
  return duration === null || duration === undefined ? undefined : millisOf(duration);
}

/** google.protobuf.Timestamp of epoch milliseconds. */
export function timestampOf(ms: number): Timestamp {
  const seconds = Math.floor(ms / 1000);
  return { seconds, nanos: Math.round((ms - seconds * 1000) * NANOS_PER_MS) };
}

/** google.protobuf.Duration of milliseconds (negative counts as 0). */
export function durationOf(ms: number): Duration {
  const whole = Math.max(0, ms);
  const seconds = Math.floor(whole / 1000);
  return { seconds, nanos: Math.round((whole - seconds * 1000) * NANOS_PER_MS) };
}

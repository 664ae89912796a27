/**
 * Strict readers for operator-written JSON (the broker config file and admin request bodies). Every
 * failure is a SpecError naming the path of the offending value (`topics[2].queueCount`), so an
 * operator finds the line to fix without guessing; unknown keys are refused rather than ignored,
 * because a misspelled `fifo` silently ignored is a FIFO group that is not FIFO.
 */
import { quote } from '../core/errors.js';
import { RocketError, StatusCode } from '../status-code.js';

/** A value of an operator-written document is missing, of the wrong type or out of range. */
export class SpecError extends RocketError {
  constructor(
    /** Where in the document, e.g. `topics[2].queueCount` (empty for the document itself). */
    readonly path: string,
    /** What is wrong, e.g. `must be an integer 1..1024, got 0`. */
    readonly problem: string,
  ) {
    super(StatusCode.BAD_REQUEST, path === '' ? problem : `${path} ${problem}`);
  }
}

/** `base.key`, or `key` at the top. */
export function childPath(base: string, key: string): string {
  return base === '' ? key : `${base}.${key}`;
}

/** A short, safe rendering of a value for an error message. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return quote(value);
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * A plain JSON object whose keys are all in `allowed`.
 * @throws SpecError for a non-object or an unknown key (named with the keys that are allowed)
 */
export function readObject(
  value: unknown,
  path: string,
  allowed: readonly string[],
): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new SpecError(path, `must be an object, got ${describe(value)}`);
  }
  const record = value as Record<string, unknown>;
  for (const key of Object.keys(record)) {
    if (!allowed.includes(key)) {
      throw new SpecError(
        childPath(path, key),
        `is not a known setting (allowed here: ${allowed.join(', ') || 'none'})`,
      );
    }
  }
  return record;
}

export function readList(value: unknown, path: string): readonly unknown[] {
  if (!Array.isArray(value)) throw new SpecError(path, `must be a list, got ${describe(value)}`);
  return value;
}

export function readString(value: unknown, path: string): string {
  if (typeof value !== 'string' || value === '') {
    throw new SpecError(path, `must be a non-empty string, got ${describe(value)}`);
  }
  return value;
}

export function readBoolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new SpecError(path, `must be true or false, got ${describe(value)}`);
  return value;
}

export function readInteger(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new SpecError(path, `must be an integer ${min}..${max}, got ${describe(value)}`);
  }
  return value;
}

export function readNumber(value: unknown, path: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
    throw new SpecError(path, `must be a number ${min}..${max}, got ${describe(value)}`);
  }
  return value;
}

const DURATION_PATTERN = /^(\d+)(ms|s|m|h)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/**
 * A duration: milliseconds as an integer, or a string such as `500ms`, `10s`, `5m`, `2h`.
 * @throws SpecError for anything else or a value outside min..max ms
 */
export function readDurationMs(value: unknown, path: string, min: number, max: number): number {
  let ms: number | undefined;
  if (typeof value === 'number' && Number.isInteger(value)) ms = value;
  else if (typeof value === 'string') {
    const match = DURATION_PATTERN.exec(value);
    if (match) ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  }
  if (ms === undefined) {
    throw new SpecError(
      path,
      `must be a duration (milliseconds, or a string like "500ms", "10s", "5m", "2h"), got ${describe(value)}`,
    );
  }
  if (ms < min || ms > max) {
    throw new SpecError(path, `must be between ${min} ms and ${max} ms, got ${describe(value)}`);
  }
  return ms;
}

/**
 * A point in time: milliseconds since the epoch, or an ISO-8601 string with a time zone
 * (`2025-01-01T00:00:00Z`). A zone-less string is refused: it would mean a different instant on
 * every machine.
 */
export function readTimestamp(value: unknown, path: string): number {
  if (typeof value === 'number' && Number.isInteger(value) && value >= 0) return value;
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT.*(Z|[+-]\d\d:\d\d)$/.test(value)) {
    const ms = Date.parse(value);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  }
  throw new SpecError(
    path,
    `must be milliseconds since the epoch or an ISO-8601 time with a zone, got ${describe(value)}`,
  );
}

/**
 * Runs a core validator (which throws a RocketError without a path) and re-throws its complaint as a
 * SpecError at `path`, keeping the core's wording.
 */
export function checkWith(path: string, check: () => void): void {
  try {
    check();
  } catch (err) {
    if (err instanceof RocketError) throw new SpecError(path, `is invalid: ${err.message}`);
    throw err;
  }
}

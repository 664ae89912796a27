/**
 * Typed readers of environment variables for the sample services. A bad value stops the start
 * with a message naming the variable (never a silent default for a typo).
 */

/** A variable holds a value the service cannot use. */
export class SampleConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable} ${message}`);
    this.name = 'SampleConfigError';
  }
}

/** The variable's trimmed value; undefined when unset or blank. */
export function envText(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/** An integer within `[min, max]`, or `fallback` when unset. */
export function envInteger(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = envText(env, name);
  if (text === undefined) return fallback;
  const value = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new SampleConfigError(name, `must be an integer ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** A number within `[min, max]` (decimals allowed), or `fallback` when unset. */
export function envNumber(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const text = envText(env, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value < min || value > max) {
    throw new SampleConfigError(name, `must be a number ${min}..${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

/** Largest TCP port. */
export const MAX_PORT = 65_535;

/** The HTTP port: the service's own variable, else `PORT`, else `fallback`. */
export function envPort(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const own = envText(env, name);
  return own !== undefined
    ? envInteger(env, name, fallback, 0, MAX_PORT)
    : envInteger(env, 'PORT', fallback, 0, MAX_PORT);
}

/**
 * Measuring code every bench shares, so that all systems are timed the same way: one clock, one
 * percentile rule, one windowed sender, one median.
 */

/** A monotonic clock in ms. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** Send timings of a windowed run (ms, by message index), for `percentile`. */
export interface WindowRun {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly latenciesMs: Float64Array;
}

/**
 * Calls `send(i)` for i = 0..count-1 keeping at most `window` calls outstanding (a new one starts
 * as soon as one resolves), and times each call. A failed send fails the run.
 */
export async function runWindowed(
  count: number,
  window: number,
  send: (index: number) => Promise<unknown>,
): Promise<WindowRun> {
  const latenciesMs = new Float64Array(count);
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      const index = next++;
      const t0 = nowMs();
      await send(index);
      latenciesMs[index] = nowMs() - t0;
    }
  };
  const startedAt = nowMs();
  await Promise.all(Array.from({ length: Math.min(window, count) }, lane));
  return { startedAt, endedAt: nowMs(), latenciesMs };
}

/** The p-th percentile (nearest rank) of the values. */
export function percentile(values: Float64Array, p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

/** The median of the values (the upper one of the middle two for an even count), NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Resolves once `done()` holds, checking every `everyMs`; rejects after `timeoutMs` naming `what`. */
export async function waitUntil(
  what: () => string,
  done: () => boolean,
  timeoutMs: number,
  everyMs = 5,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * What both sides of the client bench share: the case a child runs (JSON on argv[2]), the result it
 * prints, and the measuring code, so that our client and the official one are measured the same
 * way: same bodies, same window, same clock, same percentile arithmetic.
 */

/** Starts the one stdout line that carries a child's JSON result. */
export const CASE_RESULT_MARKER = 'CLIENT_BENCH_RESULT ';

export type CaseMode = 'publish' | 'pubsub';

export interface CaseInput {
  readonly mode: CaseMode;
  /** `host:port` of the broker. */
  readonly endpoint: string;
  readonly topic: string;
  /** Consumer group (pubsub). */
  readonly group: string;
  readonly messages: number;
  readonly bodyBytes: number;
  /** Most sends outstanding at once. */
  readonly window: number;
  /** pubsub: how long to wait, after the last send, for the consumer to see every message. */
  readonly consumeTimeoutMs: number;
}

export interface CaseResult {
  readonly messages: number;
  /** From the first send to the last acknowledgement (publish) or the last consumption (pubsub). */
  readonly elapsedMs: number;
  readonly msgsPerSecond: number;
  /** Send latency: from the `send` call to its receipt. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** pubsub: distinct messages the consumer saw (= messages), and deliveries including repeats. */
  readonly consumed?: number;
  readonly deliveries?: number;
}

/** The body of message `index`: `bodyBytes` bytes, the index in front (no two bodies alike). */
export function benchBody(index: number, bodyBytes: number): Buffer {
  const body = Buffer.alloc(bodyBytes, 0x61);
  body.write(`${index}:`, 0, 'latin1');
  return body;
}

/** Send timings of a windowed run (ms, by message index), for `percentile`. */
export interface WindowRun {
  readonly startedAt: number;
  readonly endedAt: number;
  readonly latenciesMs: Float64Array;
}

/** A monotonic clock in ms. */
export function nowMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
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

/**
 * The result of a case: throughput over `elapsedMs` (the send window, or until the last
 * consumption), latency from the window's timings.
 */
export function caseResult(
  input: CaseInput,
  run: WindowRun,
  endedAt: number,
  consumption?: { consumed: number; deliveries: number },
): CaseResult {
  const elapsedMs = endedAt - run.startedAt;
  return {
    messages: input.messages,
    elapsedMs,
    msgsPerSecond: input.messages / (elapsedMs / 1000),
    p50Ms: percentile(run.latenciesMs, 50),
    p99Ms: percentile(run.latenciesMs, 99),
    ...(consumption ?? {}),
  };
}

/** Reads the case (argv[2]), runs it, prints the result line and exits (clients leave timers behind). */
export function runCase(main: (input: CaseInput) => Promise<CaseResult>): void {
  const raw = process.argv[2];
  if (raw === undefined) {
    process.stderr.write('usage: <child> <case JSON>\n');
    process.exit(2);
  }
  main(JSON.parse(raw) as CaseInput).then(
    (result) =>
      process.stdout.write(`${CASE_RESULT_MARKER}${JSON.stringify(result)}\n`, () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(
        `case failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        () => process.exit(1),
      );
    },
  );
}

/**
 * What both sides of the client bench share: the case a child runs (JSON on argv[2]), the result it
 * prints, and the result arithmetic (the timing itself is in common/measure.ts), so that our client
 * and the official one are measured the same way: same bodies, same window, same clock, same
 * percentile arithmetic.
 */

import { answerAndExit } from '../common/child-process.js';
import { percentile, type WindowRun } from '../common/measure.js';

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
  /**
   * Deadline of every unary call, the same for both clients (`requestTimeoutMs` in ours,
   * `requestTimeout` in the official one; both default to 3 s).
   */
  readonly requestTimeoutMs: number;
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
  answerAndExit(CASE_RESULT_MARKER, () => main(JSON.parse(raw) as CaseInput));
}

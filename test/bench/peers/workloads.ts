/**
 * The workloads of PERFORMANCE.md (c), each on a fresh queue of one system, run inside a bench
 * child (producer and consumer share its clock):
 *   - W1 publish only, window 256: confirmed msgs/s, confirm latency;
 *   - W2 publish with a consumer running (started first): end-to-end msgs/s and latency;
 *   - W3 open loop at a fixed rate (1k/s, 10k/s): end-to-end latency from each message's
 *     scheduled send time (a late sender counts against the system, no coordinated omission);
 *   - W4 a backlog of N confirmed messages, then one consumer drains it: drain msgs/s;
 *   - W5 window 1 (one publish awaiting its confirm at a time): msgs/s, confirm latency.
 * Every workload checks its counts: all N confirmed; where the system tells its queue depth, N
 * messages held after publishing; every index seen by the consumer, every body whole.
 */
import { nowMs, percentile, runWindowed, waitUntil } from '../common/measure.js';
import { encodePayload } from './payload.js';
import { Tally } from './tally.js';
import { PUBLISH_WINDOW, type BenchQueue } from './target.js';

export type WorkloadId = 'W1' | 'W2' | 'W3_1k' | 'W3_10k' | 'W4' | 'W5';

export const WORKLOAD_IDS: readonly WorkloadId[] = ['W1', 'W2', 'W3_1k', 'W3_10k', 'W4', 'W5'];

/** Open-loop rates of W3, msgs/s. */
export const W3_RATES: Readonly<Record<'W3_1k' | 'W3_10k', number>> = { W3_1k: 1_000, W3_10k: 10_000 };
/** Publishes an open-loop sender lets wait for confirmation before it stops sending (a stuck system). */
export const OPEN_LOOP_MAX_IN_FLIGHT = 20_000;
/** The open-loop sender's tick: it sends everything due, then sleeps this long. */
const OPEN_LOOP_TICK_MS = 1;

export interface WorkloadSpec {
  readonly id: WorkloadId;
  /** Messages of the measured run. */
  readonly messages: number;
}

export type LatencyKind = 'confirm' | 'e2e';

export interface WorkloadMeasure {
  readonly id: WorkloadId;
  readonly messages: number;
  readonly window: number | null;
  /** The workload's throughput: confirmed (W1, W5), consumed (W2, W3) or drained (W4) msgs/s. */
  readonly msgsPerSecond: number;
  /** Confirmed msgs/s of the publishing (W2, W3, W4). */
  readonly pubMsgsPerSecond: number | null;
  readonly latency: LatencyKind | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly p999Ms: number | null;
  readonly consumed: number | null;
  readonly deliveries: number | null;
}

export interface WorkloadEnv {
  readonly bodyBytes: number;
  /** How long a consumer may take, after the publishing, to see every message. */
  readonly consumeTimeoutMs: number;
}

function latencies(
  kind: LatencyKind,
  values: Float64Array,
): Pick<WorkloadMeasure, 'latency' | 'p50Ms' | 'p99Ms' | 'p999Ms'> {
  return {
    latency: kind,
    p50Ms: percentile(values, 50),
    p99Ms: percentile(values, 99),
    p999Ms: percentile(values, 99.9),
  };
}

const NO_LATENCY = { latency: null, p50Ms: null, p99Ms: null, p999Ms: null } as const;

async function publishWindowed(queue: BenchQueue, env: WorkloadEnv, count: number, window: number) {
  return runWindowed(count, window, (i) => queue.publish(encodePayload(i, nowMs(), env.bodyBytes)));
}

async function expectDepth(queue: BenchQueue, expected: number): Promise<void> {
  const depth = await queue.depth();
  if (depth !== undefined && depth !== expected) {
    throw new Error(`the queue holds ${depth} messages after ${expected} confirmed publishes`);
  }
}

async function drained(tally: Tally, env: WorkloadEnv): Promise<void> {
  await waitUntil(
    () => tally.describe(),
    () => tally.complete,
    env.consumeTimeoutMs,
  );
  if (tally.foreign > 0)
    throw new Error(`the consumer got bodies that are not the bench's: ${tally.describe()}`);
}

/** Sends `count` messages at `rate`/s from `startAt`, each stamped with its scheduled time. */
async function publishOpenLoop(queue: BenchQueue, env: WorkloadEnv, count: number, rate: number) {
  const intervalMs = 1000 / rate;
  const startAt = nowMs() + OPEN_LOOP_TICK_MS;
  let next = 0;
  let inFlight = 0;
  let confirmed = 0;
  let failure: unknown;
  let lastConfirmAt = startAt;
  while (next < count) {
    if (failure !== undefined) throw failure;
    const now = nowMs();
    while (next < count && startAt + next * intervalMs <= now && inFlight < OPEN_LOOP_MAX_IN_FLIGHT) {
      const scheduledAt = startAt + next * intervalMs;
      inFlight++;
      queue.publish(encodePayload(next, scheduledAt, env.bodyBytes)).then(
        () => {
          inFlight--;
          confirmed++;
          lastConfirmAt = nowMs();
        },
        (err: unknown) => (failure ??= err),
      );
      next++;
    }
    await new Promise((resolve) => setTimeout(resolve, OPEN_LOOP_TICK_MS));
  }
  await waitUntil(
    () => `${count} confirms (${confirmed} so far)`,
    () => confirmed === count || failure !== undefined,
    env.consumeTimeoutMs,
  );
  if (failure !== undefined) throw failure;
  return { startedAt: startAt, endedAt: lastConfirmAt };
}

type WorkloadBase = Pick<WorkloadMeasure, 'id' | 'messages'>;

/** W1, W5: publishes with `window` sends outstanding; measured by confirms, then the depth checked. */
async function confirmedPublishing(
  queue: BenchQueue,
  env: WorkloadEnv,
  base: WorkloadBase,
  window: number,
): Promise<WorkloadMeasure> {
  const run = await publishWindowed(queue, env, base.messages, window);
  await expectDepth(queue, base.messages);
  return {
    ...base,
    window,
    msgsPerSecond: base.messages / ((run.endedAt - run.startedAt) / 1000),
    pubMsgsPerSecond: null,
    ...latencies('confirm', run.latenciesMs),
    consumed: null,
    deliveries: null,
  };
}

/** W2, W3: `publish` runs while a consumer tallies; measured until every message was consumed. */
async function consumedWhilePublishing(
  queue: BenchQueue,
  env: WorkloadEnv,
  base: WorkloadBase,
  window: number | null,
  publish: () => Promise<{ readonly startedAt: number; readonly endedAt: number }>,
): Promise<WorkloadMeasure> {
  const n = base.messages;
  const tally = new Tally(n, env.bodyBytes);
  await queue.consume(tally.onBody);
  const run = await publish();
  await drained(tally, env);
  await queue.stopConsuming();
  return {
    ...base,
    window,
    msgsPerSecond: n / ((tally.lastAt - run.startedAt) / 1000),
    pubMsgsPerSecond: n / ((run.endedAt - run.startedAt) / 1000),
    ...latencies('e2e', tally.latenciesMs),
    consumed: tally.distinct,
    deliveries: tally.deliveries,
  };
}

export async function runWorkload(
  queue: BenchQueue,
  spec: WorkloadSpec,
  env: WorkloadEnv,
): Promise<WorkloadMeasure> {
  const n = spec.messages;
  const base: WorkloadBase = { id: spec.id, messages: n };
  switch (spec.id) {
    case 'W1':
      return confirmedPublishing(queue, env, base, PUBLISH_WINDOW);
    case 'W5':
      return confirmedPublishing(queue, env, base, 1);
    case 'W2':
      return consumedWhilePublishing(queue, env, base, PUBLISH_WINDOW, () =>
        publishWindowed(queue, env, n, PUBLISH_WINDOW),
      );
    case 'W3_1k':
    case 'W3_10k': {
      const rate = W3_RATES[spec.id];
      return consumedWhilePublishing(queue, env, base, null, () => publishOpenLoop(queue, env, n, rate));
    }
    case 'W4': {
      const run = await publishWindowed(queue, env, n, PUBLISH_WINDOW);
      await expectDepth(queue, n);
      const tally = new Tally(n, env.bodyBytes);
      await queue.consume(tally.onBody);
      await drained(tally, env);
      await queue.stopConsuming();
      // From the first delivery to the last: the drain itself, not the consumer's start-up.
      const drainMs = tally.lastAt - tally.firstAt;
      return {
        ...base,
        window: PUBLISH_WINDOW,
        msgsPerSecond: n > 1 && drainMs > 0 ? (n - 1) / (drainMs / 1000) : Number.NaN,
        pubMsgsPerSecond: n / ((run.endedAt - run.startedAt) / 1000),
        ...NO_LATENCY,
        consumed: tally.distinct,
        deliveries: tally.deliveries,
      };
    }
  }
}

/** Publishes and consumes `count` messages through a queue that is then removed (JIT, connections, caches). */
export async function warmUp(queue: BenchQueue, env: WorkloadEnv, count: number): Promise<void> {
  if (count <= 0) return;
  const tally = new Tally(count, env.bodyBytes);
  await queue.consume(tally.onBody);
  await publishWindowed(queue, env, count, PUBLISH_WINDOW);
  await drained(tally, env);
  await queue.stopConsuming();
}

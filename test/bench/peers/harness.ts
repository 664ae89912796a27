/**
 * The peer bench's run: prepares the systems, then for each round measures the machine's
 * baselines and runs every ready system (interleaved, the order rotated each round), each in a
 * bench child of its own running all workloads on fresh queues. Returns every sample; report.ts
 * turns them into the table, the BENCH lines and the chart.
 */
import { loadavg, availableParallelism } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nodeArgsOf, runMarkedChild } from '../common/child-process.js';
import { measurePhys, PHYS_MODES, type PhysMode, type PhysResult } from './phys.js';
import { runNestCase, type NestMeasure, type NestSide } from './nest-case.js';
import { sampleProc, usageBetween, type ProcUsage } from './proc-stats.js';
import { startBrokerProcess, type BrokerProcess } from '../common/broker-process.js';
import {
  prepareSystems,
  SYSTEMS,
  type PeerAddresses,
  type ReadySystem,
  type SkippedSystem,
  type SystemId,
} from './systems.js';
import { SYSTEM_RUN_MARKER, type SystemRunInput, type SystemRunOutput } from './system-run.js';
import {
  W3_RATES,
  WORKLOAD_IDS,
  type WorkloadId,
  type WorkloadMeasure,
  type WorkloadSpec,
} from './workloads.js';

export const DEFAULT_MESSAGES = 100_000;
export const DEFAULT_ROUNDS = 3;
export const BODY_BYTES = 1024;
/** PERFORMANCE.md (c): each system discards 10k warm-up messages (fewer for small runs). */
export const MAX_WARMUP_MESSAGES = 10_000;
/** W3 runs this long at its rate, unless BENCH_MESSAGES is smaller. */
export const DEFAULT_W3_SECONDS = 30;
/** W5 (window 1) sends at most this many: one round trip each, it would take minutes at 100k. */
export const DEFAULT_W5_MESSAGES = 10_000;

export interface BenchConfig {
  readonly messages: number;
  readonly rounds: number;
  readonly w3Seconds: number;
  readonly w5Messages: number;
  readonly workloads: readonly WorkloadId[];
  /** The Nest-level case (BENCH_WORKLOADS includes NEST, or is not set). */
  readonly nest: boolean;
  readonly systems: ReadonlySet<SystemId>;
  readonly peers: PeerAddresses;
  /** Scratch space of the run (broker data dirs, ceilings' files); default the OS temp dir. */
  readonly scratchDir: string;
  readonly oursVersion: string;
  readonly log: (line: string) => void;
}

export interface Sample {
  readonly round: number;
  readonly measure: WorkloadMeasure;
  readonly broker?: ProcUsage;
}

export interface NestSample {
  readonly round: number;
  readonly measure: NestMeasure;
  readonly broker?: ProcUsage;
}

export interface Failure {
  readonly system: SystemId | `nest-${NestSide}`;
  readonly workload: WorkloadId | 'all';
  readonly round: number;
  readonly error: string;
}

export interface BenchRun {
  readonly config: Omit<BenchConfig, 'log' | 'systems'>;
  readonly startedAt: string;
  readonly nproc: number;
  readonly loadavgBefore: readonly number[];
  readonly loadavgAfter: readonly number[];
  readonly ready: ReadonlyArray<Omit<ReadySystem, 'beginRound' | 'dispose'>>;
  readonly skipped: readonly SkippedSystem[];
  readonly specs: readonly WorkloadSpec[];
  /** `${system}|${workload}` → one sample per round that succeeded. */
  readonly samples: ReadonlyMap<string, readonly Sample[]>;
  readonly phys: ReadonlyMap<PhysMode, readonly PhysResult[]>;
  readonly failures: readonly Failure[];
  /** Nest level, by side; empty when the case was not run. */
  readonly nestSamples: ReadonlyMap<NestSide, readonly NestSample[]>;
  /** Why Nest's RMQ side did not run (no RabbitMQ), if it did not. */
  readonly nestSkipped: string | null;
}

/** BENCH_WORKLOADS name of the Nest-level case. */
export const NEST_WORKLOAD = 'NEST';

export const sampleKey = (system: SystemId, workload: WorkloadId): string => `${system}|${workload}`;

function envInt(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${text}`);
  return value;
}

function envList<T extends string>(env: NodeJS.ProcessEnv, name: string, all: readonly T[]): T[] {
  const text = env[name];
  if (text === undefined || text === '') return [...all];
  const picked = text.split(',').map((s) => s.trim());
  const unknown = picked.filter((p) => !all.includes(p as T));
  if (unknown.length > 0)
    throw new RangeError(`${name}: unknown ${unknown.join(', ')} (known: ${all.join(', ')})`);
  return picked as T[];
}

/**
 * The run's settings from the environment: BENCH_MESSAGES (100000), BENCH_ROUNDS (3),
 * BENCH_W3_SECONDS (30), BENCH_W5_MESSAGES (10000), BENCH_WORKLOADS (W1 W2 W3_1k W3_10k W4 W5
 * NEST) and BENCH_SYSTEMS (comma lists, default all), BENCH_RABBIT_URL, BENCH_NATS_SERVERS,
 * BENCH_DIR (scratch), BENCH_CACHE_DIR (kept between runs: `.cache`) and BENCH_NATS_DOWNLOAD (`0`: do
 * not fetch a nats-server ≥ 2.10 for the D1 JetStream when this machine's is older).
 */
export function configFromEnv(
  env: NodeJS.ProcessEnv,
  oursVersion: string,
  log: (line: string) => void,
): BenchConfig {
  const workloads = envList(env, 'BENCH_WORKLOADS', [...WORKLOAD_IDS, NEST_WORKLOAD]);
  return {
    messages: envInt(env, 'BENCH_MESSAGES', DEFAULT_MESSAGES),
    rounds: envInt(env, 'BENCH_ROUNDS', DEFAULT_ROUNDS),
    w3Seconds: envInt(env, 'BENCH_W3_SECONDS', DEFAULT_W3_SECONDS),
    w5Messages: envInt(env, 'BENCH_W5_MESSAGES', DEFAULT_W5_MESSAGES),
    workloads: workloads.filter((w): w is WorkloadId => w !== NEST_WORKLOAD),
    nest: workloads.includes(NEST_WORKLOAD),
    systems: new Set(
      envList(
        env,
        'BENCH_SYSTEMS',
        SYSTEMS.map((s) => s.id),
      ),
    ),
    peers: {
      rabbitUrl: env.BENCH_RABBIT_URL ?? 'amqp://guest:guest@127.0.0.1:5672',
      natsServers: env.BENCH_NATS_SERVERS ?? '127.0.0.1:4222',
      ...(env.BENCH_NATS_DOWNLOAD === '0'
        ? {}
        : { natsDownloadDir: env.BENCH_CACHE_DIR ?? join(process.cwd(), '.cache') }),
    },
    scratchDir: env.BENCH_DIR ?? tmpdir(),
    oursVersion,
    log,
  };
}

/** The workloads' message counts for a run of `messages`. */
export function workloadSpecs(
  config: Pick<BenchConfig, 'messages' | 'w3Seconds' | 'w5Messages' | 'workloads'>,
): WorkloadSpec[] {
  return config.workloads.map((id) => {
    switch (id) {
      case 'W3_1k':
      case 'W3_10k':
        return { id, messages: Math.min(config.messages, W3_RATES[id] * config.w3Seconds) };
      case 'W5':
        return { id, messages: Math.min(config.messages, config.w5Messages) };
      default:
        return { id, messages: config.messages };
    }
  });
}

/** How long one system's child may run: its consumers' bound per workload, and then some. */
function childTimeoutMs(consumeTimeoutMs: number, specs: readonly WorkloadSpec[]): number {
  return consumeTimeoutMs * (specs.length + 2);
}

export async function runBench(config: BenchConfig): Promise<BenchRun> {
  const startedAt = new Date().toISOString();
  const root = mkdtempSync(join(config.scratchDir, 'rocketnest-peer-bench-'));
  const specs = workloadSpecs(config);
  const warmupMessages = Math.min(MAX_WARMUP_MESSAGES, Math.ceil(config.messages / 10));
  // The slowest class (fsync per message, a few thousand/s) must still finish, on a shared machine.
  const consumeTimeoutMs = Math.max(120_000, config.messages * 10);
  const { log } = config;
  const loadavgBefore = loadavg();
  const samples = new Map<string, Sample[]>();
  const phys = new Map<PhysMode, PhysResult[]>(PHYS_MODES.map((m) => [m, []]));
  const failures: Failure[] = [];
  const nestSamples = new Map<NestSide, NestSample[]>();
  const { ready, skipped } = await prepareSystems(root, config.peers, config.systems, config.oursVersion);
  for (const s of ready) log(`ready    ${s.id.padEnd(15)} ${s.label} ${s.version}: ${s.notes.join('; ')}`);
  for (const s of skipped) log(`SKIPPED  ${s.id.padEnd(15)} ${s.reason}`);
  // Nest's RMQ transport runs on the RabbitMQ the RabbitMQ systems found (a durable classic queue: D0).
  const rabbitReady = ready.find((s) => s.family === 'rabbit');
  const rabbitForNest = rabbitReady
    ? { url: config.peers.rabbitUrl, pid: (await rabbitReady.beginRound()).brokerPid }
    : undefined;
  const nestSkipped =
    !config.nest || rabbitForNest
      ? null
      : (skipped.find((s) => s.family === 'rabbit')?.reason ?? 'RabbitMQ not among BENCH_SYSTEMS');
  if (nestSkipped) log(`SKIPPED  nest-rmq         ${nestSkipped}`);
  try {
    for (let round = 1; round <= config.rounds; round++) {
      for (const mode of PHYS_MODES) {
        try {
          const r = await measurePhys(mode, { root, messages: config.messages });
          phys.get(mode)!.push(r);
          log(
            `round ${round} phys ${mode.padEnd(13)} ${Math.round(r.perSecond).toLocaleString()}/s${r.p50Ms === undefined ? '' : ` p50 ${r.p50Ms.toFixed(3)} ms`}`,
          );
        } catch (err) {
          log(`round ${round} phys ${mode} FAILED: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
      // Interleaved (A B C, then B C A, …): no system always runs first on a cold machine or last on a hot one.
      const order = ready.map((_, i) => ready[(i + round - 1) % ready.length]!);
      for (const system of order) {
        await runSystemRound(system, round, {
          root,
          specs,
          warmupMessages,
          consumeTimeoutMs,
          samples,
          failures,
          log,
        });
      }
      if (config.nest) {
        const sides: NestSide[] = rabbitForNest ? ['ours', 'rmq'] : ['ours'];
        if (round % 2 === 0) sides.reverse();
        for (const side of sides) {
          await runNestRound(side, round, {
            root,
            config,
            rabbit: rabbitForNest,
            warmupMessages,
            consumeTimeoutMs,
            nestSamples,
            failures,
          });
        }
      }
    }
  } finally {
    for (const s of ready) await s.dispose().catch(() => undefined);
    rmSync(root, { recursive: true, force: true });
  }
  return {
    config: {
      messages: config.messages,
      rounds: config.rounds,
      w3Seconds: config.w3Seconds,
      w5Messages: config.w5Messages,
      workloads: config.workloads,
      nest: config.nest,
      peers: config.peers,
      scratchDir: config.scratchDir,
      oursVersion: config.oursVersion,
    },
    startedAt,
    nproc: availableParallelism(),
    loadavgBefore,
    loadavgAfter: loadavg(),
    ready: ready.map(({ beginRound: _b, dispose: _d, ...rest }) => rest),
    skipped,
    specs,
    samples,
    phys,
    failures,
    nestSamples,
    nestSkipped,
  };
}

interface NestRoundContext {
  readonly root: string;
  readonly config: BenchConfig;
  readonly rabbit: { readonly url: string; readonly pid: number | null } | undefined;
  readonly warmupMessages: number;
  readonly consumeTimeoutMs: number;
  readonly nestSamples: Map<NestSide, NestSample[]>;
  readonly failures: Failure[];
}

/** One side of the Nest-level case: ours on a fresh async-flush broker, or Nest's RMQ transport. */
async function runNestRound(side: NestSide, round: number, ctx: NestRoundContext): Promise<void> {
  const { log } = ctx.config;
  let broker: BrokerProcess | undefined;
  try {
    if (side === 'ours') broker = await startBrokerProcess({ root: ctx.root, flush: 'async' });
    const address = broker ? broker.endpoint : ctx.rabbit!.url;
    const pid = broker ? broker.pid : ctx.rabbit!.pid;
    const before = pid === null ? undefined : sampleProc(pid);
    const brokerGone = new AbortController();
    void broker?.died.then((why) => brokerGone.abort(new Error(why)));
    const measure = await runNestCase(
      {
        side,
        address,
        name: `bench_${process.pid}_${round}_nest_${side}`,
        messages: ctx.config.messages,
        warmupMessages: ctx.warmupMessages,
        consumeTimeoutMs: ctx.consumeTimeoutMs,
      },
      ctx.consumeTimeoutMs * 3,
      brokerGone.signal,
    );
    const usage = usageBetween(before, pid === null ? undefined : sampleProc(pid));
    const list = ctx.nestSamples.get(side) ?? [];
    list.push({ round, measure, ...(usage ? { broker: usage } : {}) });
    ctx.nestSamples.set(side, list);
    log(
      `round ${round} nest-${side.padEnd(11)} NEST    ${Math.round(measure.msgsPerSecond).toLocaleString().padStart(9)} msg/s` +
        `  e2e p50 ${measure.p50Ms.toFixed(2)} p99 ${measure.p99Ms.toFixed(2)} ms` +
        (usage ? `  broker cpu ${usage.cpuSeconds.toFixed(2)} s rss ${usage.rssMb.toFixed(0)} MB` : ''),
    );
  } catch (err) {
    const error = err instanceof Error ? err.message : String(err);
    ctx.failures.push({ system: `nest-${side}`, workload: 'all', round, error });
    log(`round ${round} nest-${side} FAILED: ${error}`);
  } finally {
    await broker?.stop();
  }
}

interface RoundContext {
  readonly root: string;
  readonly specs: readonly WorkloadSpec[];
  readonly warmupMessages: number;
  readonly consumeTimeoutMs: number;
  readonly samples: Map<string, Sample[]>;
  readonly failures: Failure[];
  readonly log: (line: string) => void;
}

async function runSystemRound(system: ReadySystem, round: number, ctx: RoundContext): Promise<void> {
  const started = Date.now();
  let session;
  try {
    session = await system.beginRound();
  } catch (err) {
    ctx.failures.push({ system: system.id, workload: 'all', round, error: String(err) });
    ctx.log(`round ${round} ${system.id} could not start: ${String(err)}`);
    return;
  }
  try {
    const input: SystemRunInput = {
      target: session.target,
      brokerPid: session.brokerPid,
      queuePrefix: `bench_${process.pid}_${round}_${system.id.replace('-', '_')}`,
      bodyBytes: BODY_BYTES,
      warmupMessages: ctx.warmupMessages,
      workloads: ctx.specs,
      consumeTimeoutMs: ctx.consumeTimeoutMs,
    };
    // A broker that dies mid-run fails the round at once, with its output, instead of at the timeouts.
    const brokerGone = new AbortController();
    void session.died?.then((why) => brokerGone.abort(new Error(why)));
    const output = await runMarkedChild<SystemRunOutput>({
      args: [...nodeArgsOf(import.meta.url, './system-child'), JSON.stringify(input)],
      marker: SYSTEM_RUN_MARKER,
      timeoutMs: childTimeoutMs(ctx.consumeTimeoutMs, ctx.specs),
      label: `${system.id} round ${round}`,
      signal: brokerGone.signal,
    });
    for (const outcome of output.outcomes) {
      const key = sampleKey(system.id, outcome.spec.id);
      if (outcome.measure) {
        const list = ctx.samples.get(key) ?? [];
        list.push({ round, measure: outcome.measure, ...(outcome.broker ? { broker: outcome.broker } : {}) });
        ctx.samples.set(key, list);
        const m = outcome.measure;
        ctx.log(
          `round ${round} ${system.id.padEnd(15)} ${m.id.padEnd(7)} ${Math.round(m.msgsPerSecond).toLocaleString().padStart(9)} msg/s` +
            (m.p99Ms === null
              ? ''
              : `  ${m.latency} p50 ${m.p50Ms!.toFixed(2)} p99 ${m.p99Ms.toFixed(2)} ms`) +
            (outcome.broker
              ? `  broker cpu ${outcome.broker.cpuSeconds.toFixed(2)} s rss ${outcome.broker.rssMb.toFixed(0)} MB`
              : ''),
        );
      } else {
        ctx.failures.push({
          system: system.id,
          workload: outcome.spec.id,
          round,
          error: outcome.error ?? 'no result',
        });
        ctx.log(`round ${round} ${system.id} ${outcome.spec.id} FAILED: ${outcome.error}`);
      }
    }
  } catch (err) {
    ctx.failures.push({
      system: system.id,
      workload: 'all',
      round,
      error: err instanceof Error ? err.message : String(err),
    });
    ctx.log(`round ${round} ${system.id} FAILED: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    await session.end().catch(() => undefined);
  }
  ctx.log(`round ${round} ${system.id} done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

/**
 * From a run's samples to what a reader compares: per system and workload the median with min and
 * max over the rounds, latency percentiles (medians over rounds), broker CPU seconds and RSS; ours
 * against each peer of the same durability class (throughput: ours / theirs; latency: theirs /
 * ours; above 1 = ours is better); ours against the machine's baselines; the issue's goals.
 */
import { median } from '../common/measure.js';
import { sampleKey, type BenchRun, type Sample } from './harness.js';
import { type NestSide } from './nest-case.js';
import { type PhysMode } from './phys.js';
import { type Durability, type SystemDescription, type SystemId } from './systems.js';
import { type WorkloadId } from './workloads.js';

/** What each workload is compared by. */
export const WORKLOAD_METRIC: Readonly<
  Record<WorkloadId, { kind: 'throughput' | 'latency'; title: string }>
> = {
  W1: { kind: 'throughput', title: 'W1 publish, window 256 (confirmed msg/s)' },
  W2: { kind: 'throughput', title: 'W2 publish + consume (e2e msg/s)' },
  W3_1k: { kind: 'latency', title: 'W3 open loop 1k/s (e2e p99 ms)' },
  W3_10k: { kind: 'latency', title: 'W3 open loop 10k/s (e2e p99 ms)' },
  W4: { kind: 'throughput', title: 'W4 backlog drain (msg/s)' },
  W5: { kind: 'throughput', title: 'W5 window 1 (confirmed msg/s)' },
};

export interface Stat {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

export interface ResultRow {
  readonly system: SystemDescription & { readonly version: string };
  readonly workload: WorkloadId;
  readonly messages: number;
  readonly window: number | null;
  readonly rounds: number;
  readonly msgsPerSecond: Stat | null;
  readonly pubMsgsPerSecond: number | null;
  readonly latency: string | null;
  readonly p50Ms: number | null;
  /** Over rounds: median, min, max of each round's p99. */
  readonly p99Ms: Stat | null;
  readonly p999Ms: number | null;
  readonly cpuSeconds: number | null;
  readonly rssMb: number | null;
  readonly failures: readonly string[];
}

export interface Comparison {
  readonly workload: WorkloadId;
  readonly durability: Durability;
  readonly ours: ResultRow;
  readonly peer: ResultRow;
  /** ours / theirs (throughput) or theirs / ours (p99 latency); null when either side has no result. */
  readonly ratio: number | null;
}

export interface Efficiency {
  readonly name: string;
  readonly ours: number | null;
  readonly baseline: number | null;
  readonly ratio: number | null;
  readonly what: string;
}

export interface Goal {
  readonly goal: string;
  readonly value: number | null;
  readonly met: boolean | null;
}

export interface NestRow {
  readonly side: NestSide;
  readonly label: string;
  readonly messages: number;
  readonly rounds: number;
  readonly msgsPerSecond: Stat | null;
  readonly p50Ms: number | null;
  readonly p99Ms: number | null;
  readonly cpuSeconds: number | null;
  readonly rssMb: number | null;
  readonly failures: readonly string[];
}

export const NEST_LABELS: Readonly<Record<NestSide, string>> = {
  ours: 'ours: @RocketListener (RocketMQModule), RocketTemplate.send',
  rmq: "Nest's Transport.RMQ: @EventPattern, noAck: false, ClientRMQ.emit",
};

export interface BenchReport {
  readonly rows: readonly ResultRow[];
  readonly comparisons: readonly Comparison[];
  readonly efficiencies: readonly Efficiency[];
  readonly goals: readonly Goal[];
  readonly phys: ReadonlyMap<PhysMode, Stat & { p50Ms: number | null }>;
  /** Nest level: ours, Nest's RMQ (when run), and ours / theirs in msg/s. */
  readonly nest: { readonly rows: readonly NestRow[]; readonly ratio: number | null } | null;
}

function stat(values: readonly number[]): Stat | null {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return null;
  return { median: median(finite), min: Math.min(...finite), max: Math.max(...finite) };
}

function medianOrNull(values: ReadonlyArray<number | null | undefined>): number | null {
  const finite = values.filter((v): v is number => typeof v === 'number' && Number.isFinite(v));
  return finite.length === 0 ? null : median(finite);
}

function rowOf(
  run: BenchRun,
  system: SystemDescription & { version: string },
  workload: WorkloadId,
): ResultRow {
  const samples: readonly Sample[] = run.samples.get(sampleKey(system.id, workload)) ?? [];
  const spec = run.specs.find((s) => s.id === workload)!;
  const m = samples.map((s) => s.measure);
  return {
    system,
    workload,
    messages: spec.messages,
    window: m[0]?.window ?? null,
    rounds: samples.length,
    msgsPerSecond: stat(m.map((x) => x.msgsPerSecond)),
    pubMsgsPerSecond: medianOrNull(m.map((x) => x.pubMsgsPerSecond)),
    latency: m[0]?.latency ?? null,
    p50Ms: medianOrNull(m.map((x) => x.p50Ms)),
    p99Ms: stat(m.map((x) => x.p99Ms ?? Number.NaN)),
    p999Ms: medianOrNull(m.map((x) => x.p999Ms)),
    cpuSeconds: medianOrNull(samples.map((s) => s.broker?.cpuSeconds)),
    rssMb: medianOrNull(samples.map((s) => s.broker?.rssMb)),
    failures: run.failures
      .filter((f) => f.system === system.id && (f.workload === workload || f.workload === 'all'))
      .map((f) => `round ${f.round}: ${f.error.split('\n')[0]}`),
  };
}

function ratioOf(workload: WorkloadId, ours: ResultRow, peer: ResultRow): number | null {
  if (WORKLOAD_METRIC[workload].kind === 'latency') {
    return ours.p99Ms && peer.p99Ms ? peer.p99Ms.median / ours.p99Ms.median : null;
  }
  return ours.msgsPerSecond && peer.msgsPerSecond
    ? ours.msgsPerSecond.median / peer.msgsPerSecond.median
    : null;
}

const divide = (a: number | null | undefined, b: number | null | undefined): number | null =>
  a === null || a === undefined || b === null || b === undefined || b === 0 ? null : a / b;

export function buildReport(run: BenchRun): BenchReport {
  const rows: ResultRow[] = [];
  for (const workload of run.config.workloads) {
    for (const system of run.ready) rows.push(rowOf(run, system, workload));
  }
  const find = (id: SystemId, workload: WorkloadId): ResultRow | undefined =>
    rows.find((r) => r.system.id === id && r.workload === workload);

  const comparisons: Comparison[] = [];
  for (const workload of run.config.workloads) {
    for (const durability of ['D0', 'D1'] as const) {
      const ours = find(durability === 'D0' ? 'ours-d0' : 'ours-d1', workload);
      if (!ours) continue;
      for (const peer of rows.filter(
        (r) => r.workload === workload && r.system.durability === durability && r.system.family !== 'ours',
      )) {
        comparisons.push({ workload, durability, ours, peer, ratio: ratioOf(workload, ours, peer) });
      }
    }
  }

  const phys = new Map<PhysMode, Stat & { p50Ms: number | null }>();
  for (const [mode, results] of run.phys) {
    const s = stat(results.map((r) => r.perSecond));
    if (s) phys.set(mode, { ...s, p50Ms: medianOrNull(results.map((r) => r.p50Ms)) });
  }
  const oursRate = (id: SystemId, w: WorkloadId): number | null => find(id, w)?.msgsPerSecond?.median ?? null;
  const efficiencies: Efficiency[] = [
    {
      name: 'D1 W1 vs group-commit ceiling',
      ours: oursRate('ours-d1', 'W1'),
      baseline: phys.get('group-commit')?.median ?? null,
      ratio: divide(oursRate('ours-d1', 'W1'), phys.get('group-commit')?.median),
      what: 'ours (sync flush) confirmed msg/s ÷ 64 appenders with writeSync + one in-flight fdatasync',
    },
    {
      name: 'D0 W1 vs pipelined loopback TCP',
      ours: oursRate('ours-d0', 'W1'),
      baseline: phys.get('tcp')?.median ?? null,
      ratio: divide(oursRate('ours-d0', 'W1'), phys.get('tcp')?.median),
      what: 'ours (async flush) confirmed msg/s ÷ 1 KiB requests acked over one TCP connection, window 256',
    },
    {
      name: 'D1 W5 latency vs one fdatasync',
      ours: find('ours-d1', 'W5')?.p50Ms ?? null,
      baseline: phys.get('fdatasync')?.p50Ms ?? null,
      ratio: divide(phys.get('fdatasync')?.p50Ms, find('ours-d1', 'W5')?.p50Ms),
      what: 'fdatasync p50 ÷ ours (sync flush) confirm p50 at window 1',
    },
  ];

  const nest = run.config.nest ? nestReport(run) : null;
  const cmp = (workload: WorkloadId, peer: SystemId): number | null =>
    comparisons.find((c) => c.workload === workload && c.peer.system.id === peer)?.ratio ?? null;
  const p99 = (id: SystemId, w: WorkloadId): number | null => find(id, w)?.p99Ms?.median ?? null;
  const atLeast = (goal: string, value: number | null, bound: number): Goal => ({
    goal,
    value,
    met: value === null ? null : value >= bound,
  });
  const atMost = (goal: string, value: number | null, bound: number): Goal => ({
    goal,
    value,
    met: value === null ? null : value <= bound,
  });
  const goals: Goal[] = [
    atLeast('D0 publish (W1) ≥ 2× RabbitMQ classic', cmp('W1', 'rabbit-classic'), 2),
    atLeast('D0 publish (W1) ≥ 1× JetStream', cmp('W1', 'js-d0'), 1),
    atLeast('D0 publish + consume (W2) ≥ 2× RabbitMQ classic', cmp('W2', 'rabbit-classic'), 2),
    atLeast('D1 publish (W1) ≥ 0.5× group-commit ceiling', efficiencies[0]!.ratio, 0.5),
    atMost('D0 p99 ≤ 5 ms at 1k/s (W3), ms', p99('ours-d0', 'W3_1k'), 5),
    atMost('D0 p99 ≤ 10 ms at 10k/s (W3), ms', p99('ours-d0', 'W3_10k'), 10),
    atMost('D1 p99 ≤ 5 ms at 1k/s (W3), ms', p99('ours-d1', 'W3_1k'), 5),
    atMost('D1 p99 ≤ 10 ms at 10k/s (W3), ms', p99('ours-d1', 'W3_10k'), 10),
  ];
  if (nest) goals.push(atLeast("Nest level ≥ 2× Nest's RMQ transport", nest.ratio, 2));
  return { rows, comparisons, efficiencies, goals, phys, nest };
}

function nestReport(run: BenchRun): NonNullable<BenchReport['nest']> {
  const sides: NestSide[] = run.nestSkipped === null ? ['ours', 'rmq'] : ['ours'];
  const rows = sides.map((side): NestRow => {
    const samples = run.nestSamples.get(side) ?? [];
    return {
      side,
      label: NEST_LABELS[side],
      messages: run.config.messages,
      rounds: samples.length,
      msgsPerSecond: stat(samples.map((s) => s.measure.msgsPerSecond)),
      p50Ms: medianOrNull(samples.map((s) => s.measure.p50Ms)),
      p99Ms: medianOrNull(samples.map((s) => s.measure.p99Ms)),
      cpuSeconds: medianOrNull(samples.map((s) => s.broker?.cpuSeconds)),
      rssMb: medianOrNull(samples.map((s) => s.broker?.rssMb)),
      failures: run.failures
        .filter((f) => f.system === `nest-${side}`)
        .map((f) => `round ${f.round}: ${f.error.split('\n')[0]}`),
    };
  });
  const ours = rows.find((r) => r.side === 'ours')?.msgsPerSecond?.median;
  const theirs = rows.find((r) => r.side === 'rmq')?.msgsPerSecond?.median;
  return { rows, ratio: divide(ours, theirs) };
}

// ------------------------------------------------------------------ text

const int = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : Math.round(n).toLocaleString('en-US');
const ms = (n: number | null | undefined): string =>
  n === null || n === undefined ? '–' : n < 10 ? n.toFixed(2) : n.toFixed(1);
const ratio = (n: number | null): string => (n === null ? '–' : `${n.toFixed(2)}×`);
const range = (s: Stat | null, f: (n: number) => string): string =>
  s ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : 'failed';

function headline(row: ResultRow): string {
  return WORKLOAD_METRIC[row.workload].kind === 'latency'
    ? `${range(row.p99Ms, ms)} ms`
    : `${range(row.msgsPerSecond, int)}`;
}

export function markdownOf(run: BenchRun, report: BenchReport): string {
  const lines: string[] = [];
  const c = run.config;
  lines.push(`# Peer bench: ours vs RabbitMQ vs NATS JetStream`);
  lines.push('');
  lines.push(
    `${run.startedAt} · ${c.messages.toLocaleString('en-US')} messages of 1 KiB (W3: ${c.w3Seconds} s per rate, ` +
      `W5: ≤ ${c.w5Messages.toLocaleString('en-US')}) · ${c.rounds} round(s), systems interleaved · median (min–max) · ` +
      `nproc ${run.nproc} · loadavg ${run.loadavgBefore.map((l) => l.toFixed(2)).join(' ')} → ${run.loadavgAfter.map((l) => l.toFixed(2)).join(' ')}`,
  );
  lines.push('');
  lines.push('## Ours against each peer, within a durability class');
  lines.push('');
  lines.push('Ratio: throughput ours ÷ theirs, latency theirs ÷ ours; above 1 = ours is better.');
  lines.push('');
  lines.push('| workload | class | ours | peer | peer result | ratio |');
  lines.push('| --- | --- | ---: | --- | ---: | ---: |');
  for (const cmp of report.comparisons) {
    lines.push(
      `| ${WORKLOAD_METRIC[cmp.workload].title} | ${cmp.durability} | ${headline(cmp.ours)} | ${cmp.peer.system.label} | ${headline(cmp.peer)} | ${ratio(cmp.ratio)} |`,
    );
  }
  for (const s of run.skipped)
    lines.push(`| all | ${s.durability} | | ${s.label} | skipped: ${s.reason} | |`);
  if (report.nest) {
    lines.push('');
    lines.push('## Nest level: messages/s through a Nest handler, same RabbitMQ, same ~1 KiB JSON payloads');
    lines.push('');
    lines.push('| side | msg/s | e2e p50 / p99 ms | broker CPU s | broker RSS MB | rounds |');
    lines.push('| --- | ---: | ---: | ---: | ---: | ---: |');
    for (const r of report.nest.rows) {
      lines.push(
        `| ${r.label} | ${range(r.msgsPerSecond, int)} | ${ms(r.p50Ms)} / ${ms(r.p99Ms)} | ${r.cpuSeconds === null ? '–' : r.cpuSeconds.toFixed(2)} | ${int(r.rssMb)} | ${r.rounds}/${c.rounds} |`,
      );
    }
    if (run.nestSkipped) lines.push(`| ${NEST_LABELS.rmq} | skipped: ${run.nestSkipped} | | | | |`);
    lines.push('');
    lines.push(`Ratio ours ÷ Nest's RMQ transport: ${ratio(report.nest.ratio)}`);
  }
  lines.push('');
  lines.push('## Ours against this machine');
  lines.push('');
  lines.push('| measure | ours | baseline | ratio | what |');
  lines.push('| --- | ---: | ---: | ---: | --- |');
  for (const e of report.efficiencies) {
    const isLatency = e.name.includes('latency');
    const f = isLatency ? (n: number | null) => `${ms(n)} ms` : int;
    lines.push(`| ${e.name} | ${f(e.ours)} | ${f(e.baseline)} | ${ratio(e.ratio)} | ${e.what} |`);
  }
  const p = (mode: PhysMode): string => {
    const s = report.phys.get(mode);
    return s ? `${int(s.median)}/s (${int(s.min)}–${int(s.max)})` : 'failed';
  };
  lines.push('');
  lines.push(
    `Baselines: group commit ${p('group-commit')}; fdatasync p50 ${ms(report.phys.get('fdatasync')?.p50Ms)} ms; ` +
      `writeSync ${p('write')}; pipelined TCP ${p('tcp')}.`,
  );
  lines.push('');
  lines.push('## Goals (issue 9)');
  lines.push('');
  lines.push('| goal | value | met |');
  lines.push('| --- | ---: | --- |');
  for (const g of report.goals) {
    const value = g.goal.endsWith('ms') ? ms(g.value) : ratio(g.value);
    lines.push(`| ${g.goal} | ${value} | ${g.met === null ? 'no result' : g.met ? 'yes' : 'NO'} |`);
  }
  lines.push('');
  lines.push('## Every result');
  lines.push('');
  lines.push(
    '| workload | system | version | n | msg/s | publish msg/s | latency p50 / p99 / p99.9 ms | broker CPU s | broker RSS MB | rounds |',
  );
  lines.push('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const r of report.rows) {
    const lat = r.latency ? `${r.latency} ${ms(r.p50Ms)} / ${ms(r.p99Ms?.median)} / ${ms(r.p999Ms)}` : '–';
    const cpu = r.cpuSeconds === null ? '–' : r.cpuSeconds.toFixed(2);
    lines.push(
      `| ${r.workload} | ${r.system.label} (${r.system.durability}) | ${r.system.version} | ${int(r.messages)} | ${range(r.msgsPerSecond, int)} | ${int(r.pubMsgsPerSecond)} | ${lat} | ${cpu} | ${int(r.rssMb)} | ${r.rounds}/${c.rounds} |`,
    );
  }
  const failures = [
    ...report.rows.flatMap((r) => r.failures.map((f) => `- ${r.system.id} ${r.workload} ${f}`)),
    ...(report.nest?.rows ?? []).flatMap((r) => r.failures.map((f) => `- nest-${r.side} ${f}`)),
  ];
  if (failures.length > 0) {
    lines.push('');
    lines.push('## Failures');
    lines.push('');
    lines.push(...new Set(failures));
  }
  lines.push('');
  lines.push('## Systems');
  lines.push('');
  for (const s of run.ready)
    lines.push(`- ${s.id} (${s.durability}) ${s.label} ${s.version}: ${s.notes.join('; ')}`);
  for (const s of run.skipped) lines.push(`- ${s.id} (${s.durability}) ${s.label}: SKIPPED — ${s.reason}`);
  lines.push('');
  return lines.join('\n');
}

const round2 = (n: number | null | undefined): number | null =>
  n === null || n === undefined ? null : Number(n.toFixed(2));

/** One `BENCH {...}` line per result: every system × workload, skipped systems included. */
export function benchLinesOf(run: BenchRun, report: BenchReport): string[] {
  const common = {
    n_rounds: run.config.rounds,
    size: 1024,
    nproc: run.nproc,
    loadavg: run.loadavgBefore.map((l) => Number(l.toFixed(2))),
  };
  const lines: string[] = [];
  for (const r of report.rows) {
    const cmp = report.comparisons.find((c) => c.peer === r);
    const isOurs = r.system.family === 'ours';
    let ratio: number | null = cmp?.ratio ?? null;
    let ratioOf: string | null = cmp
      ? WORKLOAD_METRIC[r.workload].kind === 'latency'
        ? `${r.system.id}_p99/ours_p99`
        : `ours/${r.system.id}`
      : null;
    let ceiling: number | null = null;
    if (isOurs && r.workload === 'W1') {
      const e = report.efficiencies[r.system.id === 'ours-d1' ? 0 : 1]!;
      ratio = e.ratio;
      ceiling = e.baseline;
      ratioOf = r.system.id === 'ours-d1' ? 'ours/group_commit' : 'ours/tcp_pipelined';
    }
    lines.push(
      `BENCH ${JSON.stringify({
        name: `peers_${r.workload.toLowerCase()}_${r.system.durability.toLowerCase()}_${r.system.id.replace('-', '_')}`,
        system: r.system.id,
        version: r.system.version,
        workload: r.workload,
        class: r.system.durability,
        n: r.messages,
        window: r.window,
        msgs_s: r.msgsPerSecond ? Math.round(r.msgsPerSecond.median) : null,
        min: r.msgsPerSecond ? Math.round(r.msgsPerSecond.min) : null,
        max: r.msgsPerSecond ? Math.round(r.msgsPerSecond.max) : null,
        pub_msgs_s: r.pubMsgsPerSecond === null ? null : Math.round(r.pubMsgsPerSecond),
        latency: r.latency,
        p50: round2(r.p50Ms),
        p99: round2(r.p99Ms?.median),
        p999: round2(r.p999Ms),
        cpu_s: round2(r.cpuSeconds),
        rss_mb: round2(r.rssMb),
        ratio: round2(ratio),
        ratio_of: ratioOf,
        phys_ceiling: ceiling === null ? null : Math.round(ceiling),
        rounds: r.rounds,
        ...(r.failures.length > 0 ? { failures: r.failures } : {}),
        ...common,
      })}`,
    );
  }
  for (const r of report.nest?.rows ?? []) {
    lines.push(
      `BENCH ${JSON.stringify({
        name: `peers_nest_${r.side}`,
        system: r.side === 'ours' ? 'nest-rocketlistener' : 'nest-transport-rmq',
        workload: 'NEST',
        class: 'D0',
        n: r.messages,
        window: 256,
        msgs_s: r.msgsPerSecond ? Math.round(r.msgsPerSecond.median) : null,
        min: r.msgsPerSecond ? Math.round(r.msgsPerSecond.min) : null,
        max: r.msgsPerSecond ? Math.round(r.msgsPerSecond.max) : null,
        latency: 'e2e',
        p50: round2(r.p50Ms),
        p99: round2(r.p99Ms),
        cpu_s: round2(r.cpuSeconds),
        rss_mb: round2(r.rssMb),
        ratio: round2(report.nest!.ratio),
        ratio_of: 'ours/nest_rmq',
        rounds: r.rounds,
        ...(r.failures.length > 0 ? { failures: r.failures } : {}),
        ...common,
      })}`,
    );
  }
  if (run.nestSkipped) {
    lines.push(
      `BENCH ${JSON.stringify({ name: 'peers_nest_rmq', system: 'nest-transport-rmq', workload: 'NEST', class: 'D0', msgs_s: null, ratio: null, skipped: run.nestSkipped, ...common })}`,
    );
  }
  for (const s of run.skipped) {
    for (const workload of run.config.workloads) {
      lines.push(
        `BENCH ${JSON.stringify({
          name: `peers_${workload.toLowerCase()}_${s.durability.toLowerCase()}_${s.id.replace('-', '_')}`,
          system: s.id,
          workload,
          class: s.durability,
          msgs_s: null,
          ratio: null,
          skipped: s.reason,
          ...common,
        })}`,
      );
    }
  }
  return lines;
}

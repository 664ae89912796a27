import { sampleKey, type BenchRun, type NestSample, type Sample } from './harness.js';
import { type NestSide } from './nest-case.js';
import { benchLinesOf, buildReport, markdownOf } from './report.js';
import { chartOf } from './chart.js';
import { SYSTEMS, type SystemId } from './systems.js';
import { type WorkloadId, type WorkloadMeasure } from './workloads.js';

function sample(round: number, id: WorkloadId, msgsPerSecond: number, p99Ms: number): Sample {
  const measure: WorkloadMeasure = {
    id,
    messages: 1000,
    window: 256,
    msgsPerSecond,
    pubMsgsPerSecond: null,
    latency: 'e2e',
    p50Ms: p99Ms / 2,
    p99Ms,
    p999Ms: p99Ms,
    consumed: 1000,
    deliveries: 1000,
  };
  return { round, measure, broker: { cpuSeconds: 1, rssMb: 100, peakRssMb: 120 } };
}

function nestSample(side: NestSide, msgsPerSecond: number): NestSample {
  return {
    round: 1,
    measure: {
      side,
      messages: 1000,
      msgsPerSecond,
      pubMsgsPerSecond: msgsPerSecond,
      p50Ms: 1,
      p99Ms: 2,
      consumed: 1000,
      deliveries: 1000,
    },
  };
}

/** ours-d0 does 3 rounds at 100/200/300 msg/s (p99 2 ms), RabbitMQ classic 100 (p99 8 ms), ours-d1 50. */
function fakeRun(): BenchRun {
  const ready = (['ours-d0', 'rabbit-classic', 'ours-d1'] as SystemId[]).map((id) => ({
    ...SYSTEMS.find((s) => s.id === id)!,
    version: 'x',
    notes: [],
  }));
  const samples = new Map<string, Sample[]>();
  for (const w of ['W1', 'W3_1k'] as const) {
    samples.set(sampleKey('ours-d0', w), [sample(1, w, 100, 2), sample(2, w, 300, 2), sample(3, w, 200, 2)]);
    samples.set(sampleKey('rabbit-classic', w), [sample(1, w, 100, 8)]);
    samples.set(sampleKey('ours-d1', w), [sample(1, w, 50, 4)]);
  }
  return {
    config: {
      messages: 1000,
      rounds: 3,
      w3Seconds: 1,
      w5Messages: 10,
      workloads: ['W1', 'W3_1k'],
      nest: true,
      peers: { rabbitUrl: '', natsServers: '' },
      scratchDir: '/tmp',
      oursVersion: 'x',
    },
    startedAt: '2026-01-01T00:00:00.000Z',
    nproc: 2,
    loadavgBefore: [0, 0, 0],
    loadavgAfter: [0, 0, 0],
    ready,
    skipped: [{ ...SYSTEMS.find((s) => s.id === 'js-d1')!, reason: 'too old' }],
    specs: [
      { id: 'W1', messages: 1000 },
      { id: 'W3_1k', messages: 1000 },
    ],
    samples,
    phys: new Map([['group-commit', [{ mode: 'group-commit', perSecond: 200 }]]]),
    failures: [{ system: 'rabbit-classic', workload: 'W1', round: 2, error: 'boom' }],
    nestSamples: new Map([
      ['ours', [nestSample('ours', 3000), nestSample('ours', 1000)]],
      ['rmq', [nestSample('rmq', 1000)]],
    ]),
    nestSkipped: null,
  };
}

describe('peer bench report', () => {
  const run = fakeRun();
  const report = buildReport(run);

  it('takes the median over rounds with min and max', () => {
    const row = report.rows.find((r) => r.system.id === 'ours-d0' && r.workload === 'W1')!;
    expect(row.msgsPerSecond).toEqual({ median: 200, min: 100, max: 300 });
    expect(row.rounds).toBe(3);
  });

  it('compares ours only with peers of its durability class, above 1 when ours is better', () => {
    expect(
      report.comparisons.map((c) => [c.workload, c.durability, c.ours.system.id, c.peer.system.id]),
    ).toEqual([
      ['W1', 'D0', 'ours-d0', 'rabbit-classic'],
      ['W3_1k', 'D0', 'ours-d0', 'rabbit-classic'],
    ]);
    expect(report.comparisons[0]!.ratio).toBe(2); // throughput: 200 / 100
    expect(report.comparisons[1]!.ratio).toBe(4); // latency: their p99 8 / our p99 2
  });

  it('sets D1 throughput against the group-commit ceiling and checks the goals', () => {
    expect(report.efficiencies[0]).toMatchObject({ ours: 50, baseline: 200, ratio: 0.25 });
    expect(report.goals.find((g) => g.goal.startsWith('D1 publish (W1)'))).toMatchObject({
      value: 0.25,
      met: false,
    });
    expect(report.goals.find((g) => g.goal.startsWith('D0 publish (W1) ≥ 2×'))).toMatchObject({
      value: 2,
      met: true,
    });
    expect(report.goals.find((g) => g.goal.startsWith('D0 publish (W1) ≥ 1× JetStream'))).toMatchObject({
      met: null,
    });
  });

  it("sets the Nest level against Nest's RMQ transport (median over rounds) and checks its goal", () => {
    expect(report.nest!.rows.map((r) => r.msgsPerSecond!.median)).toEqual([3000, 1000]);
    expect(report.nest!.ratio).toBe(3);
    expect(report.goals.find((g) => g.goal.startsWith('Nest level'))).toMatchObject({ value: 3, met: true });
  });

  it('writes one BENCH line per result, skipped systems included, and names failures in the table', () => {
    const lines = benchLinesOf(run, report).map(
      (l) => JSON.parse(l.replace(/^BENCH /, '')) as Record<string, unknown>,
    );
    expect(lines).toHaveLength(3 * 2 + 2 + 2);
    expect(lines.find((l) => l.name === 'peers_nest_rmq')).toMatchObject({
      msgs_s: 1000,
      ratio: 3,
      ratio_of: 'ours/nest_rmq',
    });
    expect(lines.find((l) => l.name === 'peers_w1_d0_rabbit_classic')).toMatchObject({
      msgs_s: 100,
      ratio: 2,
      ratio_of: 'ours/rabbit-classic',
    });
    expect(lines.find((l) => l.name === 'peers_w1_d1_js_d1')).toMatchObject({
      msgs_s: null,
      skipped: 'too old',
    });
    const md = markdownOf(run, report);
    expect(md).toContain('rabbit-classic W1 round 2: boom');
    expect(md).toContain('SKIPPED — too old');
    expect(chartOf(run, report)).toContain('skipped');
  });
});

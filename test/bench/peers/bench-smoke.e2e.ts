/**
 * Smoke run of `npm run bench` (part of `npm test`, so the harness keeps working): 2k messages, one
 * round, every workload, against our broker and whichever peers this machine has. No timing is
 * asserted; counts are (every message confirmed and consumed, per the workloads' own checks).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLIENT_VERSION } from '@rocketnest/rocketmq/client/version.js';
import { configFromEnv, runBench, type BenchRun } from './harness.js';
import { writeReport, type WrittenReport } from './output.js';
import { prepareSystems } from './systems.js';
import { WORKLOAD_IDS } from './workloads.js';

const SMOKE_MESSAGES = 2_000;
/** The whole smoke run: a dozen child processes compiled from source on a shared 2-core machine. */
const SMOKE_TIMEOUT_MS = 20 * 60_000;

describe('npm run bench (smoke: 2k messages, one round)', () => {
  let dir: string;
  let run: BenchRun;
  let written: WrittenReport;
  const lines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rocketnest-bench-smoke-'));
    const config = configFromEnv(
      {
        BENCH_MESSAGES: String(SMOKE_MESSAGES),
        BENCH_ROUNDS: '1',
        BENCH_W3_SECONDS: '1',
        BENCH_W5_MESSAGES: '300',
        BENCH_DIR: dir,
        // No download inside the test suite: an older nats-server skips the D1 JetStream, with its reason.
        BENCH_NATS_DOWNLOAD: '0',
      },
      CLIENT_VERSION,
      (line) => lines.push(line),
    );
    run = await runBench(config);
    written = writeReport(run, join(dir, 'results'));
    // Peers this machine lacks are skipped, and say why.
    for (const s of run.skipped) console.log(`bench smoke: ${s.id} skipped: ${s.reason}`);
  }, SMOKE_TIMEOUT_MS);

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('runs every workload on our broker in both durability classes, every message confirmed and consumed', () => {
    expect(run.failures).toEqual([]);
    for (const system of ['ours-d0', 'ours-d1'] as const) {
      expect(run.ready.map((s) => s.id)).toContain(system);
      for (const workload of WORKLOAD_IDS) {
        const [sample] = run.samples.get(`${system}|${workload}`) ?? [];
        expect(sample).toBeDefined();
        const spec = run.specs.find((s) => s.id === workload)!;
        expect(sample!.measure.messages).toBe(spec.messages);
        expect(sample!.measure.msgsPerSecond).toBeGreaterThan(0);
        if (sample!.measure.consumed !== null) expect(sample!.measure.consumed).toBe(spec.messages);
        // Our broker is a child of the harness: its CPU and memory are always read.
        expect(sample!.broker?.cpuSeconds).toBeGreaterThanOrEqual(0);
        expect(sample!.broker?.rssMb).toBeGreaterThan(0);
      }
    }
  });

  it('runs every reachable peer through the same workloads, or names why it was skipped', () => {
    for (const s of run.skipped) expect(s.reason.length).toBeGreaterThan(0);
    for (const s of run.ready) {
      for (const workload of WORKLOAD_IDS) {
        expect(run.samples.get(`${s.id}|${workload}`)).toHaveLength(1);
      }
    }
    expect(run.ready.length + run.skipped.length).toBe(6);
    expect(lines.some((l) => /^ready\s+ours-d0/.test(l))).toBe(true);
  });

  it("runs the Nest level: @RocketListener, and Nest's RMQ transport when RabbitMQ is there", () => {
    const sides = run.nestSkipped === null ? (['ours', 'rmq'] as const) : (['ours'] as const);
    for (const side of sides) {
      const [sample] = run.nestSamples.get(side) ?? [];
      expect(sample?.measure).toMatchObject({ side, messages: SMOKE_MESSAGES, consumed: SMOKE_MESSAGES });
    }
    if (run.nestSkipped !== null) console.log(`bench smoke: nest-rmq skipped: ${run.nestSkipped}`);
  });

  it('writes the table, one parseable BENCH line per result and an SVG chart to the results dir', () => {
    const md = readFileSync(join(dir, 'results', 'peers.md'), 'utf8');
    expect(md).toContain('| workload | class | ours | peer | peer result | ratio |');
    expect(md).toContain('## Goals (issue 9)');
    expect(md).toContain('## Nest level');
    const jsonl = readFileSync(join(dir, 'results', 'peers.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(jsonl).toHaveLength(6 * WORKLOAD_IDS.length + 2);
    for (const line of jsonl) {
      const parsed = JSON.parse(line) as Record<string, unknown>;
      expect(parsed).toHaveProperty('name');
      expect(parsed).toHaveProperty('msgs_s');
      expect(parsed).toHaveProperty('ratio');
    }
    expect(written.benchLines.every((l) => l.startsWith('BENCH {'))).toBe(true);
    expect(readFileSync(join(dir, 'results', 'peers.svg'), 'utf8')).toMatch(
      /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/,
    );
  });
});

describe('peer discovery', () => {
  it('skips peers that do not answer, naming the address', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rocketnest-bench-probe-'));
    try {
      const { ready, skipped } = await prepareSystems(
        root,
        { rabbitUrl: 'amqp://guest:guest@127.0.0.1:1', natsServers: '127.0.0.1:1' },
        new Set(['rabbit-classic', 'rabbit-quorum', 'js-d0'] as const),
        CLIENT_VERSION,
      );
      expect(ready).toEqual([]);
      expect(skipped.map((s) => s.id)).toEqual(['rabbit-classic', 'js-d0', 'rabbit-quorum']);
      expect(skipped.find((s) => s.id === 'rabbit-classic')!.reason).toMatch(
        /RabbitMQ not reachable at amqp:\/\/guest:\*\*\*@127\.0\.0\.1:1/,
      );
      expect(skipped.find((s) => s.id === 'js-d0')!.reason).toMatch(
        /NATS JetStream not reachable at 127\.0\.0\.1:1/,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

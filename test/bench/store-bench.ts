/**
 * `npm run bench:store` — the store's append throughput next to this machine's own ceilings,
 * measured in the same run:
 *   - async: MessageStore (flush every 500 ms) vs a bare `writeSync` loop of 1 KiB records;
 *   - sync: MessageStore with group commit vs the same 64 appenders doing `writeSync` + one
 *     in-flight `fdatasync` (the group-commit ceiling), no encoding, no index;
 *   - peak RSS while appending 2,000,000 records.
 * Every measurement runs in a fresh child process (no JIT or heap carried over), three rounds,
 * median reported. Prints a table and one `BENCH {...}` JSON line per result.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
// The store alone, not the whole broker library: a child that loads gRPC, Nest and the core too
// spends its first seconds compiling and collecting their code on the other core while it is timed.
import { MessageStore, type FlushMode, type MessageToStore } from '@rocketnest/broker/store/index.js';
import { CEILING_RECORD_SIZE, groupCommitCeiling, writeCeiling } from './common/ceilings.js';
import { median } from './common/measure.js';

const RECORD_SIZE = CEILING_RECORD_SIZE;
const APPENDERS = 64;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const COUNT = Number(process.env.BENCH_COUNT ?? 200_000);
const RSS_COUNT = Number(process.env.BENCH_RSS_COUNT ?? 2_000_000);
/**
 * A long-running broker writes into segments its allocator thread prepared ahead of time; only the
 * first segment of a new store is cold. 64 MiB segments let a 200k-message run reach that steady
 * state (the standalone broker uses 1 GiB, also preallocated).
 */
const SEGMENT_MB = Number(process.env.BENCH_SEGMENT_MB ?? 64);
const PREALLOCATE = process.env.BENCH_PREALLOCATE !== 'false';

type Mode = 'ceiling-write' | 'ceiling-group' | 'store-async' | 'store-sync' | 'rss';

interface RunResult {
  readonly msgs_s: number;
  readonly peak_rss_mb: number;
  /** CPU microseconds per message, user and kernel, for the whole child (diagnostics). */
  readonly user_us?: number;
  readonly sys_us?: number;
}

// ------------------------------------------------------------------ child side

function benchRoot(): string {
  return process.env.BENCH_DIR ?? tmpdir();
}

function freshDir(): string {
  return mkdtempSync(join(benchRoot(), 'rocketnest-bench-'));
}

async function storeRun(flushMode: FlushMode, count: number, sampleRss: boolean): Promise<RunResult> {
  const dir = freshDir();
  const store = await MessageStore.open({
    dataDir: dir,
    flushMode,
    segmentSize: SEGMENT_MB * 1024 * 1024,
    preallocate: PREALLOCATE,
    retentionIntervalMs: 0,
    logger: { log: () => undefined, warn: (m) => console.error(m), error: (m) => console.error(m) },
  });
  const body = Buffer.alloc(RECORD_SIZE - 200, 120); // ~1 KiB on disk with header, id, tag and key
  const build = (n: number): MessageToStore => ({
    topic: 'bench',
    queueId: n % 8,
    body,
    messageId: `01BENCH${n.toString(16).padStart(24, '0')}`,
    tag: n % 2 ? 'odd' : 'even',
    keys: [`order-${n}`],
    bornHost: '127.0.0.1:50000',
  });
  let issued = 0;
  let peakRss = process.memoryUsage.rss();
  const sampler = sampleRss
    ? setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 20)
    : undefined;
  const start = process.hrtime.bigint();
  const appender = async (): Promise<void> => {
    while (issued < count) {
      const n = issued++;
      await store.append(build(n)); // built per send, as a producer does
    }
  };
  await Promise.all(Array.from({ length: APPENDERS }, appender));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (sampler) clearInterval(sampler);
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  peakRss = Math.max(peakRss, process.resourceUsage().maxRSS * 1024);
  return { msgs_s: count / seconds, peak_rss_mb: peakRss / (1024 * 1024) };
}

async function child(mode: Mode): Promise<RunResult> {
  const before = process.cpuUsage();
  const result = await measure(mode);
  const cpu = process.cpuUsage(before);
  const count = mode === 'rss' ? RSS_COUNT : COUNT;
  return { ...result, user_us: cpu.user / count, sys_us: cpu.system / count };
}

async function measure(mode: Mode): Promise<RunResult> {
  const rss = (): number => process.resourceUsage().maxRSS / 1024;
  switch (mode) {
    case 'ceiling-write':
      return { msgs_s: writeCeiling(benchRoot(), COUNT), peak_rss_mb: rss() };
    case 'ceiling-group':
      return { msgs_s: await groupCommitCeiling(benchRoot(), COUNT, APPENDERS), peak_rss_mb: rss() };
    case 'store-async':
      return storeRun('async', COUNT, false);
    case 'store-sync':
      return storeRun('sync', COUNT, false);
    case 'rss':
      return storeRun('async', RSS_COUNT, true);
  }
}

// ------------------------------------------------------------------ parent side

function runChild(mode: Mode): RunResult {
  const self = fileURLToPath(import.meta.url);
  // Normally run compiled (npm run bench:store); from source, children need the TS loader too.
  const loader = self.endsWith('.ts') ? ['--import', '@swc-node/register/esm-register'] : [];
  const out = spawnSync(process.execPath, [...loader, self, mode], {
    encoding: 'utf8',
    env: process.env,
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 1 << 20,
  });
  const line = out.stdout.split('\n').find((l) => l.startsWith('RESULT '));
  if (out.status !== 0 || !line)
    throw new Error(`bench child ${mode} failed (exit ${out.status}): ${out.stdout}`);
  return JSON.parse(line.slice('RESULT '.length)) as RunResult;
}

interface Row {
  name: string;
  msgs_s: number;
  min: number;
  max: number;
  ceiling_msgs_s: number;
  ratio: number;
  goal: string;
}

function parent(): void {
  console.log(
    `store bench: ${COUNT.toLocaleString()} × ${RECORD_SIZE} B records, ${APPENDERS} appenders, ${ROUNDS} interleaved rounds, ` +
      `${SEGMENT_MB} MiB segments${PREALLOCATE ? ' preallocated' : ''}, data in ${process.env.BENCH_DIR ?? tmpdir()}`,
  );
  const samples: Record<Exclude<Mode, 'rss'>, number[]> = {
    'ceiling-write': [],
    'store-async': [],
    'ceiling-group': [],
    'store-sync': [],
  };
  // Round 0 warms the VM's page pool and the disk path for everyone and is not counted: the first
  // run after boot is up to 2× slower for every system alike.
  for (let round = 0; round <= ROUNDS; round++) {
    for (const mode of Object.keys(samples) as Array<keyof typeof samples>) {
      const r = runChild(mode);
      if (round === 0) {
        console.log(
          `  warm-up ${mode.padEnd(14)} ${Math.round(r.msgs_s).toLocaleString().padStart(10)} msg/s`,
        );
        continue;
      }
      samples[mode].push(r.msgs_s);
      console.log(
        `  round ${round} ${mode.padEnd(14)} ${Math.round(r.msgs_s).toLocaleString().padStart(10)} msg/s` +
          `   cpu per message: user ${r.user_us?.toFixed(2)} µs, sys ${r.sys_us?.toFixed(2)} µs`,
      );
    }
  }
  const row = (name: string, ours: number[], ceiling: number[]): Row => {
    const m = median(ours);
    const c = median(ceiling);
    return {
      name,
      msgs_s: m,
      min: Math.min(...ours),
      max: Math.max(...ours),
      ceiling_msgs_s: c,
      ratio: m / c,
      goal: '≥ 0.5',
    };
  };
  const rows = [
    row('store_append_async_1k', samples['store-async'], samples['ceiling-write']),
    row('store_append_sync_1k_64', samples['store-sync'], samples['ceiling-group']),
  ];
  console.log(`\n  measuring peak RSS while appending ${RSS_COUNT.toLocaleString()} records (async)…`);
  const rss = runChild('rss');

  const fmt = (n: number): string => Math.round(n).toLocaleString();
  console.log('\n| result | ours msg/s (median) | min – max | ceiling msg/s | ratio | goal |');
  console.log('| --- | ---: | ---: | ---: | ---: | --- |');
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${fmt(r.msgs_s)} | ${fmt(r.min)} – ${fmt(r.max)} | ${fmt(r.ceiling_msgs_s)} | ${r.ratio.toFixed(2)} | ${r.goal} |`,
    );
  }
  console.log(
    `| peak RSS, ${RSS_COUNT.toLocaleString()} appends | ${rss.peak_rss_mb.toFixed(0)} MB | | | | < 200 MB |`,
  );
  console.log(
    `(ceilings: async = bare writeSync loop; sync = 64 appenders, writeSync + one in-flight fdatasync)\n`,
  );
  for (const r of rows) {
    console.log(
      `BENCH ${JSON.stringify({ name: r.name, msgs_s: Math.round(r.msgs_s), ceiling_msgs_s: Math.round(r.ceiling_msgs_s), ratio: Number(r.ratio.toFixed(3)) })}`,
    );
  }
  console.log(
    `BENCH ${JSON.stringify({ name: 'store_peak_rss_2m', msgs_s: Math.round(rss.msgs_s), peak_rss_mb: Number(rss.peak_rss_mb.toFixed(1)), ratio: Number((200 / rss.peak_rss_mb).toFixed(3)) })}`,
  );
}

const mode = process.argv[2] as Mode | undefined;
if (mode) {
  child(mode).then(
    (r) => {
      console.log(`RESULT ${JSON.stringify(r)}`);
      process.exit(0);
    },
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
} else {
  parent();
}

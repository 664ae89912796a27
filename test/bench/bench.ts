/**
 * `npm run bench` — ours against RabbitMQ and NATS JetStream, side by side in one run
 * (PERFORMANCE.md (c), issue 9): workloads W1–W5 on 1 KiB messages, durability classes D0 and D1
 * compared only within a class, the machine's own baselines measured in the same run, systems
 * interleaved over three rounds, median with min and max. Peers that are not reachable are skipped
 * with the reason. Prints the tables and one `BENCH {...}` line per result, and writes them with an
 * SVG chart to bench-results/ (BENCH_RESULTS_DIR). Settings: see `configFromEnv` (BENCH_MESSAGES,
 * BENCH_ROUNDS, BENCH_WORKLOADS, BENCH_SYSTEMS, …). Run from the build: `node dist/test/bench/bench.js`.
 */
import { join } from 'node:path';
import { CLIENT_VERSION } from '@rocketnest/rocketmq/client/version.js';
import { configFromEnv, runBench } from './peers/harness.js';
import { writeReport } from './peers/output.js';

async function main(): Promise<void> {
  const config = configFromEnv(process.env, CLIENT_VERSION, (line) => console.log(line));
  console.log(
    `peer bench: ${config.messages.toLocaleString('en-US')} × 1 KiB, ${config.rounds} round(s), ` +
      `workloads ${config.workloads.join(' ')}, systems ${[...config.systems].join(' ')}`,
  );
  const run = await runBench(config);
  const written = writeReport(run, process.env.BENCH_RESULTS_DIR ?? join(process.cwd(), 'bench-results'));
  console.log('');
  console.log(written.markdown);
  for (const line of written.benchLines) console.log(line);
  console.log('');
  console.log(`written: ${written.files.filter((f) => /peers\.\w+$/.test(f)).join(', ')}`);
  if (run.failures.length > 0) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});

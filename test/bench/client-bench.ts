/**
 * `npm run bench:client` — our client against the official `rocketmq-client-nodejs`, in the same
 * run, on the same standalone broker configuration:
 *   - client_publish_1k: publish only, 1 KiB bodies, at most WINDOW sends outstanding;
 *   - client_pubsub_1k: the same publishing with a consumer of the topic running concurrently (started
 *     first), measured until every message was consumed.
 * Every case gets a fresh broker process (`dist/apps/broker/src/main.js`, async flush, admin off, its
 * own temp data dir and port) and runs the client in a child process of its own, one case at a time,
 * so that neither client shares the CPU with the other. Both clients run with their defaults and
 * silent loggers. Prints a table and one `BENCH {...}` JSON line per result (ratio = ours / official,
 * above 1 = ours is better). Run from the build: `node dist/test/bench/client-bench.js`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASE_RESULT_MARKER, type CaseInput, type CaseMode, type CaseResult } from './client/bench-case.js';
import { nodeArgsOf, runMarkedChild } from './common/child-process.js';
import { startBrokerProcess } from './common/broker-process.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
const BODY_BYTES = 1024;
const WINDOW = 256;
/**
 * Unary deadline of both clients. Their default, 3 s, fails the official client's publish + consume
 * case here (sends queue behind its own CPU for longer than that); a user would raise it, so both
 * clients run with this one. BENCH_REQUEST_TIMEOUT_MS=3000 shows the defaults.
 */
const REQUEST_TIMEOUT_MS = Number(process.env.BENCH_REQUEST_TIMEOUT_MS ?? 30_000);
/** A case that takes longer than this (a stuck client) is killed and reported as failed. */
const CASE_TIMEOUT_MS = Number(process.env.BENCH_CASE_TIMEOUT_MS ?? Math.max(120_000, MESSAGES * 5));

const CHILDREN = {
  ours: './client/ours-case',
  official: './client/official-case',
};
type ClientName = keyof typeof CHILDREN;

/** Runs one client case in its own process; rejects with its stderr when it fails or overruns. */
function runClient(client: ClientName, input: CaseInput, home: string): Promise<CaseResult> {
  return runMarkedChild<CaseResult>({
    args: [...nodeArgsOf(import.meta.url, CHILDREN[client]), JSON.stringify(input)],
    marker: CASE_RESULT_MARKER,
    timeoutMs: CASE_TIMEOUT_MS,
    label: `${client} ${input.mode}`,
    env: { ...process.env, HOME: home },
  });
}

/** One case on a fresh broker; a failure is reported, not thrown (the other cases still run). */
async function runCase(
  root: string,
  client: ClientName,
  mode: CaseMode,
  seq: number,
): Promise<CaseResult | Error> {
  const broker = await startBrokerProcess({ root, flush: 'async' });
  try {
    return await runClient(
      client,
      {
        mode,
        endpoint: broker.endpoint,
        topic: `bench_${mode}_${client}_${seq}`,
        group: `GID_bench_${client}_${seq}`,
        messages: MESSAGES,
        bodyBytes: BODY_BYTES,
        window: WINDOW,
        consumeTimeoutMs: CASE_TIMEOUT_MS,
        requestTimeoutMs: REQUEST_TIMEOUT_MS,
      },
      join(root, 'home'),
    );
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  } finally {
    await broker.stop();
  }
}

const round = (n: number, digits: number): number => Number(n.toFixed(digits));

async function main(): Promise<void> {
  const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'rocketnest-client-bench-'));
  mkdirSync(join(root, 'home'));
  console.log(
    `client bench: ${MESSAGES} messages of ${BODY_BYTES} B, window ${WINDOW}, request timeout ${REQUEST_TIMEOUT_MS} ms ` +
      `(both clients), fresh broker per case (async flush)`,
  );
  const cases: { name: string; mode: CaseMode }[] = [
    { name: 'client_publish_1k', mode: 'publish' },
    { name: 'client_pubsub_1k', mode: 'pubsub' },
  ];
  const rows: string[][] = [];
  const benchLines: string[] = [];
  let seq = 0;
  let failed = false;
  try {
    for (const c of cases) {
      const results: Record<ClientName, CaseResult | Error> = {
        ours: await runCase(root, 'ours', c.mode, ++seq),
        official: await runCase(root, 'official', c.mode, ++seq),
      };
      for (const client of ['ours', 'official'] as const) {
        const r = results[client];
        if (r instanceof Error) {
          failed = true;
          console.error(`${c.name} ${client} FAILED: ${r.message}`);
          rows.push([c.name, client, 'failed', '', '', '']);
        } else {
          rows.push([
            c.name,
            client,
            String(Math.round(r.msgsPerSecond)),
            r.p50Ms.toFixed(1),
            r.p99Ms.toFixed(1),
            (r.elapsedMs / 1000).toFixed(2),
          ]);
        }
      }
      const ours = results.ours;
      const official = results.official;
      if (!(ours instanceof Error)) {
        const officialRate = official instanceof Error ? null : round(official.msgsPerSecond, 0);
        benchLines.push(
          `BENCH ${JSON.stringify({
            name: c.name,
            msgs_s: round(ours.msgsPerSecond, 0),
            p50_ms: round(ours.p50Ms, 2),
            p99_ms: round(ours.p99Ms, 2),
            official_msgs_s: officialRate,
            official_p50_ms: official instanceof Error ? null : round(official.p50Ms, 2),
            official_p99_ms: official instanceof Error ? null : round(official.p99Ms, 2),
            ratio: officialRate === null ? null : round(ours.msgsPerSecond / officialRate, 2),
          })}`,
        );
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }

  const header = ['case', 'client', 'msgs/s', 'p50 send ms', 'p99 send ms', 'elapsed s'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('');
  for (const l of benchLines) console.log(l);
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});

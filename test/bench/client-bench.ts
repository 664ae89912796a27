/**
 * `npm run bench:client` — our client against the official `rocketmq-client-nodejs`, in the same
 * run, on the same standalone broker configuration:
 *   - client_publish_1k: publish only, 1 KiB bodies, at most WINDOW sends outstanding;
 *   - client_pubsub_1k: the same publishing with a consumer of the topic running concurrently (started
 *     first), measured until every message was consumed.
 * The broker returns up to BENCH_RECEIVE_BATCH messages per receive (128; broker-process.ts): both
 * clients read it from Settings and ask for that many.
 * Every case gets a fresh broker process (`dist/apps/broker/src/main.js`, async flush, admin off, its
 * own temp data dir and port) and runs the client in a child process of its own, one case at a time,
 * so that neither client shares the CPU with the other. Both clients run with their defaults (but one
 * request timeout) and silent loggers. BENCH_ROUNDS rounds (3) interleave the clients, alternating
 * who goes first, because this VM's speed drifts by ±15 % between runs: the table shows the median
 * round and the range, and the ratio is the median of the rounds' ours / official (above 1 = ours is
 * better), one `BENCH {...}` JSON line per case. Run from the build: `node dist/test/bench/client-bench.js`.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CASE_RESULT_MARKER, type CaseInput, type CaseMode, type CaseResult } from './client/bench-case.js';
import { nodeArgsOf, runMarkedChild } from './common/child-process.js';
import { BENCH_RECEIVE_BATCH, startBrokerProcess } from './common/broker-process.js';
import { median } from './common/measure.js';

const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 100_000);
/** Rounds of every case; each round runs both clients, the order alternating. */
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
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

/** A client's rounds of one case: the results, and how many rounds failed (with their errors printed). */
interface Rounds {
  readonly results: CaseResult[];
  failures: number;
}

/** The round whose rate is the median of the rounds' (its latencies are reported with it). */
function medianRound(results: readonly CaseResult[]): CaseResult | undefined {
  if (results.length === 0) return undefined;
  const rate = median(results.map((r) => r.msgsPerSecond));
  return results.find((r) => r.msgsPerSecond === rate);
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(process.env.BENCH_DIR ?? tmpdir(), 'rocketnest-client-bench-'));
  mkdirSync(join(root, 'home'));
  console.log(
    `client bench: ${MESSAGES} messages of ${BODY_BYTES} B, window ${WINDOW}, request timeout ${REQUEST_TIMEOUT_MS} ms ` +
      `(both clients), fresh broker per case (async flush, receive batch ${BENCH_RECEIVE_BATCH}), ${ROUNDS} round(s) ` +
      'with the clients interleaved, medians',
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
      const rounds: Record<ClientName, Rounds> = {
        ours: { results: [], failures: 0 },
        official: { results: [], failures: 0 },
      };
      /** ours ÷ official of each round both finished: the ratio is their median. */
      const ratios: number[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate who goes first, so that neither always runs on the fresher machine.
        const order: ClientName[] = r % 2 === 0 ? ['ours', 'official'] : ['official', 'ours'];
        const got: Partial<Record<ClientName, CaseResult>> = {};
        for (const client of order) {
          const result = await runCase(root, client, c.mode, ++seq);
          if (result instanceof Error) {
            failed = true;
            rounds[client].failures++;
            console.error(`${c.name} ${client} round ${r + 1} FAILED: ${result.message}`);
            continue;
          }
          rounds[client].results.push(result);
          got[client] = result;
          console.log(`  round ${r + 1} ${c.name} ${client}: ${Math.round(result.msgsPerSecond)} msg/s`);
        }
        if (got.ours && got.official) ratios.push(got.ours.msgsPerSecond / got.official.msgsPerSecond);
      }
      for (const client of ['ours', 'official'] as const) {
        const { results, failures } = rounds[client];
        const m = medianRound(results);
        const rates = results.map((x) => x.msgsPerSecond);
        const failedNote = failures > 0 ? ` (${failures} failed)` : '';
        rows.push(
          m === undefined
            ? [c.name, client, `failed${failedNote}`, '', '', '', '']
            : [
                c.name,
                client,
                String(Math.round(m.msgsPerSecond)),
                `${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))}${failedNote}`,
                m.p50Ms.toFixed(1),
                m.p99Ms.toFixed(1),
                (m.elapsedMs / 1000).toFixed(2),
              ],
        );
      }
      const ours = medianRound(rounds.ours.results);
      const official = medianRound(rounds.official.results);
      if (ours !== undefined) {
        benchLines.push(
          `BENCH ${JSON.stringify({
            name: c.name,
            msgs_s: round(ours.msgsPerSecond, 0),
            p50_ms: round(ours.p50Ms, 2),
            p99_ms: round(ours.p99Ms, 2),
            official_msgs_s: official === undefined ? null : round(official.msgsPerSecond, 0),
            official_p50_ms: official === undefined ? null : round(official.p50Ms, 2),
            official_p99_ms: official === undefined ? null : round(official.p99Ms, 2),
            ratio: ratios.length === 0 ? null : round(median(ratios), 2),
            rounds: ROUNDS,
            ratio_rounds: ratios.length,
          })}`,
        );
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }

  const header = ['case', 'client', 'msgs/s', 'min–max', 'p50 send ms', 'p99 send ms', 'elapsed s'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells.map((cell, i) => (i < 2 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join('  ');
  console.log('');
  console.log(line(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const r of rows) console.log(line(r));
  console.log('');
  console.log('ratio = median over rounds of ours ÷ official in the same round (rounds where both finished)');
  for (const l of benchLines) console.log(l);
  if (failed) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : String(err));
  process.exit(1);
});

/**
 * `npm run bench:idempotency` — what `@Idempotent()` costs a handler, measured in one run on the
 * same Postgres (127.0.0.1:5432 db `test`, or `DATABASE_URL`):
 *
 *   - plain INSERT: autocommit INSERTs of one effect row straight through `pg` (the ceiling of a
 *     handler whose work is one write);
 *   - handler: a Nest `@EventPattern` handler writing that row (autocommit) through the real
 *     microservice pipeline, without the interceptor;
 *   - handler, own transaction: the same write in `dataSource.transaction()` (what a handler that
 *     must not half-apply does anyway), still without the interceptor;
 *   - handler + @Idempotent (transaction mode): the same handler with the interceptor: claim, the
 *     row in the claim's transaction, commit;
 *   - handler + @Idempotent, all duplicates: the same messages again (every one skipped);
 *   - handler + @Idempotent (lease mode): claim, the row (autocommit), mark done.
 *
 * Every case dispatches `BENCH_COUNT` messages with `BENCH_CONCURRENCY` in flight over a pool of
 * `BENCH_POOL` connections, `BENCH_ROUNDS` rounds interleaved, median reported. Ratio = with the
 * interceptor / the handler without it (goal ≥ 0.5); also shown against the transactional handler
 * and the plain INSERT. Ratios are taken within each round (cases run minutes apart on a shared
 * machine see different loads; a round's cases run back to back) and their median is reported.
 * CPU per message is shown for this process and for the run's Postgres backends (/proc, when
 * Postgres runs on this host): on a loaded machine it moves less than msg/s. Prints a table and
 * one `BENCH {...}` JSON line per result.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { Controller, Inject, type INestMicroservice } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  IdempotencyContext,
  IdempotencyMetrics,
  IdempotencyModule,
  Idempotent,
  silentIdempotencyLogger,
} from '@rocketnest/idempotency';
import { InMemoryTransport } from '@rocketnest/idempotency/testing/in-memory-transport.js';
import pg from 'pg';
import { DataSource } from 'typeorm';
import { Module } from '@nestjs/common';

const DATABASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const COUNT = Number(process.env.BENCH_COUNT ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const POOL = Number(process.env.BENCH_POOL ?? 16);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const GOAL = 0.5;
/** The baselines the interceptor's cases are compared with. */
const PLAIN = 'plain INSERT (pg)';
const HANDLER = 'handler (no interceptor)';
const OWN_TX = 'handler, own transaction (no interceptor)';
const SCHEMA = `idem_bench_${randomBytes(4).toString('hex')}`;
const EFFECTS = `"${SCHEMA}".effects`;
/** Every connection of this run says so, so that its Postgres backends can be told apart. */
const APPLICATION_NAME = `rocketnest-${SCHEMA}`;

/** A message context as a transport hands it over (the three getters the interceptor reads). */
class BenchContext {
  constructor(
    private readonly topic: string,
    private readonly messageId: string,
    private readonly body: Buffer,
  ) {}
  getTopic(): string {
    return this.topic;
  }
  getMessageId(): string {
    return this.messageId;
  }
  getGroup(): string {
    return 'bench-g';
  }
  getMessage(): { body: Buffer } {
    return { body: this.body };
  }
}

interface Effect {
  readonly id: string;
  readonly amount: number;
}

@Controller()
class BenchListeners {
  constructor(
    @Inject(DataSource) private readonly dataSource: DataSource,
    @Inject(IdempotencyContext) private readonly idem: IdempotencyContext,
  ) {}

  @EventPattern<string>('plain')
  async plain(@Payload() e: Effect): Promise<void> {
    await this.dataSource.query(`INSERT INTO ${EFFECTS} (id, amount) VALUES ($1, $2)`, [e.id, e.amount]);
  }

  @EventPattern<string>('tx')
  async transactional(@Payload() e: Effect): Promise<void> {
    await this.dataSource.transaction((manager) =>
      manager.query(`INSERT INTO ${EFFECTS} (id, amount) VALUES ($1, $2)`, [e.id, e.amount]),
    );
  }

  @EventPattern<string>('idem')
  @Idempotent()
  async idempotent(@Payload() e: Effect): Promise<void> {
    await this.idem.manager.query(`INSERT INTO ${EFFECTS} (id, amount) VALUES ($1, $2)`, [e.id, e.amount]);
  }

  @EventPattern<string>('lease')
  @Idempotent({ mode: 'lease' })
  async leased(@Payload() e: Effect): Promise<void> {
    await this.dataSource.query(`INSERT INTO ${EFFECTS} (id, amount) VALUES ($1, $2)`, [e.id, e.amount]);
  }
}

@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: DATABASE_URL,
      poolSize: POOL,
      applicationName: APPLICATION_NAME,
    }),
    IdempotencyModule.forRoot({ table: `${SCHEMA}.keys`, retention: false, logger: silentIdempotencyLogger }),
  ],
  controllers: [BenchListeners],
})
class BenchModule {}

/** Runs `count` calls of `one(i)` with `CONCURRENCY` in flight; resolves with calls per second. */
async function rate(count: number, one: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const start = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      for (let i = next++; i < count; i = next++) await one(i);
    }),
  );
  return count / (Number(process.hrtime.bigint() - start) / 1e9);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const admin = new pg.Pool({
    connectionString: DATABASE_URL,
    max: POOL,
    application_name: APPLICATION_NAME,
  });
  await admin.query(`CREATE SCHEMA "${SCHEMA}"`);
  await admin.query(`CREATE TABLE ${EFFECTS} (id text NOT NULL, amount int NOT NULL)`);
  const transport = new InMemoryTransport();
  const app: INestMicroservice = await NestFactory.createMicroservice(BenchModule, {
    strategy: transport,
    logger: false,
  });
  await app.listen();
  const [settings] = (
    await admin.query<{ sc: string; v: string }>(
      `SELECT current_setting('synchronous_commit') AS sc, version() AS v`,
    )
  ).rows;
  console.log(
    `idempotency bench: ${COUNT.toLocaleString()} messages × ${ROUNDS} rounds, ${CONCURRENCY} in flight, pool ${POOL}, ` +
      `synchronous_commit=${settings!.sc}\n  ${settings!.v.split(',')[0]}`,
  );

  const body = (round: number, i: number) => Buffer.from(JSON.stringify({ id: `${round}-${i}`, amount: i }));
  const dispatch = (pattern: string, round: number, tag: string) => (i: number) => {
    const b = body(round, i);
    return transport.dispatch(
      pattern,
      JSON.parse(b.toString()) as Effect,
      new BenchContext(pattern, `${tag}-${round}-${i}`, b),
    );
  };
  const cases: Record<string, (round: number) => Promise<number>> = {
    [PLAIN]: (round) =>
      rate(COUNT, (i) =>
        admin.query(`INSERT INTO ${EFFECTS} (id, amount) VALUES ($1, $2)`, [`${round}-${i}`, i]),
      ),
    [HANDLER]: (round) => rate(COUNT, dispatch('plain', round, 'p')),
    [OWN_TX]: (round) => rate(COUNT, dispatch('tx', round, 't')),
    'handler + @Idempotent (transaction)': (round) => rate(COUNT, dispatch('idem', round, 'i')),
    'handler + @Idempotent, all duplicates': (round) => rate(COUNT, dispatch('idem', round, 'i')), // same ids again
    'handler + @Idempotent (lease)': (round) => rate(COUNT, dispatch('lease', round, 'l')),
  };
  // BENCH_CASES=transaction,plain: only the cases whose names contain one of these (profiling).
  const only = process.env.BENCH_CASES?.split(',');
  for (const name of Object.keys(cases)) {
    if (only !== undefined && !only.some((o) => name.includes(o))) delete cases[name];
  }
  const results = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
  const processCpu = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
  const backendCpu = new Map<string, number[]>(Object.keys(cases).map((k) => [k, []]));
  // Warm-up (JIT, pool connections, plans), not counted.
  await rate(Math.min(COUNT, 2_000), dispatch('idem', -1, 'w'));
  await rate(Math.min(COUNT, 2_000), dispatch('plain', -1, 'w'));
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, run] of Object.entries(cases)) {
      const backendsBefore = await backendCpuMs(admin);
      const cpu = process.cpuUsage();
      const r = await run(round);
      const used = process.cpuUsage(cpu);
      const backends = cpuSpentSince(backendsBefore, await backendCpuMs(admin));
      results.get(name)!.push(r);
      processCpu.get(name)!.push((used.user + used.system) / COUNT);
      if (backends !== undefined) backendCpu.get(name)!.push((backends * 1000) / COUNT);
      console.log(
        `  round ${round + 1} ${name}: ${Math.round(r).toLocaleString()} msg/s, ` +
          `Postgres backends ${backends === undefined ? 'n/a' : Math.round((backends * 1000) / COUNT)} µs CPU/msg, ` +
          `this process ${Math.round((used.user + used.system) / COUNT)} µs CPU/msg ` +
          `(user ${Math.round(used.user / COUNT)}, system ${Math.round(used.system / COUNT)})`,
      );
    }
  }
  if (only !== undefined) {
    await shutdown(app, admin);
    return;
  }
  const outcomes = app.get(IdempotencyMetrics).snapshot().outcomes;
  const expectedProcessed = 2 * ROUNDS * COUNT + Math.min(COUNT, 2_000);
  if (outcomes.processed !== expectedProcessed || outcomes.duplicate !== ROUNDS * COUNT) {
    throw new Error(`unexpected outcomes: ${JSON.stringify(outcomes)}`); // the bench measured something else
  }

  /** Median over rounds of this case's rate / the other case's rate in the same round. */
  const ratioTo = (name: string, other: string): number => {
    const xs = results.get(name)!;
    const ys = results.get(other)!;
    return median(xs.map((x, i) => x / ys[i]!));
  };
  const cpuCell = (xs: number[]): string => (xs.length === 0 ? 'n/a' : String(Math.round(median(xs))));
  console.log(
    '\n| case | msg/s (median) | min – max | ratio (vs handler) | vs handler in own tx | vs plain INSERT | µs CPU/msg: this process | Postgres backends | goal |',
  );
  console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
  for (const [name, xs] of results) {
    const m = median(xs);
    const ratio = ratioTo(name, HANDLER);
    const idem = name.includes('@Idempotent');
    console.log(
      `| ${name} | ${Math.round(m).toLocaleString()} | ${Math.round(Math.min(...xs)).toLocaleString()} – ${Math.round(Math.max(...xs)).toLocaleString()} | ${ratio.toFixed(2)} | ${ratioTo(name, OWN_TX).toFixed(2)} | ${ratioTo(name, PLAIN).toFixed(2)} | ${cpuCell(processCpu.get(name)!)} | ${cpuCell(backendCpu.get(name)!)} | ${idem ? `≥ ${GOAL} ${ratio >= GOAL ? 'met' : 'NOT met'}` : ''} |`,
    );
  }
  console.log('');
  for (const [name, xs] of results) {
    const pgCpu = backendCpu.get(name)!;
    console.log(
      `BENCH ${JSON.stringify({ name: `idempotency: ${name}`, msgs_s: Math.round(median(xs)), ratio: Number(ratioTo(name, HANDLER).toFixed(3)), ratio_handler_own_tx: Number(ratioTo(name, OWN_TX).toFixed(3)), ratio_plain_insert: Number(ratioTo(name, PLAIN).toFixed(3)), cpu_us_per_msg: Math.round(median(processCpu.get(name)!)), postgres_cpu_us_per_msg: pgCpu.length === 0 ? null : Math.round(median(pgCpu)) })}`,
    );
  }

  await shutdown(app, admin);
}

/** Clock ticks per second of /proc/<pid>/stat times. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU (user + system, ms) spent so far by each Postgres backend serving this run, read from
 * /proc: the server's share of a message, on the same two cores as this process. Undefined when
 * Postgres runs elsewhere (its pids are not ours to read).
 */
async function backendCpuMs(admin: pg.Pool): Promise<Map<number, number> | undefined> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE application_name = $1`,
    [APPLICATION_NAME],
  );
  const spent = new Map<number, number>();
  for (const { pid } of rows) {
    let stat: string;
    try {
      stat = await readFile(`/proc/${pid}/stat`, 'utf8');
    } catch {
      return undefined;
    }
    if (!stat.includes('(postgres)')) return undefined; // another host's pid
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields from 3 (state) on
    spent.set(pid, ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS); // utime, stime
  }
  return spent;
}

/** CPU ms spent between two readings by the backends alive at the second (new ones from zero). */
function cpuSpentSince(
  before: Map<number, number> | undefined,
  after: Map<number, number> | undefined,
): number | undefined {
  if (before === undefined || after === undefined) return undefined;
  let ms = 0;
  for (const [pid, now] of after) ms += now - (before.get(pid) ?? 0);
  return ms;
}

async function shutdown(app: INestMicroservice, admin: pg.Pool): Promise<void> {
  await app.close();
  await admin.query(`DROP SCHEMA "${SCHEMA}" CASCADE`);
  await admin.end();
}

await main();

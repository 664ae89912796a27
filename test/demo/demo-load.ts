/**
 * `npm run demo:load -- --orders 1000`: a burst of orders against a running sample (`npm start`,
 * or the compose stack), with a progress bar, then a summary — orders, paid, failed, cancelled,
 * duplicates suppressed, retries, DLQ, order → PAID latency — and the backlog draining over time:
 * the orders arrive faster than payments are made, the queue holds the difference, the payment
 * service works it off at its own pace (peak shaving).
 */
import { Command, InvalidArgumentError } from 'commander';
import { Presets, SingleBar } from 'cli-progress';
import { setTimeout as sleep } from 'node:timers/promises';
import { type OrderStats } from '../../apps/order-service/src/stats/order-stats.controller.js';
import { type PaymentStats } from '../../apps/payment-service/src/stats/payment-stats.controller.js';
import { demoOrder } from './demo-orders.js';

/** Longest a single HTTP call of the demo may take. */
export const HTTP_TIMEOUT_MS = 30_000;

interface Options {
  orders: number;
  url: string;
  paymentUrl: string;
  concurrency: number;
  poisonRate: number;
  declineRate: number;
  declineAbove: number;
  settleTimeout: number;
  sampleMs: number;
}

interface BacklogSample {
  readonly atMs: number;
  readonly pending: number;
  readonly lag: number | null;
}

function positiveInt(name: string, max: number) {
  return (text: string): number => {
    const value = Number(text);
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new InvalidArgumentError(`${name} must be an integer 1..${max}`);
    }
    return value;
  };
}

function rate(text: string): number {
  const value = Number(text);
  if (!(value >= 0 && value <= 1)) throw new InvalidArgumentError('a rate is a number 0..1');
  return value;
}

async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { signal: AbortSignal.timeout(HTTP_TIMEOUT_MS) });
  if (!response.ok) throw new Error(`GET ${url}: HTTP ${response.status}`);
  return (await response.json()) as T;
}

/** Fires the orders, `concurrency` at a time; resolves with the count per HTTP status. */
async function fire(options: Options, bar: SingleBar): Promise<Map<number, number>> {
  const statuses = new Map<number, number>();
  let next = 0;
  const worker = async () => {
    while (next < options.orders) {
      const i = next++;
      const order = demoOrder(i, options);
      let status: number;
      try {
        const response = await fetch(`${options.url}/orders`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(order),
          signal: AbortSignal.timeout(HTTP_TIMEOUT_MS),
        });
        await response.arrayBuffer();
        status = response.status;
      } catch {
        status = 0; // no answer
      }
      statuses.set(status, (statuses.get(status) ?? 0) + 1);
      bar.increment();
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency, options.orders) }, worker));
  return statuses;
}

function finalCount(stats: OrderStats): number {
  return stats.byStatus.PAID + stats.byStatus.FAILED + stats.byStatus.CANCELLED;
}

/** The backlog over time as rows of a bar chart (at most `rows` rows). */
function backlogChart(samples: readonly BacklogSample[], rows = 16): string[] {
  if (samples.length === 0) return ['  (no samples)'];
  const value = (s: BacklogSample) => s.lag ?? s.pending;
  const peak = Math.max(1, ...samples.map(value));
  const step = Math.max(1, Math.ceil(samples.length / rows));
  const lines: string[] = [];
  for (let i = 0; i < samples.length; i += step) {
    const s = samples[i]!;
    const width = Math.round((value(s) / peak) * 40);
    lines.push(
      `  ${(s.atMs / 1000).toFixed(1).padStart(6)} s  ${'█'.repeat(width).padEnd(40)} ${String(value(s)).padStart(6)}`,
    );
  }
  const last = samples[samples.length - 1]!;
  if ((samples.length - 1) % step !== 0) {
    lines.push(
      `  ${(last.atMs / 1000).toFixed(1).padStart(6)} s  ${'█'.repeat(Math.round((value(last) / peak) * 40)).padEnd(40)} ${String(value(last)).padStart(6)}`,
    );
  }
  return lines;
}

async function run(options: Options): Promise<number> {
  const since = Date.now() - 1;
  const started = performance.now();
  const samples: BacklogSample[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      try {
        const stats = await getJson<OrderStats>(`${options.url}/stats?since=${since}`);
        samples.push({
          atMs: performance.now() - started,
          pending: stats.backlog.pendingOrders,
          lag: stats.backlog.paymentLag,
        });
      } catch {
        // a missed sample is only a gap in the chart
      }
      await sleep(options.sampleMs);
    }
  })();

  console.log(`Firing ${options.orders} orders at ${options.url} (${options.concurrency} at a time)`);
  const sendBar = new SingleBar(
    { format: ' orders   [{bar}] {value}/{total}  {duration_formatted}' },
    Presets.shades_classic,
  );
  sendBar.start(options.orders, 0);
  const statuses = await fire(options, sendBar);
  sendBar.stop();
  const sentMs = performance.now() - started;
  const accepted = statuses.get(201) ?? 0;

  console.log('Waiting for every order to reach a final state (PAID, FAILED, CANCELLED)');
  const settleBar = new SingleBar(
    { format: ' settled  [{bar}] {value}/{total}  {duration_formatted}' },
    Presets.shades_classic,
  );
  settleBar.start(accepted, 0);
  const deadline = Date.now() + options.settleTimeout * 1000;
  let orders = await getJson<OrderStats>(`${options.url}/stats?since=${since}`);
  // Settled: every order final, and nothing left in the payment backlog (a message still queued
  // would yet charge, or dead-letter, an order the timeout already cancelled).
  const settled = (stats: OrderStats) =>
    finalCount(stats) >= stats.orders && (stats.backlog.paymentLag ?? stats.backlog.pendingOrders) === 0;
  while (!settled(orders) && Date.now() < deadline) {
    settleBar.update(Math.min(accepted, finalCount(orders)));
    await sleep(options.sampleMs);
    orders = await getJson<OrderStats>(`${options.url}/stats?since=${since}`);
  }
  settleBar.update(Math.min(accepted, finalCount(orders)));
  settleBar.stop();
  const settledMs = performance.now() - started;
  sampling = false;
  await sampler;
  const payments = await getJson<PaymentStats>(`${options.paymentUrl}/stats?since=${since}`).catch(
    (err: unknown) => {
      console.warn(`payment-service stats unavailable (${String(err)}); --payment-url?`);
      return undefined;
    },
  );

  const unsettled = orders.orders - finalCount(orders);
  const backlogLeft = orders.backlog.paymentLag ?? 0;
  const rejected = [...statuses]
    .filter(([s]) => s !== 201)
    .map(([s, n]) => `${n} × ${s === 0 ? 'no answer' : s}`);
  const peak = samples.reduce((m, s) => Math.max(m, s.lag ?? s.pending), 0);
  const drainedAt = samples.find((s, i) => i > 0 && (s.lag ?? s.pending) === 0 && s.atMs > sentMs);
  const lines = [
    '',
    'Summary',
    `  orders sent            ${options.orders} in ${(sentMs / 1000).toFixed(1)} s (${Math.round(options.orders / (sentMs / 1000))}/s)${rejected.length ? `; not accepted: ${rejected.join(', ')}` : ''}`,
    `  orders created         ${orders.orders}`,
    `  paid                   ${orders.byStatus.PAID}`,
    `  failed                 ${orders.byStatus.FAILED}   (declined or dead-lettered)`,
    `  cancelled              ${orders.byStatus.CANCELLED}   (unpaid at ORDER_TIMEOUT_MS)${orders.refundRequired ? `, ${orders.refundRequired} paid after cancellation → refund required` : ''}`,
    `  still pending          ${unsettled}${unsettled || backlogLeft ? `   (gave up waiting after ${options.settleTimeout} s; ${backlogLeft} messages still queued)` : ''}`,
    `  duplicates suppressed  ${orders.duplicatesSuppressed + (payments?.duplicatesSuppressed ?? 0)}   (payment ${payments?.duplicatesSuppressed ?? '?'}, order ${orders.duplicatesSuppressed}; since the services started)`,
    `  retries                ${payments ? `${payments.retries} before a payment was decided; ${payments.gateway.transientFailures + payments.gateway.poisonFailures} failed attempts in all` : '?'}`,
    `  DLQ                    ${payments?.deadLetters ?? '?'}   (%DLQ%payment)`,
    `  order → PAID latency   p50 ${orders.paidLatencyMs.p50 ?? '–'} ms, p99 ${orders.paidLatencyMs.p99 ?? '–'} ms (${orders.paidLatencyMs.count} paid)`,
    `  all settled after      ${(settledMs / 1000).toFixed(1)} s`,
    '',
    `Backlog over time (${samples.some((s) => s.lag !== null) ? "the payment group's lag on order-created, from the broker" : 'orders waiting for their payment'}): peak ${peak}${drainedAt ? `, drained at ${(drainedAt.atMs / 1000).toFixed(1)} s` : ''}; sending ended at ${(sentMs / 1000).toFixed(1)} s`,
    ...backlogChart(samples),
    '',
  ];
  console.log(lines.join('\n'));
  return unsettled === 0 && backlogLeft === 0 ? 0 : 1;
}

const program = new Command()
  .name('demo:load')
  .description('Fire a burst of orders at the running sample and summarize what the queue did')
  .option('--orders <n>', 'orders to fire', positiveInt('--orders', 1_000_000), 1000)
  .option('--url <url>', 'order-service URL', 'http://localhost:3000')
  .option('--payment-url <url>', 'payment-service URL', 'http://localhost:3001')
  .option('--concurrency <n>', 'requests in flight', positiveInt('--concurrency', 1000), 50)
  .option('--poison-rate <r>', 'fraction of poison orders (→ DLQ)', rate, 0.005)
  .option('--decline-rate <r>', 'fraction of orders above the decline limit', rate, 0.02)
  .option('--decline-above <amount>', "the payment service's PAYMENT_DECLINE_ABOVE", Number, 10_000)
  .option(
    '--settle-timeout <s>',
    'longest wait for final states, seconds',
    positiveInt('--settle-timeout', 86_400),
    300,
  )
  .option('--sample-ms <ms>', 'backlog sampling interval', positiveInt('--sample-ms', 60_000), 500);

program.parse();
run(program.opts<Options>()).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`demo:load failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(2);
  },
);

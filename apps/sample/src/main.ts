/**
 * `npm start`: the whole sample in one process on the embedded defaults — the built-in broker and
 * PGlite (no Postgres, no Docker, no network) — then a banner with the URLs and a curl to try.
 * Ctrl-C closes the services (their listeners drain) and then the broker.
 */
import 'reflect-metadata';
import { startSample, type RunningSample } from './start-sample.js';

const EXAMPLE_ORDER = { userId: 'alice', items: [{ sku: 'book', qty: 2, price: 12.5 }], amount: 25 };

function banner(sample: RunningSample): string {
  const { order, payment, notification } = sample.urls;
  const body = JSON.stringify(EXAMPLE_ORDER);
  return [
    '',
    'Rocketnest sample is running (order → payment → notification over RocketMQ)',
    `  order-service         ${order}     POST /orders, GET /orders/:id, GET /stats, GET /health`,
    `  payment-service       ${payment}     GET /payments/:orderId, GET /stats`,
    `  notification-service  ${notification}     GET /notifications?orderId=, POST /config`,
    `  broker                ${sample.endpoints}${sample.broker ? ' (built-in, embedded)' : ''}`,
    '',
    'Try:',
    `  curl -s -X POST ${order}/orders -H 'content-type: application/json' -d '${body}'`,
    `  curl -s ${order}/orders/<id from the answer>        # PENDING → PAID, with its history`,
    `  npm run demo:load -- --orders 1000                      # a burst, then the summary`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const sample = await startSample();
  let closing = false;
  const stop = (signal: string) => {
    if (closing) return;
    closing = true;
    console.log(`[sample] ${signal}: closing the services, then the broker`);
    sample.close().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(`[sample] close failed: ${String(err)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  console.log(banner(sample));
}

main().catch((err: unknown) => {
  console.error(`[sample] cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exit(1);
});

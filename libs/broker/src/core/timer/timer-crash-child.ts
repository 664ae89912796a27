/**
 * Child process of timer-crash.e2e.ts: opens a store and a TimerService on the system clock,
 * schedules `count` timers due over `spanMs` from `startAt`, and prints `FIRED <id>` as each is
 * delivered. The parent SIGKILLs it halfway.
 *
 *   timer-crash-child <dir> <count> <startAt> <spanMs>
 */
import { join } from 'node:path';
import { MessageStore } from '../../store/index.js';
import { systemClock } from '../clock.js';
import { TimerService } from './timer-service.js';

const [dir, countArg, startArg, spanArg] = process.argv.slice(2);
if (!dir || !countArg || !startArg || !spanArg) {
  console.error('usage: timer-crash-child <dir> <count> <startAt> <spanMs>');
  process.exit(2);
}
const count = Number(countArg);
const startAt = Number(startArg);
const span = Number(spanArg);
const logger = {
  log: () => undefined,
  warn: (m: string) => console.error(m),
  error: (m: string) => console.error(m),
};

const store = await MessageStore.open({ dataDir: join(dir, 'store'), retentionIntervalMs: 0, logger });
const timer = await TimerService.open({ store, clock: systemClock, stateDir: dir, logger });
timer.onFired = (id) => process.stdout.write(`FIRED ${id}\n`);
await Promise.all(
  Array.from({ length: count }, (_, i) =>
    timer.schedule(
      { topic: 'crash', queueId: 0, body: Buffer.from(`m${i}`), messageId: `crash-${i}` },
      startAt + Math.floor((i * span) / count),
    ),
  ),
);
process.stdout.write('SCHEDULED\n');
setInterval(() => undefined, 1 << 30);

/**
 * Child process for the crash tests: opens a store in `sync` mode and appends deterministic
 * messages, printing `ACK <n> <queueId> <queueOffset>` for each append the store acknowledged.
 * The parent kills it with SIGKILL at a random moment.
 *
 *   crash-appender <dataDir> <firstN> <count|forever> [segmentSize]
 */
import { MessageStore } from '../message-store.js';
import { deterministicMessage } from './deterministic-message.js';

const [dataDir, firstArg, countArg, segmentArg] = process.argv.slice(2);
if (!dataDir || !firstArg || !countArg) {
  console.error('usage: crash-appender <dataDir> <firstN> <count|forever> [segmentSize]');
  process.exit(2);
}
const first = Number(firstArg);
const last = countArg === 'forever' ? Infinity : first + Number(countArg);
const CONCURRENCY = 16;

const store = await MessageStore.open({
  dataDir,
  flushMode: 'sync',
  segmentSize: Number(segmentArg ?? 256 * 1024),
  checkpointIntervalMs: 50,
  retentionIntervalMs: 0,
  logger: { log: () => undefined, warn: (m) => console.error(m), error: (m) => console.error(m) },
});
process.stdout.write(`READY ${JSON.stringify(store.recoveryReport)}\n`);

let next = first;
async function lane(): Promise<void> {
  while (next < last) {
    const n = next++;
    const r = await store.append(deterministicMessage(n));
    process.stdout.write(`ACK ${n} ${r.queueId} ${r.queueOffset}\n`);
  }
}
await Promise.all(Array.from({ length: CONCURRENCY }, lane));
process.stdout.write('DONE\n');
// Stay alive, unflushed state and all, until the parent kills us.
setInterval(() => undefined, 1 << 30);

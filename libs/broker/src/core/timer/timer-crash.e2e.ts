/**
 * A real crash: a child process with a store and a TimerService on the system clock is SIGKILLed
 * while its timers fire. Reopened here, every timer is delivered at least once, the ones still
 * pending on time; duplicates are limited to what fired since the last progress write (≤ ~1 s).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MessageStore } from '../../store/index.js';
import { systemClock } from '../clock.js';
import { TimerService } from './timer-service.js';
import { capturingLogger, readQueue, removeDir, tempDir, until } from './timer-testing.js';

const CHILD = fileURLToPath(new URL('./timer-crash-child.ts', import.meta.url));
const COUNT = 400;
const SPAN_MS = 4_000;

describe('TimerService after SIGKILL', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('crash')));
  afterEach(() => removeDir(dir));

  it('delivers every timer at least once after the process is killed mid-firing', async () => {
    const startAt = Date.now() + 3_000;
    const child = spawn(
      process.execPath,
      [
        '--import',
        '@swc-node/register/esm-register',
        CHILD,
        dir,
        String(COUNT),
        String(startAt),
        String(SPAN_MS),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const firedByChild = new Set<string>();
    let scheduled = false;
    let stderr = '';
    let buffered = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        if (line === 'SCHEDULED') scheduled = true;
        else if (line.startsWith('FIRED ')) firedByChild.add(line.slice(6));
      }
    });
    const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
    try {
      await until(() => scheduled || child.exitCode !== null, 30_000);
      expect(stderr).toBe('');
      expect(scheduled).toBe(true);
      // Kill it halfway through the firing.
      await until(() => firedByChild.size >= COUNT / 2, 30_000);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    const killedAt = Date.now();
    const firedBeforeKill = firedByChild.size;

    const logger = capturingLogger();
    const store = await MessageStore.open({ dataDir: join(dir, 'store'), retentionIntervalMs: 0, logger });
    const timer = await TimerService.open({ store, clock: systemClock, stateDir: dir, logger });
    const late: number[] = [];
    timer.onFired = (_id, lateBy) => late.push(lateBy);
    try {
      await until(() => new Set(readQueue(store, 'crash', 0).map((m) => m.messageId)).size === COUNT, 30_000);
      const ids = readQueue(store, 'crash', 0).map((m) => m.messageId);
      const counts = new Map<string, number>();
      for (const id of ids) counts.set(id, (counts.get(id) ?? 0) + 1);
      const duplicates = [...counts.values()].filter((c) => c > 1).length;
      const onTime = late.filter((l) => l < 100).length;
      console.log(
        `SIGKILL test: child delivered ${firedBeforeKill} of ${COUNT} before the kill; after reopening ` +
          `${late.length} more were delivered (${onTime} within 100 ms of due); ${duplicates} duplicates ` +
          `(reopened ${Date.now() - killedAt} ms after the kill)`,
      );
      expect(counts.size).toBe(COUNT);
      for (const c of counts.values()) expect(c).toBeLessThanOrEqual(2);
      // ≤ 1 s of fires since the last progress write: 100 timers per second here, plus slack.
      expect(duplicates).toBeLessThanOrEqual(150);
    } finally {
      await timer.close();
      await store.close();
    }
  }, 90_000);
});

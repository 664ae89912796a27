/**
 * This machine's own ceilings for durable appends of 1 KiB records, measured with no broker at all
 * (PERFORMANCE.md (b)): a bare `writeSync` loop, and group commit — N appenders each writing a
 * record and waiting until an `fdatasync` covers it, exactly one `fdatasync` in flight. The best an
 * ack-from-page-cache store and an fsync-before-ack store can do here.
 */
import { closeSync, fdatasync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { nowMs, percentile } from './measure.js';

export const CEILING_RECORD_SIZE = 1024;
/** Appenders of the group-commit ceiling (the store bench's; the brokers see a window of 256 sends). */
export const GROUP_COMMIT_APPENDERS = 64;

function withLog<T>(root: string, work: (fd: number) => T): T {
  const dir = mkdtempSync(join(root, 'ceiling-'));
  const fd = openSync(join(dir, 'log'), 'w');
  try {
    return work(fd);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Records/s of a bare writeSync loop (no sync). */
export function writeCeiling(root: string, count: number): number {
  return withLog(root, (fd) => {
    const record = Buffer.alloc(CEILING_RECORD_SIZE, 7);
    const start = nowMs();
    for (let i = 0; i < count; i++) writeSync(fd, record, 0, CEILING_RECORD_SIZE, i * CEILING_RECORD_SIZE);
    return count / ((nowMs() - start) / 1000);
  });
}

/** Latency of one 1 KiB append followed by its own fdatasync (ms), `count` times. */
export function fdatasyncLatency(root: string, count: number): { p50Ms: number; p99Ms: number } {
  return withLog(root, (fd) => {
    const record = Buffer.alloc(CEILING_RECORD_SIZE, 7);
    const times = new Float64Array(count);
    for (let i = 0; i < count; i++) {
      const t0 = nowMs();
      writeSync(fd, record, 0, CEILING_RECORD_SIZE, i * CEILING_RECORD_SIZE);
      fdatasyncSync(fd);
      times[i] = nowMs() - t0;
    }
    return { p50Ms: percentile(times, 50), p99Ms: percentile(times, 99) };
  });
}

/** Records/s of group commit: `appenders` appenders, writeSync + one in-flight fdatasync. */
export async function groupCommitCeiling(
  root: string,
  count: number,
  appenders = GROUP_COMMIT_APPENDERS,
): Promise<number> {
  const dir = mkdtempSync(join(root, 'ceiling-'));
  const fd = openSync(join(dir, 'log'), 'w');
  const record = Buffer.alloc(CEILING_RECORD_SIZE, 7);
  let written = 0;
  let synced = 0;
  let issued = 0;
  let inFlight = false;
  let failure: Error | undefined;
  let waiters: Array<{ end: number; resolve: () => void; reject: (err: Error) => void }> = [];
  const kick = (): void => {
    if (inFlight || written <= synced) return;
    inFlight = true;
    const target = written;
    fdatasync(fd, (err) => {
      inFlight = false;
      if (err) {
        failure = err;
        for (const w of waiters) w.reject(err);
        waiters = [];
        return;
      }
      synced = target;
      const ready = waiters.filter((w) => w.end <= synced);
      waiters = waiters.filter((w) => w.end > synced);
      for (const w of ready) w.resolve();
      kick();
    });
  };
  const appendOne = (): Promise<void> => {
    if (failure) return Promise.reject(failure);
    writeSync(fd, record, 0, CEILING_RECORD_SIZE, written);
    written += CEILING_RECORD_SIZE;
    const end = written;
    const p = new Promise<void>((resolve, reject) => waiters.push({ end, resolve, reject }));
    kick();
    return p;
  };
  const appender = async (): Promise<void> => {
    while (issued < count) {
      issued++;
      await appendOne();
    }
  };
  const start = nowMs();
  try {
    await Promise.all(Array.from({ length: appenders }, appender));
    return count / ((nowMs() - start) / 1000);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
}

import { closeSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { StoreLockedError } from './errors.js';

/**
 * RocketMQ's `abort` file: created (with our PID) when the store opens and deleted on a clean
 * close. Finding it at start-up means the previous process died without closing: recovery then
 * validates the log tail and rebuilds the consume queues and index past the checkpoint. A PID
 * that is still alive means another process has the directory open; within this process a marker
 * held by an open store is tracked in memory (its PID is ours, so the file cannot tell).
 */
const heldInThisProcess = new Set<string>();

export class AbortMarker {
  private readonly path: string;

  constructor(path: string) {
    this.path = resolve(path);
  }

  /** Returns true if the previous run ended abnormally. Throws StoreLockedError if the owner lives. */
  acquire(dir: string): boolean {
    if (heldInThisProcess.has(this.path)) throw new StoreLockedError(dir, `${process.pid} (this process)`);
    let previous: string | undefined;
    try {
      previous = readFileSync(this.path, 'utf8').trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    if (previous !== undefined) {
      const pid = Number(previous);
      if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && isAlive(pid))
        throw new StoreLockedError(dir, previous);
    }
    const fd = openSync(this.path, 'w');
    writeSync(fd, `${process.pid}\n`);
    fsyncSync(fd);
    closeSync(fd);
    heldInThisProcess.add(this.path);
    return previous !== undefined;
  }

  release(): void {
    rmSync(this.path, { force: true });
    heldInThisProcess.delete(this.path);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

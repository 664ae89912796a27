import { closeSync, fsyncSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { StoreLockedError } from './errors.js';

/**
 * RocketMQ's `abort` file: created (with our PID) when the store opens and deleted on a clean
 * close. Finding it at start-up means the previous process died without closing: recovery then
 * validates the log tail and rebuilds the consume queues and index past the checkpoint. A PID
 * that is still alive means another process has the directory open.
 */
export class AbortMarker {
  constructor(private readonly path: string) {}

  /** Returns true if the previous run ended abnormally. Throws StoreLockedError if the owner lives. */
  acquire(dir: string): boolean {
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
    return previous !== undefined;
  }

  release(): void {
    rmSync(this.path, { force: true });
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

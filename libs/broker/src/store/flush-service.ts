/**
 * Makes the commit log durable with at most ONE fdatasync in flight (RocketMQ's GroupCommitService
 * in spirit): every append that was written while a sync ran is covered by the next one, so one
 * fdatasync serves everyone waiting. Nothing here is per message.
 *
 * - `sync` mode: `kick()` after each commit starts a sync at once if none is running.
 * - `async` mode: a timer kicks every `intervalMs`; appends were acknowledged when written.
 */
export type FlushMode = 'sync' | 'async';

export interface FlushTarget {
  /** Bytes below this are written and may be synced. */
  readonly committedOffset: number;
  sync(from: number, to: number, callback: (err: Error | null) => void): void;
}

export class FlushService {
  private flushed: number;
  private inFlight = false;
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly target: FlushTarget,
    startOffset: number,
    /** Called after each successful sync with the new durable offset. */
    private readonly onFlushed: (flushedOffset: number) => void,
    /** Called once if a sync fails: durability is then unknowable (fsyncgate), the store must stop. */
    private readonly onFailure: (err: Error) => void,
  ) {
    this.flushed = startOffset;
  }

  get flushedOffset(): number {
    return this.flushed;
  }

  get failed(): Error | undefined {
    return this.failure;
  }

  /** Async mode: sync whatever was written every `intervalMs`. */
  startInterval(intervalMs: number): void {
    this.timer = setInterval(() => this.kick(), intervalMs);
    this.timer.unref();
  }

  /** Starts a sync if data is waiting and none is running. */
  kick(): void {
    if (this.inFlight || this.failure) return;
    const to = this.target.committedOffset;
    if (to <= this.flushed) {
      this.releaseIdleWaiters();
      return;
    }
    this.inFlight = true;
    this.target.sync(this.flushed, to, (err) => {
      this.inFlight = false;
      if (err) {
        this.failure = err;
        this.releaseIdleWaiters();
        this.onFailure(err);
        return;
      }
      this.flushed = to;
      this.onFlushed(to);
      // Sync mode: what was written meanwhile has appends waiting, so it is synced at once (group
      // commit). Async mode: nobody waits, the next tick of the interval syncs it, unless drain() is.
      if (this.timer === undefined || this.idleWaiters.length > 0) this.kick();
    });
  }

  /** Resolves once everything committed so far is durable (or a sync failed). */
  drain(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.kick();
    });
  }

  private releaseIdleWaiters(): void {
    if (this.inFlight) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  /** Recovery moved the end of the log (it can only have moved back to a durable position). */
  reset(offset: number): void {
    this.flushed = offset;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}

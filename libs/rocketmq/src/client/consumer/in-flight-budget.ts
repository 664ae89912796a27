/**
 * Backpressure: at most `max` messages are held by the consumer at once, counted from before the
 * receive that asks for them (a receive reserves its batch size) until their handler is finished
 * and their settlement handed over (or they are given up). A receive therefore only asks for what
 * fits, and a consumer whose handlers are slow stops receiving instead of piling up messages (and
 * leases) in memory; the server keeps them for other consumers of the group.
 */
export class InFlightBudget {
  #used = 0;
  #highWater = 0;
  readonly #waiters: (() => void)[] = [];

  constructor(readonly max: number) {
    if (!Number.isInteger(max) || max < 1)
      throw new RangeError(`max in-flight must be an integer ≥ 1, got ${max}`);
  }

  /** Messages held or reserved now. */
  get used(): number {
    return this.#used;
  }

  /** The most ever held or reserved at once. */
  get highWater(): number {
    return this.#highWater;
  }

  /**
   * Reserves up to `want` (≥ 1) slots, waiting until at least one is free. Resolves with the number
   * reserved, or 0 when `signal` aborted first.
   */
  async reserve(want: number, signal: AbortSignal): Promise<number> {
    while (!signal.aborted) {
      const free = this.max - this.#used;
      if (free > 0) {
        const n = Math.min(Math.max(1, want), free);
        this.#used += n;
        if (this.#used > this.#highWater) this.#highWater = this.#used;
        return n;
      }
      await new Promise<void>((resolve) => {
        const wake = (): void => {
          signal.removeEventListener('abort', wake);
          const i = this.#waiters.indexOf(wake);
          if (i >= 0) this.#waiters.splice(i, 1);
          resolve();
        };
        this.#waiters.push(wake);
        signal.addEventListener('abort', wake, { once: true });
      });
    }
    return 0;
  }

  /** Gives `n` slots back (a finished message, or the unused part of a reservation). */
  release(n: number): void {
    if (n <= 0) return;
    this.#used = Math.max(0, this.#used - n);
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

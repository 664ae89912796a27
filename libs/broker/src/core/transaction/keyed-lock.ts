/**
 * Serialises asynchronous operations per key (here: per transaction id), so that an
 * EndTransaction, a check-back and a check-max discard of one transaction never interleave, while
 * different transactions proceed in parallel. Memory: one promise per key with work queued.
 */
function noop(): void {}

export class KeyedLock {
  /** Per key, the tail of the queued operations (never rejects). */
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `fn` after every operation queued on `key` before it; with none, `fn` starts synchronously. */
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    const run = previous ? previous.then(fn) : fn();
    const tail = run.then(noop, noop);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return run;
  }

  /** Keys with work queued. */
  get size(): number {
    return this.#tails.size;
  }

  /** Settles when everything queued now has finished (never rejects). */
  settled(): Promise<void> {
    return Promise.all(this.#tails.values()).then(noop);
  }
}

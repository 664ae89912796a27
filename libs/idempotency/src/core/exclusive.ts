/**
 * One-at-a-time execution for drivers with a single connection (PGlite through typeorm-pglite):
 * there, a `BEGIN` of one message and the statements of another would share one session, so the
 * second message's statements would run inside the first one's transaction. Serializing the
 * store's work keeps each transaction alone on the connection.
 */
export class Exclusive {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

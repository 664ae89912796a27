/**
 * The requester's table of requests waiting for their reply, by correlation id. Each entry settles
 * exactly once: with its reply, with a ReplyTimeoutError when its timer fires, or with the error of
 * a cancel (the request could not be sent, the requester closed). Whatever comes for an id that is
 * not (or no longer) in the table (a late reply, a duplicate, someone else's) is refused, so the
 * caller can drop it.
 */
import { ReplyTimeoutError } from './reply-errors.js';
import { type ReplyOutcome } from './reply-envelope.js';

interface Entry {
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: NodeJS.Timeout;
}

export class PendingReplies {
  readonly #entries = new Map<string, Entry>();

  /** Requests waiting now. */
  get size(): number {
    return this.#entries.size;
  }

  has(correlationId: string): boolean {
    return this.#entries.has(correlationId);
  }

  /**
   * Waits for the reply to `correlationId`: resolves with its value, rejects with its error, or
   * with a ReplyTimeoutError after `timeoutMs`.
   * @throws RangeError when the id is already waiting (ids must be unique), or for a bad timeout
   */
  expect(correlationId: string, timeoutMs: number, destination: string): Promise<unknown> {
    if (this.#entries.has(correlationId)) {
      throw new RangeError(`request ${correlationId} is already waiting for its reply`);
    }
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
      throw new RangeError(`a request needs a timeout > 0 ms, got ${String(timeoutMs)}`);
    }
    return new Promise<unknown>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#entries.delete(correlationId);
        reject(new ReplyTimeoutError(correlationId, destination, timeoutMs));
      }, timeoutMs);
      this.#entries.set(correlationId, { resolve, reject, timer });
    });
  }

  /** Settles the request with its reply; false when no request waits for this id. */
  settle(correlationId: string, outcome: ReplyOutcome): boolean {
    const entry = this.#take(correlationId);
    if (!entry) return false;
    if (outcome.ok) entry.resolve(outcome.value);
    else entry.reject(outcome.error);
    return true;
  }

  /** Fails one waiting request (its send failed); false when it no longer waits. */
  cancel(correlationId: string, error: unknown): boolean {
    const entry = this.#take(correlationId);
    if (!entry) return false;
    entry.reject(error);
    return true;
  }

  /** Fails every waiting request; returns how many there were. */
  cancelAll(error: unknown): number {
    const ids = [...this.#entries.keys()];
    for (const id of ids) this.cancel(id, error);
    return ids.length;
  }

  #take(correlationId: string): Entry | undefined {
    const entry = this.#entries.get(correlationId);
    if (!entry) return undefined;
    this.#entries.delete(correlationId);
    clearTimeout(entry.timer);
    return entry;
  }
}

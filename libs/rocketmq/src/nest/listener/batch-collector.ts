/**
 * Batching in the Nest layer over the consumer's per-message handler: each message waits in the
 * current batch (its handler slot stays taken, so its lease is renewed and shutdown waits for it)
 * until the batch holds `size` messages or `waitMs` passed since its first message; then the batch
 * is handled once and each message's promise settles with its own outcome.
 */
import { Reconsume, type ConsumeResult } from '../../client/index.js';

/** A message's outcome within its batch: done (undefined), or retry (a thrown error or a delay). */
export type ItemOutcome =
  { readonly ok: true } | { readonly ok: false; readonly error?: unknown; readonly retryAfterMs?: number };

export interface BatchCollectorOptions<T> {
  readonly size: number;
  readonly waitMs: number;
  /** Handles one batch; answers one outcome per item, in order. Never called with an empty batch. */
  readonly handle: (items: readonly T[]) => Promise<readonly ItemOutcome[]>;
}

interface Waiting<T> {
  readonly item: T;
  resolve(result: ConsumeResult | void): void;
  reject(error: unknown): void;
}

export class BatchCollector<T> {
  readonly #options: BatchCollectorOptions<T>;
  #current: Waiting<T>[] = [];
  #timer: NodeJS.Timeout | undefined;
  /** Batches handed to the listener so far. */
  batches = 0;

  constructor(options: BatchCollectorOptions<T>) {
    this.#options = options;
  }

  /** Adds one message; settles when its batch was handled (resolve: ack or retry-after; reject: retry). */
  add(item: T): Promise<ConsumeResult | void> {
    return new Promise((resolve, reject) => {
      this.#current.push({ item, resolve, reject });
      if (this.#current.length >= this.#options.size) this.#flush();
      else if (this.#timer === undefined) this.#timer = setTimeout(() => this.#flush(), this.#options.waitMs);
    });
  }

  #flush(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const batch = this.#current;
    this.#current = [];
    if (batch.length === 0) return;
    this.batches++;
    void this.#run(batch);
  }

  async #run(batch: Waiting<T>[]): Promise<void> {
    let outcomes: readonly ItemOutcome[];
    try {
      outcomes = await this.#options.handle(batch.map((w) => w.item));
    } catch (err) {
      for (const w of batch) w.reject(err);
      return;
    }
    batch.forEach((w, i) => {
      const outcome = outcomes[i] ?? { ok: true };
      if (outcome.ok) w.resolve(undefined);
      else if (outcome.retryAfterMs !== undefined) {
        w.resolve(Reconsume.after(outcome.retryAfterMs));
      } else w.reject(outcome.error ?? new Error('the batch listener marked this message as failed'));
    });
  }
}

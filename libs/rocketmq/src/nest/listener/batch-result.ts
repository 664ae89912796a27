/**
 * What a batch listener answers. Resolving with nothing acknowledges the whole batch; throwing
 * retries the whole batch; `BatchResult.failed(indexes)` retries only the messages at those
 * indexes (of the array the listener received) and acknowledges the others.
 *
 * ```ts
 * @RocketListener({ topic: 'audit', batch: { size: 100, waitMs: 200 } })
 * async onAudit(events: AuditEvent[]) {
 *   const failed = await this.store.insertMany(events);   // indexes that did not go in
 *   return BatchResult.failed(failed);                     // or BatchResult.failed(failed, { retryAfterMs: 5_000 })
 * }
 * ```
 */
import { MAX_RETRY_DELAY_MS } from '../../client/index.js';

const BATCH_RESULT = Symbol('rocketnest:batch-result');

export class BatchResult {
  readonly [BATCH_RESULT] = true;

  private constructor(
    /** Indexes to retry. */
    readonly failedIndexes: ReadonlySet<number>,
    /** Delay before their redelivery; undefined = the group's backoff. */
    readonly retryAfterMs: number | undefined,
  ) {}

  /** Every message acknowledged (the same as resolving with nothing). */
  static ok(): BatchResult {
    return new BatchResult(new Set(), undefined);
  }

  /**
   * Retry the messages at `indexes`, acknowledge the rest.
   * @throws RangeError for an index that is not a non-negative integer, or a delay outside 0..12 h
   */
  static failed(indexes: Iterable<number>, options: { readonly retryAfterMs?: number } = {}): BatchResult {
    const set = new Set<number>();
    for (const index of indexes) {
      if (!Number.isInteger(index) || index < 0) {
        throw new RangeError(`BatchResult.failed needs indexes ≥ 0, got ${String(index)}`);
      }
      set.add(index);
    }
    const delay = options.retryAfterMs;
    if (delay !== undefined && (!Number.isFinite(delay) || delay < 0 || delay > MAX_RETRY_DELAY_MS)) {
      throw new RangeError(`retryAfterMs must be 0..${MAX_RETRY_DELAY_MS}, got ${String(delay)}`);
    }
    return new BatchResult(set, delay);
  }

  static is(value: unknown): value is BatchResult {
    return (
      typeof value === 'object' && value !== null && (value as Partial<BatchResult>)[BATCH_RESULT] === true
    );
  }
}

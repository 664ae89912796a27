/** What `runIdempotent` answers (a busy key, a store failure or the handler's error are thrown instead). */
export type IdempotentResult<T> =
  | {
      /** The handler ran and its key is committed (transaction) or marked done (lease). */
      readonly status: 'processed';
      readonly value: T;
      /** Claims of this key: 1, more after a takeover or a `'process'` re-claim. */
      readonly attempt: number;
      /** Lease mode: the lease was taken over while the handler ran (its effects may repeat). */
      readonly leaseLost: boolean;
    }
  | {
      /** The key was already done: the handler was skipped; acknowledge the message. */
      readonly status: 'duplicate';
      /** The key had been used with another payload (skipped by the `'skip'` policy). */
      readonly payloadMismatch: boolean;
    };

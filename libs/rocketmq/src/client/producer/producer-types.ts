/** What the producer gives back: receipts, transaction outcomes, check-back messages, statistics. */

/** The server's acknowledgement of one stored message. */
export interface SendReceipt {
  readonly messageId: string;
  readonly topic: string;
  /**
   * The queue the client addressed (`queue_id` of the request). Not authoritative: Apache's proxy
   * and the built-in broker both place messages themselves (round robin, or by message group) and
   * SendMessage's answer does not name the queue. Use `messageId` and `offset` to identify a message.
   */
  readonly queueId: number;
  /** The message's offset in its queue (DELAY: in the timer's queue; TRANSACTION: the half's). */
  readonly offset: number;
  /** TRANSACTION only: the id EndTransaction names. */
  readonly transactionId?: string;
}

/** How a transaction ends: COMMIT makes the half message visible, ROLLBACK drops it. */
export type TransactionResolution = 'COMMIT' | 'ROLLBACK' | 'UNKNOWN';

/** `sendInTransaction`'s outcome. */
export interface TransactionResult {
  readonly receipt: SendReceipt;
  /** What the local function decided (UNKNOWN: left to the checker). */
  readonly resolution: TransactionResolution;
}

/** A half message the server asks about (`recover_orphaned_transaction_command`). */
export interface TransactionCheckMessage {
  readonly messageId: string;
  readonly transactionId: string;
  readonly topic: string;
  readonly body: Buffer;
  readonly tag: string | undefined;
  readonly keys: readonly string[];
  readonly properties: Readonly<Record<string, string>>;
  /** Epoch ms, when the server sent it. */
  readonly bornTimestamp: number | undefined;
}

/** Counters of a producer's life (monotonic). */
export interface ProducerStats {
  /** Messages the server acknowledged. */
  readonly sent: number;
  /** Messages that failed for good (after retries). */
  readonly failed: number;
  /** `sendOneWay` messages among `failed` (their errors were only logged). */
  readonly oneWayFailed: number;
  /** SendMessage calls made (a batch is one call). */
  readonly sendCalls: number;
  /** Messages re-sent after a retryable failure. */
  readonly retries: number;
}

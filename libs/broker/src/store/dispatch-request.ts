/**
 * What the commit log tells the consume queues and the index about one stored record. The commit
 * log produces these when records become visible (written in `async` mode, flushed in `sync`
 * mode) and again during recovery, by scanning the log: everything downstream is rebuildable.
 */
export interface DispatchRequest {
  readonly topic: string;
  readonly queueId: number;
  readonly queueOffset: number;
  readonly physicalOffset: number;
  /** Total record size in the commit log. */
  readonly size: number;
  /** Java `String.hashCode()` of the tag, 0 when untagged (see tag-hash.ts). */
  readonly tagsCode: number;
  readonly storeTimestamp: number;
  readonly messageId: string;
  readonly keys: readonly string[];
  readonly sysFlag: number;
  /**
   * The key/id index's hashes of `messageId` and `keys`, when the encoder computed them as it
   * copied the strings (live appends); absent when recovery re-dispatches from the log.
   */
  readonly indexHashes?: readonly number[];
}

/** Where a store component logs. Defaults to the console; the broker passes Nest's logger. */
export interface StoreLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const consoleStoreLogger: StoreLogger = {
  log: (m) => console.log(`[store] ${m}`),
  warn: (m) => console.warn(`[store] ${m}`),
  error: (m) => console.error(`[store] ${m}`),
};

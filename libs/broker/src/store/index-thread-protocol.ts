/** Messages between the store's thread and the index thread (see index-thread.ts). */

export interface IndexThreadOptions {
  readonly dir: string;
  readonly slotCount?: number;
  readonly entryCount?: number;
}

/** Each index entry travels as three float64s: hash, physical offset, store timestamp. */
export const ENTRY_FIELDS = 3;

export type IndexThreadRequest =
  | { readonly op: 'entries'; readonly data: Float64Array; readonly count: number; readonly id?: undefined }
  | { readonly op: 'commit'; readonly id?: undefined }
  | { readonly op: 'flush'; readonly id: number }
  | {
      readonly op: 'lookupMessageId';
      readonly id: number;
      readonly messageId: string;
      readonly maxResults: number;
    }
  | {
      readonly op: 'lookupKey';
      readonly id: number;
      readonly topic: string;
      readonly key: string;
      readonly maxResults: number;
      readonly begin: number | undefined;
      readonly end: number | undefined;
    }
  | { readonly op: 'truncateAbove'; readonly id?: undefined; readonly offset: number }
  | { readonly op: 'deleteFilesBelow'; readonly id?: undefined; readonly offset: number }
  | { readonly op: 'close'; readonly id: number };

export type IndexThreadReply =
  | { readonly type: 'loaded'; readonly maxPhysicalOffset: number }
  | { readonly type: 'loadFailed'; readonly message: string }
  | { readonly type: 'reply'; readonly id: number; readonly result?: unknown; readonly error?: string }
  /** A queued write failed: entries from this record on are missing until the next start rebuilds them. */
  | { readonly type: 'failed'; readonly physicalOffset: number; readonly message: string }
  | { readonly type: 'log'; readonly level: 'log' | 'warn' | 'error'; readonly message: string };

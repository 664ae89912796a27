/**
 * What the engine knows about one (group, topic, queue): the committed offset, how far it has read,
 * and one small entry per message it read that is not finished yet. No bodies: a message is read
 * again from the store by its commit-log offset when it is delivered.
 *
 * Invariant: every queue offset in [committed, scanned) is either finished (acked, filtered out,
 * moved to the retry topic or the DLQ) or has an entry. Entries are only ever created in offset
 * order while reading forward, and a Map iterates in insertion order, so the first entry is the
 * lowest unfinished offset and the committed offset is O(1) to advance.
 */
import { type TimerHandle } from '../clock.js';

/**
 * - `ready`: visible, never delivered in this run (FIFO look-ahead, a retry copy made by a consumer of the retry topic itself)
 *   or handed back without counting an attempt (`release`).
 * - `leased`: delivered, lease running.
 * - `backoff`: FIFO only: the lease ended (expiry or nack) and the message is redelivered in place
 *   once `visibleAt` has passed. Its message group stays locked.
 * - `retrying`: being written to `%RETRY%<group>_<topic>` through the retry scheduler.
 * - `deadLettering`: being written to `%DLQ%<group>`.
 */
export type EntryState = 'ready' | 'leased' | 'backoff' | 'retrying' | 'deadLettering';

export interface Entry {
  readonly offset: number;
  readonly physicalOffset: number;
  /** The topic a consumer sees: the queue's own topic, or a retry copy's original topic. */
  readonly realTopic: string;
  /** FIFO lock key; undefined for ungrouped messages and standard groups. */
  readonly messageGroup: string | undefined;
  /** A retry copy not yet delivered: the late-ack ledger key of the lease it was made from. */
  originKey: string | undefined;
  state: EntryState;
  /** Attempt number of the current or last delivery (0 before the first one in this run). */
  attempt: number;
  /** Attempt number the next delivery gets. */
  nextAttempt: number;
  /** Id of the current lease; 0 when none. Kept through `backoff` so a late ack still matches. */
  leaseId: number;
  invisibleUntil: number;
  clientId: string | undefined;
  /** Lease expiry, or the end of a FIFO backoff. */
  timer: TimerHandle | undefined;
  /** `backoff`: when the message is visible again. */
  visibleAt: number;
  /** `retrying`: the lease was acked after it expired; the retry copy must not be delivered. */
  lateAcked: boolean;
  /** The current lease's expiry is retried at once, not after the group's backoff (see ReceiveRequest). */
  retryAtLeaseEnd: boolean;
}

export class QueueState {
  readonly entries = new Map<number, Entry>();
  /** Entries per state, so that a receive can skip the table when nothing in it is visible. */
  readonly #counts: Record<EntryState, number> = {
    ready: 0,
    leased: 0,
    backoff: 0,
    retrying: 0,
    deadLettering: 0,
  };

  constructor(
    readonly group: string,
    readonly topic: string,
    readonly queueId: number,
    /** First unfinished offset, as last committed. */
    public committed: number,
    /** Next offset to read from the store. */
    public scanned: number = committed,
  ) {}

  /**
   * Offsets at or after `scanned` that were finished before the last graceful close
   * (finished-above.ts): skipped as finished when they are read.
   */
  restored: Set<number> | undefined;

  count(state: EntryState): number {
    return this.#counts[state];
  }

  /** Everything but `ready`: what the in-flight cap counts (leased, in backoff, being moved). */
  get held(): number {
    return this.entries.size - this.#counts.ready;
  }

  /** Read but not handed out: what the look-ahead cap counts. */
  get waiting(): number {
    return this.#counts.ready;
  }

  add(entry: Entry): void {
    this.entries.set(entry.offset, entry);
    this.#counts[entry.state]++;
  }

  setState(entry: Entry, state: EntryState): void {
    this.#counts[entry.state]--;
    this.#counts[state]++;
    entry.state = state;
  }

  /** Removes a finished entry; false if it is not (or no longer) this queue's entry. */
  remove(entry: Entry): boolean {
    if (this.entries.get(entry.offset) !== entry) return false;
    this.entries.delete(entry.offset);
    this.#counts[entry.state]--;
    return true;
  }

  /** Whether `entry` is still this queue's live entry (not finished, not dropped by a reset). */
  owns(entry: Entry): boolean {
    return this.entries.get(entry.offset) === entry;
  }

  /** Moves `committed` over the finished prefix. Returns true when it moved. */
  advance(): boolean {
    let next = this.scanned;
    for (const offset of this.entries.keys()) {
      next = offset;
      break;
    }
    if (next <= this.committed) return false;
    this.committed = next;
    return true;
  }

  /** Drops every entry (offset reset) and returns them; the caller clears their timers. */
  clear(): Entry[] {
    const dropped = [...this.entries.values()];
    this.entries.clear();
    this.restored = undefined;
    for (const state of Object.keys(this.#counts) as EntryState[]) this.#counts[state] = 0;
    return dropped;
  }
}

export function newEntry(
  offset: number,
  physicalOffset: number,
  realTopic: string,
  messageGroup: string | undefined,
  nextAttempt: number,
  originKey: string | undefined,
): Entry {
  return {
    offset,
    physicalOffset,
    realTopic,
    messageGroup,
    originKey,
    state: 'ready',
    attempt: 0,
    nextAttempt,
    leaseId: 0,
    invisibleUntil: 0,
    clientId: undefined,
    timer: undefined,
    visibleAt: 0,
    lateAcked: false,
    retryAtLeaseEnd: false,
  };
}

/**
 * Leases of a standard group that expired (or were nacked) and whose message went to
 * `%RETRY%<group>_<topic>`, remembered until the retry copy is delivered.
 *
 * PROTOCOL.md §2 AckMessage: an ack for a lease that expired but whose message was not redelivered
 * yet must be accepted. Once the original moved to the retry topic its queue offset is finished, so
 * the engine has no entry left to match the handle against; this ledger holds the lease id instead.
 * An ack that matches marks the record acked and the retry copy is then skipped when it comes up;
 * delivering the copy takes the record out, and from then on the old handle is stale.
 *
 * In memory and bounded (least recently written dropped first): a record lost to eviction or a
 * restart only means the copy is delivered after all (at-least-once) and the late ack is answered
 * INVALID_RECEIPT_HANDLE, as for any stale handle.
 */

export interface LateAckRecord {
  readonly leaseId: number;
  acked: boolean;
}

/** Default bound: 65,536 records of ~150 bytes each, ~10 MB at most. */
export const DEFAULT_LATE_ACK_LEDGER_SIZE = 65_536;

/** The ledger key of a lease: consumer group and the queue position it was on. */
export function leaseKey(group: string, topic: string, queueId: number, queueOffset: number): string {
  return `${group}\u0000${topic}\u0000${queueId}\u0000${queueOffset}`;
}

export class LateAckLedger {
  readonly #records = new Map<string, LateAckRecord>();

  constructor(readonly capacity: number = DEFAULT_LATE_ACK_LEDGER_SIZE) {
    if (!Number.isInteger(capacity) || capacity < 0) throw new RangeError(`bad ledger capacity ${capacity}`);
  }

  get size(): number {
    return this.#records.size;
  }

  put(key: string, record: LateAckRecord): void {
    if (this.capacity === 0) return;
    this.#records.delete(key);
    this.#records.set(key, record);
    if (this.#records.size > this.capacity) {
      const oldest = this.#records.keys().next();
      if (oldest.done !== true) this.#records.delete(oldest.value);
    }
  }

  /** An ack of lease `leaseId`: true if it matched a record still waiting for its copy. */
  ack(key: string, leaseId: number): boolean {
    const record = this.#records.get(key);
    if (record === undefined || record.leaseId !== leaseId || record.acked) return false;
    record.acked = true;
    return true;
  }

  /** The copy came up for delivery: forget the lease; returns the record, if any. */
  take(key: string): LateAckRecord | undefined {
    const record = this.#records.get(key);
    if (record !== undefined) this.#records.delete(key);
    return record;
  }

  /**
   * Drops the records of leases on a (group, topic) that `match` selects (the topic or group was
   * deleted); a late ack of such a lease is then stale. Returns how many were dropped.
   */
  forget(match: (group: string, topic: string) => boolean): number {
    let dropped = 0;
    // Deleting the entry being visited is safe while iterating a Map.
    for (const key of this.#records.keys()) {
      const [group = '', topic = ''] = key.split('\u0000', 2);
      if (!match(group, topic)) continue;
      this.#records.delete(key);
      dropped++;
    }
    return dropped;
  }
}

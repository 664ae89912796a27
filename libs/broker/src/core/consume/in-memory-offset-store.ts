import { type OffsetStore } from './types.js';

/** Committed offsets in a Map: for tests and for a broker that keeps no state across restarts. */
export class InMemoryOffsetStore implements OffsetStore {
  readonly #offsets = new Map<string, number>();

  get(group: string, topic: string, queueId: number): number | undefined {
    return this.#offsets.get(key(group, topic, queueId));
  }

  /** Moves forward only, as `ConsumerOffsets.commit`. */
  commit(group: string, topic: string, queueId: number, offset: number): boolean {
    const k = key(group, topic, queueId);
    const current = this.#offsets.get(k);
    if (current !== undefined && offset <= current) return false;
    this.#offsets.set(k, offset);
    return true;
  }

  reset(group: string, topic: string, queueId: number, offset: number): void {
    this.#offsets.set(key(group, topic, queueId), offset);
  }
}

function key(group: string, topic: string, queueId: number): string {
  return `${group}\u0000${topic}\u0000${queueId}`;
}

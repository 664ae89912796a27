/**
 * An in-memory BenchQueue for the harness's own tests: confirms every publish, delivers to the
 * consumer on the next tick, and can be told to lose, corrupt or over-count messages — the faults
 * the workloads' checks exist to catch.
 */
import { type BenchQueue } from './target.js';

export interface MemoryQueueFaults {
  /** Indices (in publish order) whose deliveries are dropped. */
  readonly drop?: ReadonlySet<number>;
  /** Indices whose bodies arrive cut by one byte. */
  readonly truncate?: ReadonlySet<number>;
  /** Added to what `depth()` reports. */
  readonly extraDepth?: number;
  /** Publish number that is refused (rejects). */
  readonly refuse?: number;
}

export function memoryQueue(faults: MemoryQueueFaults = {}): BenchQueue & { readonly published: number } {
  const stored: Buffer[] = [];
  let consumer: ((body: Uint8Array) => void) | undefined;
  let delivered = 0;
  const deliver = (): void => {
    while (consumer && delivered < stored.length) {
      const i = delivered++;
      if (faults.drop?.has(i)) continue;
      const body = stored[i]!;
      consumer(faults.truncate?.has(i) ? body.subarray(0, body.length - 1) : body);
    }
  };
  return {
    get published() {
      return stored.length;
    },
    publish(body) {
      if (faults.refuse === stored.length)
        return Promise.reject(new Error(`publish ${stored.length} refused`));
      stored.push(body);
      setImmediate(deliver);
      return Promise.resolve();
    },
    consume(onMessage) {
      consumer = onMessage;
      setImmediate(deliver);
      return Promise.resolve();
    },
    stopConsuming() {
      consumer = undefined;
      return Promise.resolve();
    },
    depth: () => Promise.resolve(stored.length + (faults.extraDepth ?? 0)),
    remove: () => Promise.resolve(),
  };
}

/**
 * What the workloads need from a messaging system, and nothing more: a queue (topic, stream) that
 * takes confirmed publishes and hands out deliveries that are acknowledged manually after the
 * handler ran. Each system's adapter (targets/*.ts) keeps to the client settings of PERFORMANCE.md
 * (c): window 256 publishes awaiting confirmation, 256 deliveries unacknowledged at most.
 */

/** Publishes awaiting confirmation at once (PERFORMANCE.md (c): ≤ 256 unconfirmed / in flight). */
export const PUBLISH_WINDOW = 256;
/** Deliveries a consumer holds unacknowledged (RabbitMQ prefetch, JetStream max_messages, ours maxInFlight). */
export const CONSUMER_PREFETCH = 256;

/** How a child reaches a system (JSON, from the harness). */
export type TargetSpec =
  | { readonly kind: 'ours'; readonly endpoint: string }
  | { readonly kind: 'rabbit'; readonly url: string; readonly queueType: 'classic' | 'quorum' }
  | { readonly kind: 'jetstream'; readonly servers: string };

export interface BenchQueue {
  /** Publishes one message; resolves once the system confirmed it, rejects when it refused it. */
  publish(body: Buffer): Promise<void>;
  /**
   * Starts one consumer; `onMessage` runs for each delivery before the delivery is acknowledged
   * (manually: RabbitMQ basic.ack, JetStream AckExplicit, ours after the handler returns).
   */
  consume(onMessage: (body: Uint8Array) => void): Promise<void>;
  /** Stops the consumer started by `consume`, its acknowledgements sent. */
  stopConsuming(): Promise<void>;
  /** Messages the system holds for this queue right now, where it can tell (count checks). */
  depth(): Promise<number | undefined>;
  /** Removes the queue (stream, consumer) where the system allows it. */
  remove(): Promise<void>;
}

export interface BenchTarget {
  /** A fresh queue; `name` is unique within the run. */
  openQueue(name: string): Promise<BenchQueue>;
  close(): Promise<void>;
}

/**
 * Which queues this consumer reads, and one receive loop per queue (PROTOCOL.md §2 QueryAssignment),
 * as the Java PushConsumer does: QueryAssignment per subscribed topic at start, then every
 * `refreshMs` (Java: 5 s); a queue that appears gets a loop, one that disappears has its loop
 * stopped (its messages in work are still settled).
 *
 * The built-in broker assigns one queue (id 0 or −1) that reads the whole topic. Apache RocketMQ
 * assigns one queue per broker (id −1: the proxy pops from every queue of that broker) or, for FIFO
 * groups, queues balanced among the group's consumers; assignments may then be empty for a consumer
 * that got nothing, and change as consumers come and go.
 *
 * A failed first query fails the start (unknown topic, refused group: the application should hear
 * it); a failed refresh keeps the current loops and is logged.
 */
import { type MessageQueue } from '@rocketnest/broker/grpc/proto-types.js';
import { describeError, type ConsumerLogger, ThrottledLog } from './consumer-logger.js';
import { type ConsumerTransport } from './consumer-transport.js';
import { type ReceiveLoop } from './receive-loop.js';
import { type CheckedSubscription } from './subscription.js';

/** Java PushConsumer's assignment scan period. */
export const ASSIGNMENT_REFRESH_MS = 5_000;

export interface AssignmentsOptions {
  readonly transport: ConsumerTransport;
  readonly group: string;
  readonly subscriptions: readonly CheckedSubscription[];
  readonly createLoop: (queue: MessageQueue, subscription: CheckedSubscription) => ReceiveLoop;
  readonly logger: ConsumerLogger;
  readonly refreshMs?: number;
  /** Receive loops per assigned queue (receives in flight at once on it). Default 1. */
  readonly loopsPerQueue?: number;
}

export class Assignments {
  readonly #options: AssignmentsOptions;
  readonly #loops = new Map<string, ReceiveLoop>();
  readonly #throttled: ThrottledLog;
  #timer: NodeJS.Timeout | undefined;
  #refreshing = false;
  #stopped = false;

  constructor(options: AssignmentsOptions) {
    this.#options = options;
    this.#throttled = new ThrottledLog(options.logger);
  }

  /** The loops running now. */
  loops(): ReceiveLoop[] {
    return [...this.#loops.values()];
  }

  /**
   * Queries every topic's assignment and starts the loops, then refreshes periodically.
   * @throws the typed error of the first failed QueryAssignment
   */
  async start(): Promise<void> {
    const { transport, group, subscriptions } = this.#options;
    const found = await Promise.all(subscriptions.map((s) => transport.queryAssignments(s.topic, group)));
    subscriptions.forEach((s, i) => this.#sync(s, found[i]!));
    const refreshMs = this.#options.refreshMs ?? ASSIGNMENT_REFRESH_MS;
    this.#timer = setInterval(() => void this.#refresh(), refreshMs);
    this.#timer.unref(); // the receive loops keep the process alive while the consumer runs
  }

  /** Stops refreshing and every loop; resolves once they have ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const loops = [...this.#loops.values()];
    this.#loops.clear();
    await Promise.all(loops.map((l) => l.stop()));
  }

  async #refresh(): Promise<void> {
    if (this.#refreshing || this.#stopped) return;
    this.#refreshing = true;
    try {
      for (const subscription of this.#options.subscriptions) {
        try {
          const queues = await this.#options.transport.queryAssignments(
            subscription.topic,
            this.#options.group,
          );
          if (this.#stopped) return;
          this.#sync(subscription, queues);
          this.#throttled.clear(subscription.topic);
        } catch (err) {
          this.#throttled.warn(
            subscription.topic,
            `refreshing the assignment of ${subscription.topic} failed: ${describeError(err)}; keeping the current one`,
          );
        }
      }
    } finally {
      this.#refreshing = false;
    }
  }

  #sync(subscription: CheckedSubscription, queues: readonly MessageQueue[]): void {
    const wanted = new Map<string, MessageQueue>();
    for (const queue of queues) wanted.set(queueKey(subscription.topic, queue), queue);
    for (const [loopKey, loop] of this.#loops) {
      const key = loopKey.slice(0, loopKey.lastIndexOf('\n'));
      if (key.startsWith(`${subscription.topic}\n`) && !wanted.has(key)) {
        this.#loops.delete(loopKey);
        this.#options.logger.info(`queue ${key.replaceAll('\n', '/')} is no longer assigned; its loop stops`);
        void loop.stop();
      }
    }
    const perQueue = this.#options.loopsPerQueue ?? 1;
    for (const [key, queue] of wanted) {
      for (let i = 0; i < perQueue; i++) {
        const loopKey = `${key}\n${i}`;
        if (this.#loops.has(loopKey)) continue;
        const loop = this.#options.createLoop(
          { ...queue, topic: queue.topic?.name ? queue.topic : { name: subscription.topic } },
          subscription,
        );
        this.#loops.set(loopKey, loop);
        loop.start();
      }
    }
  }
}

function queueKey(topic: string, queue: MessageQueue): string {
  return `${topic}\n${queue.broker?.name ?? ''}\n${queue.id ?? 0}`;
}

/**
 * Runs handlers: at most `maxConcurrency` at once, in arrival order.
 *
 * FIFO groups: messages of one message group (per topic) run strictly one after another, in the
 * order the server delivered them, and a later message of a group never starts while an earlier one
 * is unfinished, including while the earlier one waits for a local retry (it keeps its place at the
 * head of its group, without holding a concurrency slot). Different message groups run in parallel.
 * Messages without a message group have no order to keep and run like standard ones. (Java's FIFO
 * PushConsumer serializes a whole queue; per message group is what RocketMQ promises, and lets many
 * groups of one queue progress at once.)
 *
 * A task answers `done` (settled or given up: the slot is released and the group's next message
 * becomes ready) or `{ retryInMs }` (run it again after the delay, still at its group's head).
 */
import { type Delivery } from './delivery.js';

export type TaskResult = 'done' | { readonly retryInMs: number };

export interface DispatcherOptions {
  readonly maxConcurrency: number;
  /** Keep per-message-group order. */
  readonly fifo: boolean;
  /** Runs one attempt of a delivery's handler and settles it; never rejects. */
  readonly run: (delivery: Delivery) => Promise<TaskResult>;
  /** The delivery left the dispatcher for good (its in-flight slot can be released). */
  readonly onDone: (delivery: Delivery) => void;
}

export class Dispatcher {
  readonly #options: DispatcherOptions;
  readonly #ready: Delivery[] = [];
  /** FIFO: the deliveries of each busy message group, its current one first. */
  readonly #lanes = new Map<string, Delivery[]>();
  readonly #laneOf = new Map<Delivery, string>();
  readonly #running = new Set<Delivery>();
  readonly #retryTimers = new Map<Delivery, NodeJS.Timeout>();
  readonly #idleWaiters: (() => void)[] = [];
  #stopped = false;
  #highWater = 0;

  constructor(options: DispatcherOptions) {
    if (!Number.isInteger(options.maxConcurrency) || options.maxConcurrency < 1) {
      throw new RangeError(`max concurrency must be an integer ≥ 1, got ${options.maxConcurrency}`);
    }
    this.#options = options;
  }

  /** Handlers running now. */
  get running(): number {
    return this.#running.size;
  }

  /** The most handlers ever running at once. */
  get highWater(): number {
    return this.#highWater;
  }

  /** The deliveries whose handler runs now. */
  runningDeliveries(): Delivery[] {
    return [...this.#running];
  }

  /** Adds a receive's deliveries, in the order the server sent them. */
  submit(deliveries: readonly Delivery[]): void {
    for (const delivery of deliveries) {
      if (this.#stopped) {
        this.#options.onDone(delivery);
        continue;
      }
      const group = this.#options.fifo ? delivery.view.messageGroup : undefined;
      if (group === undefined) {
        this.#ready.push(delivery);
        continue;
      }
      const key = `${delivery.topic}\n${group}`;
      this.#laneOf.set(delivery, key);
      const lane = this.#lanes.get(key);
      if (lane) {
        lane.push(delivery); // waits for the group's earlier messages
      } else {
        this.#lanes.set(key, [delivery]);
        this.#ready.push(delivery);
      }
    }
    this.#pump();
  }

  /**
   * No handler starts any more. Returns the deliveries that never started or wait for a retry
   * (they are no longer the dispatcher's); running handlers finish.
   */
  stop(): Delivery[] {
    this.#stopped = true;
    const left = new Set<Delivery>(this.#ready.splice(0));
    for (const lane of this.#lanes.values()) for (const d of lane) if (!this.#running.has(d)) left.add(d);
    for (const [delivery, timer] of this.#retryTimers) {
      clearTimeout(timer);
      left.add(delivery);
    }
    this.#retryTimers.clear();
    for (const delivery of left) this.#forget(delivery);
    this.#wakeIfIdle();
    return [...left];
  }

  /** Resolves true once no handler runs, or false at `deadline` (epoch ms). */
  async whenIdle(deadline: number): Promise<boolean> {
    if (this.#running.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = await new Promise<boolean>((resolve) => {
      const wake = (): void => resolve(true);
      this.#idleWaiters.push(wake);
      timer = setTimeout(
        () => {
          const i = this.#idleWaiters.indexOf(wake);
          if (i >= 0) this.#idleWaiters.splice(i, 1);
          resolve(false);
        },
        Math.max(0, deadline - Date.now()),
      );
    });
    clearTimeout(timer);
    return idle;
  }

  #pump(): void {
    while (!this.#stopped && this.#running.size < this.#options.maxConcurrency && this.#ready.length > 0) {
      this.#start(this.#ready.shift()!);
    }
  }

  #start(delivery: Delivery): void {
    this.#running.add(delivery);
    if (this.#running.size > this.#highWater) this.#highWater = this.#running.size;
    void this.#options.run(delivery).then(
      (result) => this.#finished(delivery, result),
      () => this.#finished(delivery, 'done'), // run never rejects; a bug must not stall the group
    );
  }

  #finished(delivery: Delivery, result: TaskResult): void {
    this.#running.delete(delivery);
    if (result !== 'done' && !this.#stopped) {
      const timer = setTimeout(() => {
        this.#retryTimers.delete(delivery);
        if (this.#stopped) return;
        this.#ready.unshift(delivery); // a retry goes first: its group has waited already
        this.#pump();
      }, result.retryInMs);
      this.#retryTimers.set(delivery, timer);
      this.#pump();
      this.#wakeIfIdle();
      return;
    }
    // Done, or stopped before its retry: either way it leaves (unsettled ones are the server's again).
    const key = this.#laneOf.get(delivery);
    this.#forget(delivery);
    if (key !== undefined && !this.#stopped) {
      const next = this.#lanes.get(key)?.[0];
      if (next) this.#ready.push(next);
    }
    this.#pump();
    this.#wakeIfIdle();
  }

  /** Removes a delivery from every table and reports it done. */
  #forget(delivery: Delivery): void {
    const key = this.#laneOf.get(delivery);
    if (key !== undefined) {
      this.#laneOf.delete(delivery);
      const lane = this.#lanes.get(key);
      if (lane) {
        const i = lane.indexOf(delivery);
        if (i >= 0) lane.splice(i, 1);
        if (lane.length === 0) this.#lanes.delete(key);
      }
    }
    this.#options.onDone(delivery);
  }

  #wakeIfIdle(): void {
    if (this.#running.size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }
}

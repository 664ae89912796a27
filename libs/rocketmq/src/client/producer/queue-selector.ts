/**
 * Which queue of a topic's route a batch is addressed to:
 * - standard messages: round robin over the writable queues, one step per batch, so that load
 *   spreads over every queue (and every broker) of the topic;
 * - FIFO messages: the message group's hash picks the queue, so a group always lands in the same
 *   queue (the order a consumer sees is the order of the queue).
 * The queue's broker endpoint is where the call goes, which matters when a route names several
 * endpoints. The queue id itself is advisory: the built-in broker and Apache's proxy
 * (`SendMessageActivity.SendMessageQueueSelector`) both place messages themselves, by round robin or,
 * for a request of one FIFO message, by its group.
 */
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { NotFoundError } from '../errors.js';
import { type RouteQueue, type TopicRoute } from '../route.js';

/** FNV-1a, 32 bits: stable across processes and versions (a group must map to one queue forever). */
export function hashOfGroup(group: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < group.length; i++) {
    hash ^= group.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

export class QueueSelector {
  readonly #next = new Map<string, number>();

  #writable(route: TopicRoute): readonly RouteQueue[] {
    if (route.writableQueues.length === 0) {
      throw new NotFoundError(StatusCode.TOPIC_NOT_FOUND, `topic ${route.topic} has no writable queue`);
    }
    return route.writableQueues;
  }

  /** The next queue of the round robin of `route.topic`. */
  roundRobin(route: TopicRoute): RouteQueue {
    const queues = this.#writable(route);
    const index = this.#next.get(route.topic) ?? Math.floor(Math.random() * queues.length);
    this.#next.set(route.topic, (index + 1) % queues.length);
    return queues[index % queues.length]!;
  }

  /** The queue of a message group. */
  forGroup(route: TopicRoute, group: string): RouteQueue {
    const queues = this.#writable(route);
    return queues[hashOfGroup(group) % queues.length]!;
  }
}

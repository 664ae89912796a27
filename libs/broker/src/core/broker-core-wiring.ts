/**
 * Adapters between the broker core's parts: what the consume engine asks of the group registry,
 * the timer service and the topic registry, each in the shape the engine's interfaces declare
 * (consume/types.ts).
 */
import { type MessageStore } from '../store/index.js';
import { type Clock } from './clock.js';
import { type GroupPolicy as EngineGroupPolicy, type RetryScheduler } from './consume/types.js';
import { backoffFor, type GroupConfig, type GroupPolicy, type GroupRegistry } from './group-registry.js';
import { type TimerService } from './timer/timer-service.js';
import { type TopicRegistry } from './topic-registry.js';

/**
 * The engine's `policyOf`: the group's current config, adapted and cached per config object (a
 * registry update replaces the object, so a reconfigured group is seen at its next use). It must
 * not throw: the engine also calls it from lease timers, after the group may have been deleted, so
 * an unknown group gets the registry's defaults instead of CONSUMER_GROUP_NOT_FOUND. The facade
 * checks and auto-creates groups before it calls the engine.
 */
export function enginePolicyOf(groups: GroupRegistry): (group: string) => EngineGroupPolicy {
  const cache = new WeakMap<GroupPolicy | GroupConfig, EngineGroupPolicy>();
  return (group) => {
    const config: GroupPolicy = groups.get(group) ?? groups.defaults;
    let policy = cache.get(config);
    if (!policy) {
      policy = Object.freeze({
        fifo: config.fifo,
        maxDeliveryAttempts: config.maxDeliveryAttempts,
        consumeFrom: config.consumeFrom,
        backoffMs: (attempt: number) => backoffFor(config, attempt),
      });
      cache.set(config, policy);
    }
    return policy;
  };
}

/**
 * Retries go through the durable timer service. A group's backoff step may be up to 12 h while the
 * timer accepts at most `maxDelayMs` (24 h by default, configurable lower): a longer step is capped
 * to the timer's horizon rather than refused, which would make the engine redeliver at once.
 */
export function timerRetryScheduler(timers: TimerService, clock: Clock): RetryScheduler {
  return {
    schedule: (message, deliverAt) =>
      timers.schedule(message, Math.min(deliverAt, clock.now() + timers.maxDelayMs)),
  };
}

/**
 * Queues of a topic as the registry configures them (a topic may have empty queues the store has
 * never seen); for a name the registry does not know, the queues the store has.
 */
export function registryQueueCount(
  topics: TopicRegistry,
  store: Pick<MessageStore, 'queueIds'>,
): (topic: string) => number {
  return (topic) => {
    const configured = topics.get(topic)?.queueCount;
    if (configured !== undefined) return configured;
    const ids = store.queueIds(topic);
    return ids.length === 0 ? 1 : Math.max(...ids) + 1;
  };
}

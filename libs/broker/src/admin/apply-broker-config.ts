/**
 * Applies a validated broker config to the core at start: each topic and group is created when
 * missing, updated when it differs, and left alone when it already matches, so applying the same
 * file twice changes nothing (idempotent). Settings a group or topic leaves out keep their current
 * value (defaults for a new one); topics and groups absent from the file are never deleted, since
 * clients may have created them on first use.
 *
 * Everything is checked before anything changes: a queue count below the existing one (queues
 * cannot shrink) fails the whole apply with the path of the offending entry.
 */
import { type BrokerCore } from '../core/broker-core.js';
import { type GroupConfig, type GroupOptions } from '../core/group-registry.js';
import { type TopicConfig, type TopicOptions } from '../core/topic-registry.js';
import { type BrokerConfigDocument } from './broker-config-file.js';
import { type GroupSpec, type TopicSpec } from './resource-specs.js';
import { SpecError } from './spec-reader.js';

/** The part of the core that applying a config uses. */
export type ConfigTarget = Pick<
  BrokerCore,
  'getTopic' | 'createTopic' | 'updateTopic' | 'getGroup' | 'createGroup' | 'updateGroup'
>;

export interface ApplyReport {
  readonly created: readonly string[];
  readonly updated: readonly string[];
  readonly unchanged: readonly string[];
}

function sameTypes(spec: TopicSpec, current: TopicConfig): boolean {
  if (spec.messageTypes === undefined) return true;
  return (
    spec.messageTypes.length === current.messageTypes.size &&
    spec.messageTypes.every((t) => current.messageTypes.has(t))
  );
}

/** Whether applying `spec` would change `current`. */
export function topicDiffers(spec: TopicSpec, current: TopicConfig): boolean {
  return (
    (spec.queueCount !== undefined && spec.queueCount !== current.queueCount) || !sameTypes(spec, current)
  );
}

function sameBackoff(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((ms, i) => ms === b[i]);
}

function sameStart(a: GroupConfig['consumeFrom'], b: GroupConfig['consumeFrom']): boolean {
  if (a.kind !== b.kind) return false;
  return a.kind !== 'timestamp' || (b.kind === 'timestamp' && a.timestamp === b.timestamp);
}

/** The group options that differ from `current`, or undefined when it already matches. */
export function groupChanges(spec: GroupSpec, current: GroupConfig): GroupOptions | undefined {
  const o = spec.options;
  const changes: GroupOptions = {
    ...(o.fifo !== undefined && o.fifo !== current.fifo ? { fifo: o.fifo } : {}),
    ...(o.maxDeliveryAttempts !== undefined && o.maxDeliveryAttempts !== current.maxDeliveryAttempts
      ? { maxDeliveryAttempts: o.maxDeliveryAttempts }
      : {}),
    ...(o.retryBackoffMs !== undefined && !sameBackoff(o.retryBackoffMs, current.retryBackoffMs)
      ? { retryBackoffMs: o.retryBackoffMs }
      : {}),
    ...(o.consumeFrom !== undefined && !sameStart(o.consumeFrom, current.consumeFrom)
      ? { consumeFrom: o.consumeFrom }
      : {}),
  };
  return Object.keys(changes).length > 0 ? changes : undefined;
}

/**
 * Creates or updates every topic and group of `config` in `core`.
 * @throws SpecError (a queue count that would shrink), before any change; the core's RocketErrors
 *   for a write that fails (disk full)
 */
export function applyBrokerConfig(core: ConfigTarget, config: BrokerConfigDocument): ApplyReport {
  config.topics.forEach((spec, i) => {
    const current = core.getTopic(spec.name);
    if (current && spec.queueCount !== undefined && spec.queueCount < current.queueCount) {
      throw new SpecError(
        `topics[${i}].queueCount`,
        `is ${spec.queueCount}, but topic ${JSON.stringify(spec.name)} already has ${current.queueCount} queues ` +
          'and a queue count cannot shrink (delete the topic to re-create it smaller)',
      );
    }
  });
  const created: string[] = [];
  const updated: string[] = [];
  const unchanged: string[] = [];
  for (const spec of config.topics) {
    const label = `topic ${spec.name}`;
    const current = core.getTopic(spec.name);
    if (!current) {
      core.createTopic(spec.name, topicOptionsOf(spec));
      created.push(label);
    } else if (topicDiffers(spec, current)) {
      core.updateTopic(spec.name, topicOptionsOf(spec));
      updated.push(label);
    } else unchanged.push(label);
  }
  for (const spec of config.groups) {
    const label = `group ${spec.name}`;
    const current = core.getGroup(spec.name);
    if (!current) {
      core.createGroup(spec.name, spec.options);
      created.push(label);
      continue;
    }
    const changes = groupChanges(spec, current);
    if (changes) {
      core.updateGroup(spec.name, changes);
      updated.push(label);
    } else unchanged.push(label);
  }
  return { created, updated, unchanged };
}

/** The options a spec sets (what it leaves out keeps its current value or the default). */
export function topicOptionsOf(spec: TopicSpec): TopicOptions {
  return {
    ...(spec.queueCount === undefined ? {} : { queueCount: spec.queueCount }),
    ...(spec.messageTypes === undefined ? {} : { messageTypes: spec.messageTypes }),
  };
}

/** Consumer group names of listeners: the default derived one, and broadcasting's per-instance one. */
import { validateConsumerGroup } from '@rocketnest/broker/core/validation.js';
import { clientErrorOf } from '../../client/index.js';

/** RocketMQ's group name limit. */
export const GROUP_NAME_MAX_LENGTH = 120;
/** Infix of broadcasting groups: `<group>-BROADCAST-<instanceName>`. */
export const BROADCAST_INFIX = '-BROADCAST-';

function sanitize(text: string): string {
  return text.replace(/[^a-zA-Z0-9_-]/g, '_');
}

/**
 * `<ClassName>_<methodName>_<topic>`, characters outside `[a-zA-Z0-9_-]` replaced by `_`; when
 * longer than 120 characters, cut and suffixed with a short hash of the whole name (still stable).
 */
export function defaultGroupName(className: string, methodName: string, topic: string): string {
  const name = sanitize(`${className}_${methodName}_${topic}`);
  return fit(name);
}

/** The group of one instance of a broadcasting listener. */
export function broadcastGroupName(group: string, instanceName: string): string {
  return fit(`${group}${BROADCAST_INFIX}${instanceName}`);
}

function fit(name: string): string {
  if (name.length <= GROUP_NAME_MAX_LENGTH) return name;
  let hash = 0;
  for (let i = 0; i < name.length; i++) hash = (Math.imul(hash, 31) + name.charCodeAt(i)) >>> 0;
  const suffix = `-${hash.toString(36)}`;
  return name.slice(0, GROUP_NAME_MAX_LENGTH - suffix.length) + suffix;
}

/** @throws the client's ILLEGAL_CONSUMER_GROUP error for a name the server would refuse */
export function checkGroupName(group: string): string {
  try {
    validateConsumerGroup(group);
  } catch (err) {
    throw clientErrorOf(err);
  }
  return group;
}

/**
 * Namespaces (`x-mq-namespace`, `Resource.resource_namespace`) the way RocketMQ 5 maps them
 * (`NamespaceUtil.wrapNamespace`): inside the broker a namespaced topic or group is named
 * `<namespace>%<name>` (`%` is a legal name character), a retry or DLQ name keeps its prefix in
 * front (`%RETRY%<namespace>%<group>`). Names go back without the namespace in everything a client
 * reads (route queues, delivered messages), so a client never sees another namespace's names.
 *
 * Which namespace applies: the resource's own `resource_namespace` when set (the client fills it only
 * on SendMessage, EndTransaction and Settings topics), else the call's `x-mq-namespace` header (sent
 * on every call), so that QueryRoute, receive and ack of one client agree with its sends.
 */
import { BadRequestError } from '../core/errors.js';
import { DLQ_TOPIC_PREFIX, RETRY_TOPIC_PREFIX } from '../core/limits.js';

export const NAMESPACE_SEPARATOR = '%';

/** Java `NamespaceUtil` has no bound; 64 keeps wrapped names well inside the 127/120 name limits' reach. */
export const NAMESPACE_MAX_LENGTH = 64;

const NAMESPACE_PATTERN = /^[a-zA-Z0-9_-]+$/;

/**
 * A namespace from a header or a resource: empty means none.
 * @throws BadRequestError (40000) for one that is too long or has characters outside `[a-zA-Z0-9_-]`
 */
export function checkNamespace(namespace: string): string {
  if (namespace === '') return '';
  if (namespace.length > NAMESPACE_MAX_LENGTH || !NAMESPACE_PATTERN.test(namespace)) {
    throw new BadRequestError(
      `namespace ${JSON.stringify(namespace.slice(0, NAMESPACE_MAX_LENGTH))} must be 1..${NAMESPACE_MAX_LENGTH} ` +
        'characters of [a-zA-Z0-9_-]',
    );
  }
  return namespace;
}

function systemPrefixOf(name: string): string {
  if (name.startsWith(RETRY_TOPIC_PREFIX)) return RETRY_TOPIC_PREFIX;
  if (name.startsWith(DLQ_TOPIC_PREFIX)) return DLQ_TOPIC_PREFIX;
  return '';
}

/** The broker's name of `name` in `namespace`; unchanged without a namespace or when already wrapped. */
export function wrapName(namespace: string, name: string): string {
  if (namespace === '' || name === '') return name;
  const prefix = systemPrefixOf(name);
  const bare = name.slice(prefix.length);
  const mark = namespace + NAMESPACE_SEPARATOR;
  if (bare.startsWith(mark)) return name;
  return prefix + mark + bare;
}

/** The client's name of a broker name: `wrapName` undone; names of other namespaces stay as they are. */
export function unwrapName(namespace: string, name: string): string {
  if (namespace === '') return name;
  const prefix = systemPrefixOf(name);
  const bare = name.slice(prefix.length);
  const mark = namespace + NAMESPACE_SEPARATOR;
  return bare.startsWith(mark) ? prefix + bare.slice(mark.length) : name;
}

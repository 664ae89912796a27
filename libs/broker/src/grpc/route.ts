/**
 * QueryRoute and QueryAssignment: where a topic's queues are (always this broker, at its advertised
 * endpoint) and which queues a Push consumer should poll.
 *
 * Route layout (PROTOCOL.md §2 hard requirements):
 * - every queue of the topic, id 0 first, each READ_WRITE on broker `broker-0` (id 0) at the
 *   advertised endpoint, identical on every call. The official producer and SimpleConsumer only use
 *   queue 0 (client bug #1093), our own client spreads over all of them; a receive on queue 0 or −1
 *   reads the whole topic (receive-message.ts), so both work.
 * - `accept_message_types` from the topic's types (MIXED = all four), never empty.
 * - never OK with zero queues (the client's startup would hang): TOPIC_NOT_FOUND instead.
 * - unknown topics are auto-created when the core is configured so (RocketMQ's default), else
 *   TOPIC_NOT_FOUND.
 *
 * Authorization: a route only names this broker, so any authenticated user may read the route of an
 * existing topic (consumers need it too, and their rights are on groups). Creating a missing topic
 * through QueryRoute is a publisher's right: a user who may not publish to it gets TOPIC_NOT_FOUND.
 *
 * Assignment: one assignment per topic, queue id −1 (the Java proxy's "the whole topic on this
 * broker" for standard groups), so a Push consumer runs one long-poll loop and the core's FIFO locks
 * keep per-message-group order across its batches.
 */
import { isIPv4 } from 'node:net';
import { type TopicConfig } from '../core/topic-registry.js';
import { TopicNotFoundError } from '../core/errors.js';
import { validateConsumerGroup, validateTopicName, type MessageType } from '../core/validation.js';
import { isAllowed } from './auth.js';
import { type CallContext } from './call-context.js';
import { type HandlerDeps } from './handler-deps.js';
import {
  AddressScheme,
  Permission,
  ProtoMessageType,
  type Broker,
  type Endpoints,
  type MessageQueue,
  type QueryAssignmentRequest,
  type QueryAssignmentResponse,
  type QueryRouteRequest,
  type QueryRouteResponse,
} from './proto-types.js';
import { OK_STATUS } from './status.js';
import { unary } from './unary.js';

/** The one broker of a built-in deployment, as named in routes. */
export const BROKER_NAME = 'broker-0';
/** RocketMQ's master broker id. */
export const MASTER_BROKER_ID = 0;
/** Queue id of an assignment meaning "every queue of the topic" (Java proxy, standard groups). */
export const WHOLE_TOPIC_QUEUE_ID = -1;

const TYPE_ORDER: readonly MessageType[] = ['NORMAL', 'FIFO', 'DELAY', 'TRANSACTION'];
const PROTO_TYPE: Readonly<Record<MessageType, number>> = {
  NORMAL: ProtoMessageType.NORMAL,
  FIFO: ProtoMessageType.FIFO,
  DELAY: ProtoMessageType.DELAY,
  TRANSACTION: ProtoMessageType.TRANSACTION,
};

/** The proto `Endpoints` of a host:port (IPv4 or a host name; IPv6 is refused at configuration). */
export function endpointsOf(endpoint: { host: string; port: number }): Endpoints {
  return {
    scheme: isIPv4(endpoint.host) ? AddressScheme.IPv4 : AddressScheme.DOMAIN_NAME,
    addresses: [{ host: endpoint.host, port: endpoint.port }],
  };
}

export function brokerOf(endpoint: { host: string; port: number }): Broker {
  return { name: BROKER_NAME, id: MASTER_BROKER_ID, endpoints: endpointsOf(endpoint) };
}

/** The proto message types a topic accepts, in enum order. */
export function acceptedMessageTypes(topic: Pick<TopicConfig, 'messageTypes'>): number[] {
  return TYPE_ORDER.filter((t) => topic.messageTypes.has(t)).map((t) => PROTO_TYPE[t]);
}

function queueOf(topic: TopicConfig, id: number, context: CallContext, broker: Broker): MessageQueue {
  return {
    topic: context.publicResource(topic.name),
    id,
    permission: Permission.READ_WRITE,
    broker,
    accept_message_types: acceptedMessageTypes(topic),
  };
}

/**
 * Every queue of `topic`, id 0 first.
 * @throws TopicNotFoundError for a topic without queues or accepted types (never answered as OK)
 */
export function routeQueues(
  topic: TopicConfig,
  context: CallContext,
  endpoint: { host: string; port: number },
): MessageQueue[] {
  if (topic.queueCount < 1 || topic.messageTypes.size === 0) throw new TopicNotFoundError(topic.name);
  const broker = brokerOf(endpoint);
  return Array.from({ length: topic.queueCount }, (_, id) => queueOf(topic, id, context, broker));
}

/** The topic of a QueryRoute: existing, or created if the core auto-creates and the user may publish. */
function routedTopic(deps: HandlerDeps, context: CallContext, name: string): TopicConfig {
  validateTopicName(name, { allowRetryDlq: true });
  const existing = deps.core.getTopic(name);
  if (existing) return existing;
  if (context.user && !isAllowed(context.user.topics, name)) throw new TopicNotFoundError(name);
  return deps.core.resolveTopic(name);
}

export function queryRouteHandler(deps: HandlerDeps) {
  return unary<QueryRouteRequest, QueryRouteResponse>(deps, 'QueryRoute', (request, context) => {
    const topic = routedTopic(deps, context, context.nameOf(request.topic));
    return { status: OK_STATUS, message_queues: routeQueues(topic, context, deps.endpoint()) };
  });
}

export function queryAssignmentHandler(deps: HandlerDeps) {
  return unary<QueryAssignmentRequest, QueryAssignmentResponse>(
    deps,
    'QueryAssignment',
    (request, context) => {
      const topicName = context.nameOf(request.topic);
      const groupName = context.nameOf(request.group);
      validateTopicName(topicName, { allowRetryDlq: true });
      validateConsumerGroup(groupName);
      context.authorizeGroup(groupName);
      // The group first: a refused request creates no topic.
      deps.core.resolveGroup(groupName);
      const topic = deps.core.resolveTopic(topicName);
      if (topic.queueCount < 1) throw new TopicNotFoundError(topic.name);
      const queue = queueOf(topic, WHOLE_TOPIC_QUEUE_ID, context, brokerOf(deps.endpoint()));
      return { status: OK_STATUS, assignments: [{ message_queue: queue }] };
    },
  );
}

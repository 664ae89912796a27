/**
 * A topic's route as the client uses it: its queues, which of them take writes (producer) and reads
 * (consumers), and the broker endpoints behind them. Built from a QueryRoute response; the proto
 * queue is kept as is because ReceiveMessage and QueryAssignment send it back verbatim.
 */
import {
  AddressScheme,
  Permission,
  type Endpoints as ProtoEndpoints,
  type MessageQueue,
  type QueryRouteResponse,
} from '@rocketnest/broker/grpc/proto-types.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { NotFoundError } from './errors.js';
import { formatAddress, type Endpoint } from './options.js';

export interface RouteQueue {
  readonly topic: string;
  readonly id: number;
  readonly permission: number;
  readonly brokerName: string;
  /** `host:port` of the broker (or proxy) serving this queue. */
  readonly endpoint: string;
  /** Proto MessageType numbers this queue accepts. */
  readonly acceptMessageTypes: readonly number[];
  /** The queue as the server sent it. */
  readonly proto: MessageQueue;
}

export interface TopicRoute {
  readonly topic: string;
  readonly queues: readonly RouteQueue[];
  /** Queues with WRITE or READ_WRITE permission, in route order. */
  readonly writableQueues: readonly RouteQueue[];
  /** Queues with READ or READ_WRITE permission, in route order. */
  readonly readableQueues: readonly RouteQueue[];
  /** Distinct endpoints of the route's brokers, in route order. */
  readonly endpoints: readonly string[];
}

/** The first address of proto endpoints as `host:port`, or undefined when there is none. */
export function addressOf(endpoints: ProtoEndpoints | null | undefined): string | undefined {
  const first = endpoints?.addresses?.[0];
  if (!first || typeof first.host !== 'string' || first.host === '' || typeof first.port !== 'number') {
    return undefined;
  }
  return formatAddress(first.host, first.port);
}

/** Proto endpoints of the access point (QueryRoute's and Settings' `access_point`). */
export function protoEndpointsOf(endpoints: readonly Endpoint[]): ProtoEndpoints {
  const isIpv4 = endpoints.every((e) => /^\d{1,3}(\.\d{1,3}){3}$/.test(e.host));
  const isIpv6 = endpoints.every((e) => e.host.includes(':'));
  return {
    scheme: isIpv4 ? AddressScheme.IPv4 : isIpv6 ? AddressScheme.IPv6 : AddressScheme.DOMAIN_NAME,
    addresses: endpoints.map((e) => ({ host: e.host, port: e.port })),
  };
}

function isWritable(permission: number): boolean {
  return permission === Permission.WRITE || permission === Permission.READ_WRITE;
}

function isReadable(permission: number): boolean {
  return permission === Permission.READ || permission === Permission.READ_WRITE;
}

/**
 * The route of `topic` from an OK QueryRoute response. Queues without a usable broker endpoint are
 * dropped (there is nowhere to send to them).
 * @throws NotFoundError (TOPIC_NOT_FOUND) when no queue is left
 */
export function routeOf(topic: string, response: QueryRouteResponse): TopicRoute {
  const queues: RouteQueue[] = [];
  for (const q of response.message_queues ?? []) {
    const endpoint = addressOf(q.broker?.endpoints);
    if (endpoint === undefined) continue;
    queues.push({
      topic,
      id: typeof q.id === 'number' ? q.id : 0,
      permission: typeof q.permission === 'number' ? q.permission : Permission.UNSPECIFIED,
      brokerName: q.broker?.name ?? '',
      endpoint,
      acceptMessageTypes: Array.isArray(q.accept_message_types) ? q.accept_message_types : [],
      proto: q,
    });
  }
  if (queues.length === 0) {
    throw new NotFoundError(StatusCode.TOPIC_NOT_FOUND, `topic ${topic} has no queue with a broker endpoint`);
  }
  return {
    topic,
    queues,
    writableQueues: queues.filter((q) => isWritable(q.permission)),
    readableQueues: queues.filter((q) => isReadable(q.permission)),
    endpoints: [...new Set(queues.map((q) => q.endpoint))],
  };
}

/** Whether two routes name the same queues on the same endpoints with the same rights. */
export function sameRoute(a: TopicRoute, b: TopicRoute): boolean {
  if (a.queues.length !== b.queues.length) return false;
  return a.queues.every((q, i) => {
    const o = b.queues[i]!;
    return (
      q.id === o.id &&
      q.permission === o.permission &&
      q.endpoint === o.endpoint &&
      q.brokerName === o.brokerName &&
      q.acceptMessageTypes.join(',') === o.acceptMessageTypes.join(',')
    );
  });
}

/**
 * What the consumer needs from the connection, and nothing more: the consumer's logic (receive
 * loops, backpressure, ack batching, retries, FIFO order, shutdown) is written against this small
 * interface, and `rpc-consumer-transport.ts` implements it on the shared `RpcClient` (channels,
 * metadata and signing, deadlines, routes, telemetry, heartbeats).
 *
 * Requests and responses are the proto shapes of `@rocketnest/broker/grpc/proto-types.js`
 * (snake_case, as loaded with `keepCase`). Unary methods resolve with the response whatever its
 * status (the consumer reads per-entry statuses itself) and reject only when there is no response:
 * a gRPC error, a deadline, a closed client. `endpoints` names the broker a call goes to (the one
 * the message was received from); undefined = the client's access point.
 */
import {
  type AckMessageRequest,
  type AckMessageResponse,
  type ChangeInvisibleDurationRequest,
  type ChangeInvisibleDurationResponse,
  type Endpoints,
  type ForwardMessageToDeadLetterQueueRequest,
  type ForwardMessageToDeadLetterQueueResponse,
  type Message,
  type MessageQueue,
  type ReceiveMessageRequest,
  type RetryPolicy as ProtoRetryPolicy,
  type Status,
} from '@rocketnest/broker/grpc/proto-types.js';
import { type CheckedSubscription } from './subscription.js';

/** What the server decided for this consumer group, from its answer to the Settings. */
export interface ConsumerServerSettings {
  /** The group consumes in FIFO order (server's group config; clients cannot ask for it). */
  readonly fifo: boolean;
  /** Most messages per receive the server wants (RocketMQ: 32). */
  readonly receiveBatchSize?: number;
  /** How long a receive may wait for messages (RocketMQ: 20 s). */
  readonly longPollingTimeoutMs?: number;
  /** The group's max delivery attempts and backoff. */
  readonly retryPolicy?: ProtoRetryPolicy | null;
}

/** The consumer's registration with the server: Settings on the telemetry stream, heartbeats. */
export interface ConsumerSession {
  /** The server's latest answer to this consumer's Settings. */
  settings(): ConsumerServerSettings;
  /**
   * Ends the registration: NotifyClientTermination for the group (to every broker the session
   * talks to: the server hands this client's leases back at once), then the telemetry stream and
   * heartbeats end.
   */
  close(): Promise<void>;
}

/** A ReceiveMessage call collected: its final status and the messages it delivered. */
export interface ReceiveAnswer {
  readonly status: Status;
  readonly messages: readonly Message[];
}

export interface ReceiveCallOptions {
  /** The call's deadline, from now: the long poll plus the request timeout. */
  readonly timeoutMs: number;
  /** Aborting cancels the call (the server then hands back what it took). */
  readonly signal: AbortSignal;
  /** The broker of the queue received from. */
  readonly endpoints?: Endpoints | null;
}

export interface ConsumerTransport {
  /** `x-mq-client-id` of the connection. */
  readonly clientId: string;
  /** Deadline of unary calls; a receive's deadline is its long poll plus this. */
  readonly requestTimeoutMs: number;
  /**
   * Registers a Push-style consumer of `group`: Settings (client type PUSH_CONSUMER, group,
   * subscriptions) on the telemetry stream, and heartbeats as a consumer of the group.
   * Resolves with the server's first answer.
   * @throws the typed error of a refusal (UNAUTHORIZED, FORBIDDEN, ILLEGAL_CONSUMER_GROUP, …) or of
   *   a timeout
   */
  openSession(group: string, subscriptions: readonly CheckedSubscription[]): Promise<ConsumerSession>;
  /**
   * QueryAssignment: the queues of `topic` this consumer of `group` reads (each with its broker).
   * @throws the typed error of a non-OK status (TOPIC_NOT_FOUND, …) or of the call
   */
  queryAssignments(topic: string, group: string): Promise<readonly MessageQueue[]>;
  /** ReceiveMessage, collected. Rejects on a gRPC error, the deadline or an abort. */
  receive(request: ReceiveMessageRequest, options: ReceiveCallOptions): Promise<ReceiveAnswer>;
  ackMessages(request: AckMessageRequest, endpoints?: Endpoints | null): Promise<AckMessageResponse>;
  changeInvisibleDuration(
    request: ChangeInvisibleDurationRequest,
    endpoints?: Endpoints | null,
  ): Promise<ChangeInvisibleDurationResponse>;
  forwardToDeadLetter(
    request: ForwardMessageToDeadLetterQueueRequest,
    endpoints?: Endpoints | null,
  ): Promise<ForwardMessageToDeadLetterQueueResponse>;
}

/** A stable key of a broker's endpoints (calls are batched per broker). */
export function endpointsKey(endpoints: Endpoints | null | undefined): string {
  const addresses = endpoints?.addresses ?? [];
  return addresses.map((a) => `${a.host ?? ''}:${a.port ?? 0}`).join(',');
}

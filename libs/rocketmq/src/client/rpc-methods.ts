/**
 * The RPCs of `apache.rocketmq.v2.MessagingService` the client calls, with their request and
 * response shapes (`@rocketnest/broker/grpc/proto-types.js`, snake_case as proto-loader gives them),
 * and their grpc-js method definitions loaded from the official client's protos.
 */
import { type MethodDefinition } from '@grpc/grpc-js';
import { messagingServiceDefinition } from '@rocketnest/broker/grpc/proto.js';
import { decodeReceiveFrame, decoderOf, encoderOf } from '@rocketnest/broker/grpc/proto-codec.js';
import {
  type AckMessageRequest,
  type AckMessageResponse,
  type ChangeInvisibleDurationRequest,
  type ChangeInvisibleDurationResponse,
  type EndTransactionRequest,
  type EndTransactionResponse,
  type ForwardMessageToDeadLetterQueueRequest,
  type ForwardMessageToDeadLetterQueueResponse,
  type HeartbeatRequest,
  type HeartbeatResponse,
  type NotifyClientTerminationRequest,
  type NotifyClientTerminationResponse,
  type QueryAssignmentRequest,
  type QueryAssignmentResponse,
  type QueryRouteRequest,
  type QueryRouteResponse,
  type SendMessageRequest,
  type SendMessageResponse,
  type Status,
} from '@rocketnest/broker/grpc/proto-types.js';

/** Request and response of each unary RPC. */
export interface UnaryMethods {
  QueryRoute: { request: QueryRouteRequest; response: QueryRouteResponse };
  Heartbeat: { request: HeartbeatRequest; response: HeartbeatResponse };
  SendMessage: { request: SendMessageRequest; response: SendMessageResponse };
  QueryAssignment: { request: QueryAssignmentRequest; response: QueryAssignmentResponse };
  AckMessage: { request: AckMessageRequest; response: AckMessageResponse };
  ForwardMessageToDeadLetterQueue: {
    request: ForwardMessageToDeadLetterQueueRequest;
    response: ForwardMessageToDeadLetterQueueResponse;
  };
  EndTransaction: { request: EndTransactionRequest; response: EndTransactionResponse };
  NotifyClientTermination: {
    request: NotifyClientTerminationRequest;
    response: NotifyClientTerminationResponse;
  };
  ChangeInvisibleDuration: {
    request: ChangeInvisibleDurationRequest;
    response: ChangeInvisibleDurationResponse;
  };
}

export type UnaryMethod = keyof UnaryMethods;
export type UnaryRequest<M extends UnaryMethod> = UnaryMethods[M]['request'];
export type UnaryResponse<M extends UnaryMethod> = UnaryMethods[M]['response'] & { status?: Status };

/** The streaming RPCs the client uses. */
export type StreamMethod = 'ReceiveMessage' | 'Telemetry';

/** proto-loader objects are untyped; each method is typed by the maps above at its call site. */
export type AnyMethodDefinition = MethodDefinition<unknown, unknown>;

let definitions: Record<string, AnyMethodDefinition> | undefined;

/**
 * The calls made once per batch of messages encode their requests directly, and ReceiveMessage
 * frames and AckMessage answers (an entry per message) are decoded directly (`proto-codec.ts`):
 * the loader's full object conversion costs more than the encoding of a 1 KiB message. Every
 * other method keeps the loader's serializers.
 */
const HOT_REQUESTS = ['SendMessage', 'AckMessage', 'ReceiveMessage'] as const;

function clientDefinitions(): Record<string, AnyMethodDefinition> {
  const loaded = messagingServiceDefinition() as Record<string, AnyMethodDefinition>;
  const result = { ...loaded };
  for (const method of HOT_REQUESTS) {
    const definition = loaded[method];
    if (definition) {
      result[method] = {
        ...definition,
        requestSerialize: encoderOf(`${method}Request`) as (value: unknown) => Buffer,
      };
    }
  }
  const receive = result.ReceiveMessage;
  if (receive) result.ReceiveMessage = { ...receive, responseDeserialize: decodeReceiveFrame };
  const ack = result.AckMessage;
  if (ack) {
    result.AckMessage = {
      ...ack,
      responseDeserialize: decoderOf<AckMessageResponse>('AckMessageResponse') as (bytes: Buffer) => unknown,
    };
  }
  return result;
}

/** The grpc-js definition (path, serializers) of a method of the service. */
export function methodDefinition(method: UnaryMethod | StreamMethod): AnyMethodDefinition {
  definitions ??= clientDefinitions();
  const definition = definitions[method];
  if (!definition) throw new Error(`MessagingService has no method ${method}`);
  return definition;
}

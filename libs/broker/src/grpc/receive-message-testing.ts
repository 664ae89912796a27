/**
 * Test helper: ReceiveMessage calls of the harness's raw grpc-js client, with every frame and the
 * final gRPC status collected, and requests shaped as the official Simple and Push consumers build
 * them (Consumer.wrapReceiveMessageRequest, PushConsumer.wrapPushReceiveMessageRequest).
 */
import { type ClientReadableStream, type Metadata, type StatusObject } from '@grpc/grpc-js';
import { type ReceiveMessageRequest, type ReceiveMessageResponse } from './proto-types.js';
import { clientMetadata, type GrpcHarness, type HeaderOptions } from './testing/grpc-harness.js';

export interface ReceiveOutcome {
  readonly frames: ReceiveMessageResponse[];
  /** The gRPC status (code 0 = OK). */
  readonly status: StatusObject;
  /** Set when the call failed with a gRPC error. */
  readonly error: Error | undefined;
  readonly elapsedMs: number;
}

type ReceiveMethod = (
  request: ReceiveMessageRequest,
  metadata: Metadata,
  options: { deadline: number },
) => ClientReadableStream<ReceiveMessageResponse>;

export interface ReceiveCallOptions {
  readonly headers?: HeaderOptions;
  /** Call deadline from now; default 10 s. */
  readonly deadlineMs?: number;
  /** Called once the call is under way (e.g. to cancel it). */
  readonly onStart?: (stream: ClientReadableStream<ReceiveMessageResponse>) => void;
}

export function receiveCall(
  h: GrpcHarness,
  request: ReceiveMessageRequest,
  options: ReceiveCallOptions = {},
): Promise<ReceiveOutcome> {
  const method = (h.client as unknown as Record<string, ReceiveMethod>).ReceiveMessage!;
  const started = Date.now();
  const stream = method.call(h.client, request, clientMetadata(options.headers), {
    deadline: started + (options.deadlineMs ?? 10_000),
  });
  const frames: ReceiveMessageResponse[] = [];
  return new Promise<ReceiveOutcome>((resolve) => {
    let error: Error | undefined;
    stream.on('data', (frame: ReceiveMessageResponse) => frames.push(frame));
    stream.on('error', (err: Error) => {
      error = err;
    });
    stream.on('status', (status: StatusObject) => {
      // 'status' comes last; let a pending 'error' be recorded first.
      setImmediate(() => resolve({ frames, status, error, elapsedMs: Date.now() - started }));
    });
    options.onStart?.(stream);
  });
}

/** A SimpleConsumer's request: no auto-renew, its own lease, long polling, batch `batch`. */
export function simpleRequest(
  group: string,
  topic: string,
  overrides: Partial<ReceiveMessageRequest> = {},
): ReceiveMessageRequest {
  return {
    group: { name: group, resource_namespace: '' },
    message_queue: queueZero(topic),
    filter_expression: { type: 1, expression: '*' },
    long_polling_timeout: { seconds: 5, nanos: 0 },
    batch_size: 10,
    auto_renew: false,
    invisible_duration: { seconds: 15, nanos: 0 },
    ...overrides,
  };
}

/** A PushConsumer's request: auto-renew, no lease of its own, an attempt id. */
export function pushRequest(
  group: string,
  topic: string,
  attemptId: string,
  overrides: Partial<ReceiveMessageRequest> = {},
): ReceiveMessageRequest {
  return {
    group: { name: group, resource_namespace: '' },
    message_queue: queueZero(topic),
    filter_expression: { type: 1, expression: '*' },
    long_polling_timeout: { seconds: 5, nanos: 0 },
    batch_size: 32,
    auto_renew: true,
    attempt_id: attemptId,
    ...overrides,
  };
}

/** Queue 0 of `topic`, as QueryRoute hands it out (the official client only uses queue 0). */
export function queueZero(topic: string): NonNullable<ReceiveMessageRequest['message_queue']> {
  return {
    topic: { name: topic, resource_namespace: '' },
    id: 0,
    permission: 4,
    broker: {
      name: 'broker-0',
      id: 0,
      endpoints: { scheme: 1, addresses: [{ host: '127.0.0.1', port: 8081 }] },
    },
    accept_message_types: [1, 2, 3, 4],
  };
}

/** Which kind each frame is, in order: 'status:<code>', 'message', 'delivery_timestamp'. */
export function frameKinds(frames: readonly ReceiveMessageResponse[]): string[] {
  return frames.map((f) => (f.content === 'status' ? `status:${f.status?.code}` : (f.content ?? '?')));
}

/**
 * A server-streaming call (ReceiveMessage) whose frames go straight to a callback.
 *
 * grpc-js's `Client.makeServerStreamRequest` hands every frame through a Node `Readable` in object
 * mode and captures a stack trace per call; a ReceiveMessage answer is one frame per message, so
 * that machinery runs once per delivered message. Without client interceptors there is nothing
 * else in that layer, and the call is made on the channel directly (`Channel.createCall`, public
 * grpc-js API): the request is serialized and sent, each frame is deserialized and handed over,
 * and the next frame is asked for after each one (`startRead`), which is the flow control the
 * `Readable` gave. With interceptors (tracing, tests) the client's call is used, so they still see
 * every call.
 */
import {
  Metadata,
  status as GrpcStatus,
  type Client,
  type MethodDefinition,
  type ServiceError,
  type StatusObject,
} from '@grpc/grpc-js';

export interface ServerStreamHandlers<Res> {
  /** Each response frame, in order. */
  onFrame(frame: Res): void;
  /** Exactly once: undefined when the call ended with OK, else the error grpc-js reports. */
  onEnd(err: ServiceError | undefined): void;
}

export interface ServerStream {
  /** Cancels the call (its end is then reported as CANCELLED). */
  cancel(): void;
}

export interface ServerStreamCall<Req, Res> {
  readonly client: Client;
  readonly definition: MethodDefinition<Req, Res>;
  readonly request: Req;
  readonly metadata: Metadata;
  /** Epoch ms. */
  readonly deadline: number;
  /** Whether the channel's client has interceptors (then the client's own call is used). */
  readonly intercepted: boolean;
}

export function openServerStream<Req, Res>(
  call: ServerStreamCall<Req, Res>,
  handlers: ServerStreamHandlers<Res>,
): ServerStream {
  let ended = false;
  const end = (err: ServiceError | undefined): void => {
    if (ended) return;
    ended = true;
    handlers.onEnd(err);
  };
  const { client, definition } = call;
  if (call.intercepted) {
    const stream = client.makeServerStreamRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize,
      call.request,
      call.metadata,
      { deadline: call.deadline },
    );
    stream.on('data', (frame: Res) => handlers.onFrame(frame));
    stream.on('error', (err: ServiceError) => end(err));
    stream.on('end', () => end(undefined));
    return { cancel: () => stream.cancel() };
  }

  const raw = client.getChannel().createCall(definition.path, call.deadline, undefined, null, undefined);
  raw.start(call.metadata, {
    onReceiveMetadata: () => undefined,
    onReceiveMessage: (bytes: Buffer) => {
      let frame: Res;
      try {
        frame = definition.responseDeserialize(bytes);
      } catch (err) {
        // What grpc-js's own call does with a frame it cannot parse.
        const text = err instanceof Error ? err.message : String(err);
        raw.cancelWithStatus(GrpcStatus.INTERNAL, `Response message parsing error: ${text}`);
        return;
      }
      handlers.onFrame(frame);
      raw.startRead();
    },
    onReceiveStatus: (status: StatusObject) => {
      end(status.code === GrpcStatus.OK ? undefined : serviceErrorOf(status));
    },
  });
  let request: Buffer;
  try {
    request = definition.requestSerialize(call.request);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    raw.cancelWithStatus(GrpcStatus.INTERNAL, `Request message serialization failure: ${text}`);
    return { cancel: () => undefined };
  }
  raw.sendMessageWithContext({}, request);
  raw.halfClose();
  raw.startRead();
  return { cancel: () => raw.cancelWithStatus(GrpcStatus.CANCELLED, 'Cancelled on client') };
}

/** A call's final status as the error grpc-js's client would raise for it. */
function serviceErrorOf(status: StatusObject): ServiceError {
  const name = GrpcStatus[status.code] ?? String(status.code);
  return Object.assign(new Error(`${status.code} ${name}: ${status.details}`), {
    code: status.code,
    details: status.details,
    metadata: status.metadata ?? new Metadata(),
  });
}

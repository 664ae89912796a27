/**
 * A tiny scripted MessagingService for tests of what a real broker will not do on demand: flow
 * control (42900), transport failures, silence, per-entry failures. Routes name one READ_WRITE queue
 * (or `queueCount`) on this server; Telemetry answers Settings like a proxy (or stays silent);
 * Heartbeat, NotifyClientTermination and EndTransaction answer OK unless scripted. Every call is
 * recorded with its metadata.
 */
import {
  type Metadata,
  Server,
  ServerCredentials,
  status as GrpcStatus,
  type sendUnaryData,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { messagingServiceDefinition } from '@rocketnest/broker/grpc/proto.js';
import {
  AddressScheme,
  Permission,
  ProtoMessageType,
  type EndTransactionRequest,
  type SendMessageRequest,
  type SendMessageResponse,
  type Settings,
  type StatusOnlyResponse,
  type TelemetryCommand,
} from '@rocketnest/broker/grpc/proto-types.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';

/** What a scripted unary handler may answer: a response, a gRPC error, or nothing (silence). */
export type Scripted<T> = T | { grpcError: number; details?: string } | 'silent';

export interface FakeServerScript {
  sendMessage?: (
    request: SendMessageRequest,
    callIndex: number,
  ) => Scripted<SendMessageResponse> | Promise<Scripted<SendMessageResponse>>;
  endTransaction?: (request: EndTransactionRequest, callIndex: number) => Scripted<StatusOnlyResponse>;
  /**
   * How Telemetry answers Settings: `answer` (default, like a proxy), `silent` (never), `refuse`
   * (`{status: 40100}` without a command), `invalid-argument` (a gRPC error, as Apache answers bad
   * Settings).
   */
  telemetry?: 'answer' | 'silent' | 'refuse' | 'invalid-argument';
  queueCount?: number;
}

export interface RecordedCall {
  readonly method: string;
  readonly request: unknown;
  readonly metadata: Metadata;
}

export interface FakeMessagingServer {
  readonly endpoint: string;
  readonly calls: RecordedCall[];
  /** Telemetry streams currently open. */
  readonly telemetryStreams: Set<ServerDuplexStream<TelemetryCommand, TelemetryCommand>>;
  count(method: string): number;
  script: FakeServerScript;
  close(): Promise<void>;
}

/** OK entries echoing each message id, offsets counting from `firstOffset`. */
export function okEntries(request: SendMessageRequest, firstOffset = 0): SendMessageResponse {
  const entries = (request.messages ?? []).map((m, i) => ({
    status: { code: StatusCode.OK, message: 'OK' },
    message_id: m.system_properties?.message_id ?? '',
    transaction_id: m.system_properties?.message_type === ProtoMessageType.TRANSACTION ? `tx-${i}` : '',
    offset: firstOffset + i,
    recall_handle: '',
  }));
  return { status: { code: StatusCode.OK, message: 'OK' }, entries };
}

/** A request-level status with no entries (how a server refuses a whole request). */
export function refusal(code: number, message = 'refused'): SendMessageResponse {
  return { status: { code, message }, entries: [] };
}

export async function startFakeMessagingServer(
  script: FakeServerScript = {},
  credentials: ServerCredentials = ServerCredentials.createInsecure(),
): Promise<FakeMessagingServer> {
  const calls: RecordedCall[] = [];
  const telemetryStreams = new Set<ServerDuplexStream<TelemetryCommand, TelemetryCommand>>();
  const server = new Server();
  let port = 0;
  const state = { script };
  const indexes = new Map<string, number>();
  const record = (method: string, request: unknown, metadata: Metadata): number => {
    calls.push({ method, request, metadata });
    const index = indexes.get(method) ?? 0;
    indexes.set(method, index + 1);
    return index;
  };
  const answer = <T>(callback: sendUnaryData<T>, scripted: Scripted<T>): void => {
    if (scripted === 'silent') return;
    if (typeof scripted === 'object' && scripted !== null && 'grpcError' in scripted) {
      callback({ code: scripted.grpcError, details: scripted.details ?? 'scripted failure' }, null);
      return;
    }
    callback(null, scripted as T);
  };
  const ok = { status: { code: StatusCode.OK, message: 'OK' } };

  const implementation: UntypedServiceImplementation = {
    QueryRoute: (
      call: ServerUnaryCall<{ topic?: { name?: string } }, unknown>,
      callback: sendUnaryData<unknown>,
    ) => {
      record('QueryRoute', call.request, call.metadata);
      const count = state.script.queueCount ?? 1;
      callback(null, {
        ...ok,
        message_queues: Array.from({ length: count }, (_, id) => ({
          topic: { name: call.request.topic?.name ?? '' },
          id,
          permission: Permission.READ_WRITE,
          broker: {
            name: 'fake-broker',
            id: 0,
            endpoints: { scheme: AddressScheme.IPv4, addresses: [{ host: '127.0.0.1', port }] },
          },
          accept_message_types: [1, 2, 3, 4],
        })),
      });
    },
    Heartbeat: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      record('Heartbeat', call.request, call.metadata);
      callback(null, ok);
    },
    NotifyClientTermination: (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      record('NotifyClientTermination', call.request, call.metadata);
      callback(null, ok);
    },
    SendMessage: (call: ServerUnaryCall<SendMessageRequest, unknown>, callback: sendUnaryData<unknown>) => {
      const index = record('SendMessage', call.request, call.metadata);
      void Promise.resolve(state.script.sendMessage?.(call.request, index) ?? okEntries(call.request)).then(
        (scripted) => answer(callback, scripted),
      );
    },
    EndTransaction: (
      call: ServerUnaryCall<EndTransactionRequest, unknown>,
      callback: sendUnaryData<unknown>,
    ) => {
      const index = record('EndTransaction', call.request, call.metadata);
      answer(callback, state.script.endTransaction?.(call.request, index) ?? ok);
    },
    Telemetry: (call: ServerDuplexStream<TelemetryCommand, TelemetryCommand>) => {
      record('Telemetry', undefined, call.metadata);
      telemetryStreams.add(call);
      call.on('data', (command: TelemetryCommand) => {
        record(`Telemetry:${command.command ?? 'unknown'}`, command, call.metadata);
        const mode = state.script.telemetry ?? 'answer';
        if (!command.settings || mode === 'silent') return;
        if (mode === 'refuse') {
          call.write({ status: { code: StatusCode.UNAUTHORIZED, message: 'who are you' } });
          return;
        }
        if (mode === 'invalid-argument') {
          // grpc-js ends a server stream with the status of an emitted error.
          call.emit('error', { code: GrpcStatus.INVALID_ARGUMENT, details: 'bad settings' });
          return;
        }
        const settings: Settings = {
          ...command.settings,
          backoff_policy: {
            max_attempts: 3,
            exponential_backoff: {
              initial: { seconds: 0, nanos: 10_000_000 },
              max: { seconds: 0, nanos: 100_000_000 },
              multiplier: 2,
            },
          },
          publishing: {
            ...(command.settings.publishing ?? {}),
            max_body_size: 4 * 1024 * 1024,
            validate_message_type: true,
          },
        };
        call.write({ status: { code: StatusCode.OK, message: 'OK' }, settings });
      });
      call.on('end', () => {
        telemetryStreams.delete(call);
        call.end();
      });
      call.on('error', () => telemetryStreams.delete(call));
      call.on('cancelled', () => telemetryStreams.delete(call));
    },
  };
  const definition = messagingServiceDefinition();
  for (const name of Object.keys(definition)) {
    implementation[name] ??= (_call: unknown, callback?: sendUnaryData<unknown>) => {
      callback?.({ code: GrpcStatus.UNIMPLEMENTED, details: `${name} is not scripted` }, null);
    };
  }
  server.addService(definition, implementation);
  port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, bound) => (err ? reject(err) : resolve(bound))),
  );
  return {
    endpoint: `127.0.0.1:${port}`,
    calls,
    telemetryStreams,
    count: (method) => calls.filter((c) => c.method === method).length,
    get script() {
      return state.script;
    },
    set script(next: FakeServerScript) {
      state.script = next;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of telemetryStreams) stream.end();
        server.tryShutdown(() => resolve());
        setTimeout(() => {
          server.forceShutdown();
          resolve();
        }, 1_000).unref();
      }),
  };
}

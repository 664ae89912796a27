/**
 * Test support: a `ConsumerTransport` over a raw grpc-js client of the official protos, speaking to
 * one endpoint with the official client's metadata, so that the consumer's tests run against a real
 * built-in broker over the real wire protocol. It counts the calls per RPC (ack batching is asserted
 * on them) and can be told to fail calls (unhappy paths).
 *
 * Not the product's connection: that is the shared RpcClient (rpc-consumer-transport.ts adapts it).
 */
import {
  credentials,
  makeGenericClientConstructor,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type Metadata,
  type ServiceError,
} from '@grpc/grpc-js';
import { messagingServiceDefinition } from '@rocketnest/broker/grpc/proto.js';
import { durationOf, millisOfDuration } from '@rocketnest/broker/grpc/proto-time.js';
import {
  AddressScheme,
  ClientType,
  type AckMessageRequest,
  type AckMessageResponse,
  type ChangeInvisibleDurationRequest,
  type ChangeInvisibleDurationResponse,
  type Endpoints,
  type ForwardMessageToDeadLetterQueueRequest,
  type ForwardMessageToDeadLetterQueueResponse,
  type Message,
  type MessageQueue,
  type QueryAssignmentResponse,
  type ReceiveMessageRequest,
  type ReceiveMessageResponse,
  type Settings,
  type Status,
  type TelemetryCommand,
} from '@rocketnest/broker/grpc/proto-types.js';
import { clientMetadata } from '@rocketnest/broker/grpc/testing/grpc-harness.js';
import { RocketError, StatusCode, type StatusCodeValue } from '@rocketnest/broker/status-code.js';
import {
  type ConsumerServerSettings,
  type ConsumerSession,
  type ConsumerTransport,
  type ReceiveAnswer,
  type ReceiveCallOptions,
} from '../consumer-transport.js';
import { toProtoFilter, type CheckedSubscription } from '../subscription.js';

const MessagingClient = makeGenericClientConstructor(messagingServiceDefinition(), 'MessagingService');

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response: unknown) => void,
) => void;

/** A hook that may replace a unary call's outcome (throw = the call fails). */
export type CallInterceptor = (
  rpc: string,
  request: unknown,
) => 'pass' | { response: unknown } | { error: Error };

let clientSeq = 0;

export class GrpcTestTransport implements ConsumerTransport {
  readonly clientId: string;
  readonly requestTimeoutMs: number;
  /** Calls made per RPC name. */
  readonly calls = new Map<string, number>();
  /** Requests made per RPC name, in order. */
  readonly requests = new Map<string, unknown[]>();
  /** Consulted before each unary call. */
  interceptor: CallInterceptor | undefined;
  readonly #client: Client;
  readonly #endpoint: { host: string; port: number };
  readonly #streams = new Set<ClientDuplexStream<TelemetryCommand, TelemetryCommand>>();

  constructor(endpoint: string, options: { requestTimeoutMs?: number; clientId?: string } = {}) {
    const [host, port] = endpoint.split(':');
    this.#endpoint = { host: host!, port: Number(port) };
    this.clientId =
      options.clientId ?? `consumer-test@${process.pid}@${++clientSeq}@${Date.now().toString(36)}`;
    this.requestTimeoutMs = options.requestTimeoutMs ?? 3_000;
    this.#client = new MessagingClient(endpoint, credentials.createInsecure(), {
      'grpc.max_receive_message_length': 64 * 1024 * 1024,
    });
  }

  count(rpc: string): number {
    return this.calls.get(rpc) ?? 0;
  }

  async openSession(group: string, subscriptions: readonly CheckedSubscription[]): Promise<ConsumerSession> {
    const settings: Settings = {
      client_type: ClientType.PUSH_CONSUMER,
      access_point: this.#accessPoint(),
      request_timeout: durationOf(this.requestTimeoutMs),
      subscription: {
        group: { name: group },
        subscriptions: subscriptions.map((s) => ({
          topic: { name: s.topic },
          expression: toProtoFilter(s.filter),
        })),
      },
      user_agent: { language: 0, version: '5.0.0', platform: process.platform, hostname: 'test' },
    };
    const stream = (
      this.#client as unknown as {
        Telemetry(metadata: Metadata): ClientDuplexStream<TelemetryCommand, TelemetryCommand>;
      }
    ).Telemetry(this.#metadata());
    this.#streams.add(stream);
    let latest: ConsumerServerSettings | undefined;
    const first = new Promise<ConsumerServerSettings>((resolve, reject) => {
      stream.on('data', (command: TelemetryCommand) => {
        const code = command.status?.code;
        if (code !== undefined && code !== StatusCode.OK) {
          reject(new RocketError(code as StatusCodeValue, command.status?.message ?? 'Settings refused'));
          return;
        }
        if (command.settings) {
          latest = settingsOf(command.settings);
          resolve(latest);
        }
      });
      stream.on('error', (err) => reject(err));
    });
    stream.write({ settings });
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        first,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error('no answer to the Settings')), this.requestTimeoutMs);
        }),
      ]);
    } catch (err) {
      this.#endStream(stream);
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return {
      settings: () => latest!,
      close: async () => {
        try {
          await this.#unary('NotifyClientTermination', { group: { name: group } });
        } finally {
          this.#endStream(stream);
        }
      },
    };
  }

  async queryAssignments(topic: string, group: string): Promise<readonly MessageQueue[]> {
    const response = await this.#unary<QueryAssignmentResponse>('QueryAssignment', {
      topic: { name: topic },
      group: { name: group },
      endpoints: this.#accessPoint(),
    });
    checkStatus(response.status);
    return (response.assignments ?? []).map((a) => a.message_queue).filter((q): q is MessageQueue => !!q);
  }

  receive(request: ReceiveMessageRequest, options: ReceiveCallOptions): Promise<ReceiveAnswer> {
    this.#count('ReceiveMessage', request);
    return new Promise((resolve, reject) => {
      if (options.signal.aborted) {
        reject(new Error('aborted'));
        return;
      }
      const call = (
        this.#client as unknown as {
          ReceiveMessage(
            request: ReceiveMessageRequest,
            metadata: Metadata,
            options: { deadline: number },
          ): ClientReadableStream<ReceiveMessageResponse>;
        }
      ).ReceiveMessage(request, this.#metadata(), { deadline: Date.now() + options.timeoutMs });
      let status: Status = {
        code: StatusCode.INTERNAL_SERVER_ERROR,
        message: 'status was not set by server',
      };
      const messages: Message[] = [];
      const onAbort = (): void => call.cancel();
      options.signal.addEventListener('abort', onAbort, { once: true });
      call.on('data', (frame: ReceiveMessageResponse) => {
        if (frame.status) status = frame.status;
        if (frame.message) messages.push(frame.message);
      });
      call.on('error', (err) => {
        options.signal.removeEventListener('abort', onAbort);
        reject(err);
      });
      call.on('end', () => {
        options.signal.removeEventListener('abort', onAbort);
        resolve({ status, messages });
      });
    });
  }

  ackMessages(request: AckMessageRequest): Promise<AckMessageResponse> {
    return this.#unary('AckMessage', request);
  }

  changeInvisibleDuration(request: ChangeInvisibleDurationRequest): Promise<ChangeInvisibleDurationResponse> {
    return this.#unary('ChangeInvisibleDuration', request);
  }

  forwardToDeadLetter(
    request: ForwardMessageToDeadLetterQueueRequest,
  ): Promise<ForwardMessageToDeadLetterQueueResponse> {
    return this.#unary('ForwardMessageToDeadLetterQueue', request);
  }

  /** Ends the telemetry streams and closes the channel. */
  close(): void {
    for (const stream of this.#streams) this.#endStream(stream);
    this.#client.close();
  }

  #endStream(stream: ClientDuplexStream<TelemetryCommand, TelemetryCommand>): void {
    if (!this.#streams.delete(stream)) return;
    stream.on('error', () => undefined); // a cancelled stream reports CANCELLED
    stream.end();
    stream.cancel();
  }

  #accessPoint(): Endpoints {
    return {
      scheme: AddressScheme.IPv4,
      addresses: [{ host: this.#endpoint.host, port: this.#endpoint.port }],
    };
  }

  #metadata(): Metadata {
    return clientMetadata({ clientId: this.clientId });
  }

  #count(rpc: string, request: unknown): void {
    this.calls.set(rpc, this.count(rpc) + 1);
    const list = this.requests.get(rpc) ?? [];
    list.push(request);
    this.requests.set(rpc, list);
  }

  #unary<Res>(rpc: string, request: object): Promise<Res> {
    this.#count(rpc, request);
    const intercepted = this.interceptor?.(rpc, request) ?? 'pass';
    if (intercepted !== 'pass') {
      return 'error' in intercepted
        ? Promise.reject(intercepted.error)
        : Promise.resolve(intercepted.response as Res);
    }
    return new Promise<Res>((resolve, reject) => {
      const method = (this.#client as unknown as Record<string, UnaryMethod>)[rpc]!;
      method.call(
        this.#client,
        request,
        this.#metadata(),
        { deadline: Date.now() + this.requestTimeoutMs },
        (err, response) => (err ? reject(err) : resolve(response as Res)),
      );
    });
  }
}

function settingsOf(settings: Settings): ConsumerServerSettings {
  const subscription = settings.subscription;
  const longPoll = millisOfDuration(subscription?.long_polling_timeout);
  return {
    fifo: subscription?.fifo === true,
    ...(subscription?.receive_batch_size ? { receiveBatchSize: subscription.receive_batch_size } : {}),
    ...(longPoll !== undefined && longPoll > 0 ? { longPollingTimeoutMs: longPoll } : {}),
    retryPolicy: settings.backoff_policy ?? null,
  };
}

function checkStatus(status: Status | undefined): void {
  const code = status?.code;
  if (code === StatusCode.OK) return;
  throw new RocketError(
    (code ?? StatusCode.INTERNAL_SERVER_ERROR) as StatusCodeValue,
    status?.message ?? 'no status',
  );
}

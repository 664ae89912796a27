/**
 * The consumer's transport on the shared `RpcClient`: Settings and heartbeats through its telemetry
 * session, calls on its channels with its metadata, signing and deadlines.
 *
 * - Settings: client type PUSH_CONSUMER with the group and the subscriptions (as the Java
 *   PushConsumer sends them); the server's answer gives the FIFO flag, the receive batch size, the
 *   long-polling timeout and the group's retry policy. `openSession` resolves with the first answer,
 *   bounded by the client's `startupTimeoutMs`; the session re-sends the Settings on reconnect and
 *   every 5 min, heartbeats every 10 s, and on close sends NotifyClientTermination to every broker.
 * - Resources carry the client's namespace (`resource_namespace`), as the header does.
 * - ReceiveMessage goes to the broker of the queue; a non-OK status is given back as an answer
 *   (the receive loop decides what to do), a transport failure rejects.
 * - AckMessage, ChangeInvisibleDuration and ForwardMessageToDeadLetterQueue go to the broker the
 *   message came from and resolve with the response whatever its status: the consumer reads the
 *   per-entry statuses itself.
 */
import { durationOf, millisOfDuration } from '@rocketnest/broker/grpc/proto-time.js';
import {
  ClientType,
  type AckMessageRequest,
  type AckMessageResponse,
  type ChangeInvisibleDurationRequest,
  type ChangeInvisibleDurationResponse,
  type Endpoints,
  type ForwardMessageToDeadLetterQueueRequest,
  type ForwardMessageToDeadLetterQueueResponse,
  type MessageQueue,
  type ReceiveMessageRequest,
  type Resource,
  type Settings,
} from '@rocketnest/broker/grpc/proto-types.js';
import { hostname } from 'node:os';
import {
  ClientClosedError,
  RequestAbortedError,
  RequestTimeoutError,
  RocketMQClientError,
  TransportError,
} from '../errors.js';
import { addressOf } from '../route.js';
import { type RpcClient } from '../rpc-client.js';
import { CLIENT_VERSION } from '../version.js';
import {
  type ConsumerServerSettings,
  type ConsumerSession,
  type ConsumerTransport,
  type ReceiveAnswer,
  type ReceiveCallOptions,
} from './consumer-transport.js';
import { toProtoFilter, type CheckedSubscription } from './subscription.js';

/** `apache.rocketmq.v2.Language.NODE_JS`. */
const LANGUAGE_NODE_JS = 8;

export class RpcConsumerTransport implements ConsumerTransport {
  readonly #client: RpcClient;

  constructor(client: RpcClient) {
    this.#client = client;
  }

  get clientId(): string {
    return this.#client.clientId;
  }

  get requestTimeoutMs(): number {
    return this.#client.options.requestTimeoutMs;
  }

  async openSession(group: string, subscriptions: readonly CheckedSubscription[]): Promise<ConsumerSession> {
    const client = this.#client;
    const settings: Settings = {
      client_type: ClientType.PUSH_CONSUMER,
      access_point: client.accessPoint,
      request_timeout: durationOf(client.options.requestTimeoutMs),
      subscription: {
        group: client.resource(group),
        subscriptions: subscriptions.map((s) => ({
          topic: client.resource(s.topic),
          expression: toProtoFilter(s.filter),
        })),
      },
      user_agent: {
        language: LANGUAGE_NODE_JS,
        version: CLIENT_VERSION,
        platform: process.platform,
        hostname: hostname(),
      },
    };
    const session = client.openTelemetry(() => settings);
    let first: Settings;
    let timer: NodeJS.Timeout | undefined;
    try {
      const ms = client.options.startupTimeoutMs;
      first = await Promise.race([
        session.ready,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () =>
              reject(
                new RequestTimeoutError(`the server did not answer the consumer's Settings within ${ms} ms`),
              ),
            ms,
          );
        }),
      ]);
    } catch (err) {
      await session.close();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    return {
      settings: () => serverSettingsOf(session.serverSettings ?? first),
      close: () => session.close(),
    };
  }

  async queryAssignments(topic: string, group: string): Promise<readonly MessageQueue[]> {
    const client = this.#client;
    const response = await client.unary('QueryAssignment', {
      topic: client.resource(topic),
      group: client.resource(group),
      endpoints: client.accessPoint,
    });
    return (response.assignments ?? []).map((a) => a.message_queue).filter((q): q is MessageQueue => !!q);
  }

  async receive(request: ReceiveMessageRequest, options: ReceiveCallOptions): Promise<ReceiveAnswer> {
    const endpoint = addressOf(options.endpoints);
    try {
      const result = await this.#client.receive(
        { ...request, group: this.#named(request.group) },
        {
          timeoutMs: options.timeoutMs,
          signal: options.signal,
          ...(endpoint === undefined ? {} : { endpoint }),
        },
      );
      return { status: result.status, messages: result.messages };
    } catch (err) {
      // A status from the server is an answer; only a failed call is an error.
      if (
        err instanceof RocketMQClientError &&
        err.grpcCode === undefined &&
        !(
          err instanceof TransportError ||
          err instanceof RequestAbortedError ||
          err instanceof ClientClosedError
        )
      ) {
        return { status: { code: err.code, message: err.message }, messages: [] };
      }
      throw err;
    }
  }

  ackMessages(request: AckMessageRequest, endpoints?: Endpoints | null): Promise<AckMessageResponse> {
    return this.#client.unary(
      'AckMessage',
      { ...request, group: this.#named(request.group), topic: this.#named(request.topic) },
      this.#callOptions(endpoints),
    );
  }

  changeInvisibleDuration(
    request: ChangeInvisibleDurationRequest,
    endpoints?: Endpoints | null,
  ): Promise<ChangeInvisibleDurationResponse> {
    return this.#client.unary(
      'ChangeInvisibleDuration',
      { ...request, group: this.#named(request.group), topic: this.#named(request.topic) },
      this.#callOptions(endpoints),
    );
  }

  forwardToDeadLetter(
    request: ForwardMessageToDeadLetterQueueRequest,
    endpoints?: Endpoints | null,
  ): Promise<ForwardMessageToDeadLetterQueueResponse> {
    return this.#client.unary(
      'ForwardMessageToDeadLetterQueue',
      { ...request, group: this.#named(request.group), topic: this.#named(request.topic) },
      this.#callOptions(endpoints),
    );
  }

  #callOptions(endpoints: Endpoints | null | undefined): { checkStatus: false; endpoint?: string } {
    const endpoint = addressOf(endpoints);
    return endpoint === undefined ? { checkStatus: false } : { checkStatus: false, endpoint };
  }

  /** The resource in the client's namespace. */
  #named(resource: Resource | null | undefined): Resource {
    return this.#client.resource(resource?.name ?? '');
  }
}

/** What the consumer reads of the server's answer to its Settings. */
export function serverSettingsOf(settings: Settings): ConsumerServerSettings {
  const subscription = settings.subscription;
  const longPoll = millisOfDuration(subscription?.long_polling_timeout);
  const batch = subscription?.receive_batch_size;
  return {
    fifo: subscription?.fifo === true,
    ...(typeof batch === 'number' && batch > 0 ? { receiveBatchSize: batch } : {}),
    ...(longPoll !== undefined && Number.isFinite(longPoll) && longPoll > 0
      ? { longPollingTimeoutMs: longPoll }
      : {}),
    retryPolicy: settings.backoff_policy ?? null,
  };
}

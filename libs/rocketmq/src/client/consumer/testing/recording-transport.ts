/**
 * Test support: the product's transport (an `RpcClient` through `RpcConsumerTransport`) with every
 * request recorded per RPC, so that tests assert what went over the wire (ack batching, batch
 * sizes, nothing acked after a shutdown) against a real broker.
 */
import {
  type AckMessageRequest,
  type AckMessageResponse,
  type ChangeInvisibleDurationRequest,
  type ChangeInvisibleDurationResponse,
  type Endpoints,
  type ForwardMessageToDeadLetterQueueRequest,
  type ForwardMessageToDeadLetterQueueResponse,
  type MessageQueue,
  type ReceiveMessageRequest,
} from '@rocketnest/broker/grpc/proto-types.js';
import { silentLogger } from '../../logger.js';
import { RpcClient } from '../../rpc-client.js';
import {
  type ConsumerSession,
  type ConsumerTransport,
  type ReceiveAnswer,
  type ReceiveCallOptions,
} from '../consumer-transport.js';
import { RpcConsumerTransport } from '../rpc-consumer-transport.js';
import { type CheckedSubscription } from '../subscription.js';

export class RecordingTransport implements ConsumerTransport {
  /** Requests made per RPC name, in order. */
  readonly requests = new Map<string, unknown[]>();
  /** Ack entries whose AckMessage call has answered (the broker has processed them). */
  ackEntriesAnswered = 0;
  readonly #inner: ConsumerTransport;
  readonly #client: RpcClient;

  /** A transport over a fresh RpcClient of `endpoint` (closed by `close()`). */
  constructor(endpoint: string, options: { requestTimeoutMs?: number } = {}) {
    this.#client = new RpcClient({ endpoints: endpoint, logger: silentLogger, ...options });
    this.#inner = new RpcConsumerTransport(this.#client);
  }

  get clientId(): string {
    return this.#inner.clientId;
  }

  get requestTimeoutMs(): number {
    return this.#inner.requestTimeoutMs;
  }

  /** Requests of one RPC. */
  of<T>(rpc: string): T[] {
    return (this.requests.get(rpc) ?? []) as T[];
  }

  count(rpc: string): number {
    return this.of(rpc).length;
  }

  async openSession(group: string, subscriptions: readonly CheckedSubscription[]): Promise<ConsumerSession> {
    const session = await this.#inner.openSession(group, subscriptions);
    return {
      settings: () => session.settings(),
      close: async () => {
        this.#record('NotifyClientTermination', { group });
        await session.close();
      },
    };
  }

  queryAssignments(topic: string, group: string): Promise<readonly MessageQueue[]> {
    this.#record('QueryAssignment', { topic, group });
    return this.#inner.queryAssignments(topic, group);
  }

  receive(request: ReceiveMessageRequest, options: ReceiveCallOptions): Promise<ReceiveAnswer> {
    this.#record('ReceiveMessage', request);
    return this.#inner.receive(request, options);
  }

  ackMessages(request: AckMessageRequest, endpoints?: Endpoints | null): Promise<AckMessageResponse> {
    this.#record('AckMessage', request);
    return this.#inner.ackMessages(request, endpoints).then((response) => {
      this.ackEntriesAnswered += request.entries?.length ?? 0;
      return response;
    });
  }

  changeInvisibleDuration(
    request: ChangeInvisibleDurationRequest,
    endpoints?: Endpoints | null,
  ): Promise<ChangeInvisibleDurationResponse> {
    this.#record('ChangeInvisibleDuration', request);
    return this.#inner.changeInvisibleDuration(request, endpoints);
  }

  forwardToDeadLetter(
    request: ForwardMessageToDeadLetterQueueRequest,
    endpoints?: Endpoints | null,
  ): Promise<ForwardMessageToDeadLetterQueueResponse> {
    this.#record('ForwardMessageToDeadLetterQueue', request);
    return this.#inner.forwardToDeadLetter(request, endpoints);
  }

  close(): Promise<void> {
    return this.#client.close();
  }

  #record(rpc: string, request: unknown): void {
    const list = this.requests.get(rpc) ?? [];
    list.push(request);
    this.requests.set(rpc, list);
  }
}

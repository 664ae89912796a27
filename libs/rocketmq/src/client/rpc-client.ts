/**
 * RpcClient: the connection layer shared by the producer and the consumers. It owns
 *
 * - one grpc-js channel per endpoint (channels.ts), signed metadata on every call (metadata.ts);
 * - a deadline on every call: `requestTimeoutMs` (3 s) unless the caller gives one;
 * - typed errors: transport failures and non-OK RocketMQ statuses become `RocketMQClientError`s
 *   carrying the status code, `retryable` and the request id (errors.ts);
 * - the route cache (route-cache.ts: QueryRoute on first use, refreshed every 30 s) and the set of
 *   broker endpoints the routes name, which telemetry sessions follow;
 * - telemetry sessions (telemetry-session.ts), closed with the client.
 *
 * `connect()` is bounded by `startupTimeoutMs`: against an endpoint that refuses connections, or one
 * that accepts TCP and never answers, it fails with a StartupTimeoutError saying which, never hangs.
 * `close()` ends the telemetry sessions, cancels what is still under way and closes every channel,
 * timer and stream, so that a process with nothing else to do exits.
 */
import { type Client, type ClientDuplexStream, type MethodDefinition } from '@grpc/grpc-js';
import {
  type Message,
  type ReceiveMessageRequest,
  type ReceiveMessageResponse,
  type Resource,
  type Settings,
  type Status,
  type TelemetryCommand,
  type Endpoints as ProtoEndpoints,
} from '@rocketnest/broker/grpc/proto-types.js';
import { millisOfTimestamp } from '@rocketnest/broker/grpc/proto-time.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { ChannelPool, type ReadyOutcome } from './channels.js';
import { createClientId } from './client-id.js';
import {
  ClientClosedError,
  InternalServerError,
  RequestAbortedError,
  RocketMQClientError,
  StartupTimeoutError,
  checkStatus,
  errorOfStatus,
  transportError,
} from './errors.js';
import { callMetadata, type MetadataSource } from './metadata.js';
import { resolveClientOptions, type ClientOptions, type ResolvedClientOptions } from './options.js';
import { RouteCache } from './route-cache.js';
import { protoEndpointsOf, routeOf, type TopicRoute } from './route.js';
import { methodDefinition, type UnaryMethod, type UnaryRequest, type UnaryResponse } from './rpc-methods.js';
import { openServerStream, type ServerStream } from './server-stream.js';
import { TelemetrySession, type TelemetrySessionOptions } from './telemetry-session.js';

export interface ConnectOptions extends ClientOptions {
  /** Topics whose routes `connect()` fetches (and so checks) before it resolves. */
  readonly topics?: readonly string[];
}

export interface UnaryCallOptions {
  /** Deadline of this call; default `requestTimeoutMs`. */
  readonly timeoutMs?: number;
  /** `host:port` to call; default the first access-point endpoint. */
  readonly endpoint?: string;
  readonly signal?: AbortSignal;
  /**
   * Default true: a response whose status is not OK (or MULTIPLE_RESULTS) rejects with its typed
   * error. False: every response resolves (per-entry statuses are the caller's to read).
   */
  readonly checkStatus?: boolean;
}

export interface ReceiveCallOptions {
  /** Deadline of the whole stream (the long poll plus the request timeout). */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** `host:port` of the queue's broker; default the first access-point endpoint. */
  readonly endpoint?: string;
}

/** A ReceiveMessage stream, collected. */
export interface ReceiveResult {
  /** OK, or MESSAGE_NOT_FOUND (then `messages` is empty). */
  readonly status: Status;
  /**
   * As decoded (protobufjs message objects, `proto-codec.ts`): read their fields, whose values are
   * those of `Message` (int64 as numbers, enums as numbers); `JSON.stringify` shows enum names.
   */
  readonly messages: Message[];
  /** Epoch ms of the `delivery_timestamp` frame, when the server sent one. */
  readonly deliveryTimestamp?: number;
  readonly requestId: string;
}

/** A Telemetry stream as the session drives it. */
export interface TelemetryStream {
  readonly call: ClientDuplexStream<TelemetryCommand, TelemetryCommand>;
  readonly requestId: string;
}

/** Pause between attempts of a startup QueryRoute that failed transiently. */
const STARTUP_RETRY_MS = 250;

export class RpcClient {
  readonly clientId: string;
  readonly options: ResolvedClientOptions;
  /** Proto `Endpoints` of the access point (QueryRoute, Settings). */
  readonly accessPoint: ProtoEndpoints;
  readonly #metadata: MetadataSource;
  readonly #channels: ChannelPool;
  readonly #routes: RouteCache;
  readonly #cancels = new Set<() => void>();
  readonly #sessions = new Set<TelemetrySession>();
  readonly #endpointListeners = new Set<(endpoints: readonly string[]) => void>();
  readonly #routeEndpoints: string[] = [];
  #closing: Promise<void> | undefined;
  #closed = false;
  /** The access-point endpoint that connected first: routes and sessions without a route go there. */
  #preferred: string | undefined;

  /** Use `RpcClient.connect()`; the constructor makes no call. */
  constructor(options: ClientOptions) {
    this.options = resolveClientOptions(options);
    this.clientId = createClientId();
    this.accessPoint = protoEndpointsOf(this.options.endpoints);
    this.#metadata = {
      clientId: this.clientId,
      namespace: this.options.namespace,
      credentials: this.options.credentials,
    };
    this.#channels = new ChannelPool({ tls: this.options.tls, interceptors: this.options.interceptors });
    this.#routes = new RouteCache({
      fetch: (topic) => this.#queryRoute(topic),
      onRoute: (route) => this.#noteRoute(route),
      logger: this.options.logger,
    });
  }

  /**
   * A connected client: a channel to the access point that completed its HTTP/2 handshake, and the
   * routes of `options.topics`, all within `startupTimeoutMs`.
   * @throws StartupTimeoutError when the endpoint is unreachable or silent for that long
   * @throws RocketMQClientError a non-retryable answer (e.g. 40100 for bad credentials)
   * @throws RangeError / TypeError for bad options
   */
  static async connect(options: ConnectOptions): Promise<RpcClient> {
    const client = new RpcClient(options);
    const deadline = Date.now() + client.options.startupTimeoutMs;
    try {
      await client.#awaitReady(deadline);
      for (const topic of options.topics ?? []) await client.#startupRoute(topic, deadline);
    } catch (err) {
      await client.close();
      throw err;
    }
    return client;
  }

  /** Whether `close()` has completed (or started). */
  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** A proto Resource in this client's namespace. */
  resource(name: string): Resource {
    return { resource_namespace: this.options.namespace, name };
  }

  /** Where calls without a route go: the access-point endpoint that connected first (at start). */
  get defaultEndpoint(): string {
    return this.#preferred ?? this.options.endpoints[0]!.address;
  }

  async #awaitReady(deadline: number): Promise<void> {
    const addresses = this.options.endpoints.map((e) => e.address);
    // The first endpoint to connect wins (the others go on connecting in the background).
    const outcomes = await new Promise<ReadyOutcome[]>((resolve) => {
      const results: ReadyOutcome[] = [];
      let pending = addresses.length;
      addresses.forEach((address, i) => {
        void this.#channels.waitReady(address, deadline).then((outcome) => {
          results[i] = outcome;
          pending--;
          if (outcome.ready) this.#preferred ??= address;
          if (outcome.ready || pending === 0) resolve(results);
        });
      });
    });
    if (this.#preferred !== undefined) return;
    const ms = this.options.startupTimeoutMs;
    const failed = outcomes.some((o) => o?.failedToConnect);
    const what = failed
      ? 'could not be reached (connections refused or failing)'
      : 'accepted no connection or never answered the HTTP/2 handshake (not a gRPC endpoint, or stuck)';
    throw new StartupTimeoutError(`RocketMQ endpoint ${addresses.join(',')} ${what} within ${ms} ms`);
  }

  async #startupRoute(topic: string, deadline: number): Promise<void> {
    let last: unknown;
    while (Date.now() < deadline) {
      try {
        await this.#routes.get(topic);
        return;
      } catch (err) {
        if (!(err instanceof RocketMQClientError) || !err.retryable) throw err;
        last = err;
        await sleep(Math.min(STARTUP_RETRY_MS, Math.max(0, deadline - Date.now())));
      }
    }
    throw new StartupTimeoutError(
      `no route of topic ${topic} within ${this.options.startupTimeoutMs} ms` +
        (last instanceof Error ? `: ${last.message}` : ''),
      { cause: last },
    );
  }

  // -------------------------------------------------------------------------------------------
  // Calls
  // -------------------------------------------------------------------------------------------

  #channel(endpoint: string): Client {
    if (this.#closed) throw new ClientClosedError();
    return this.#channels.get(endpoint);
  }

  /**
   * One unary call with a deadline. Rejects with the typed error of a transport failure, of a
   * non-OK status (unless `checkStatus: false`), of an abort, or ClientClosedError.
   */
  async unary<M extends UnaryMethod>(
    method: M,
    request: UnaryRequest<M>,
    options: UnaryCallOptions = {},
  ): Promise<UnaryResponse<M>> {
    return (await this.unaryWithId(method, request, options)).response;
  }

  /** `unary`, also giving the call's `x-mq-request-id` (for errors built from per-entry statuses). */
  unaryWithId<M extends UnaryMethod>(
    method: M,
    request: UnaryRequest<M>,
    options: UnaryCallOptions = {},
  ): Promise<{ response: UnaryResponse<M>; requestId: string }> {
    const endpoint = options.endpoint ?? this.defaultEndpoint;
    const signal = options.signal;
    if (signal?.aborted)
      return Promise.reject(new RequestAbortedError(`${method} aborted before it was sent`));
    let channel: Client;
    try {
      channel = this.#channel(endpoint);
    } catch (err) {
      return Promise.reject(err);
    }
    const definition = methodDefinition(method);
    const { metadata, requestId } = callMetadata(this.#metadata);
    const timeoutMs = options.timeoutMs ?? this.options.requestTimeoutMs;
    return new Promise((resolve, reject) => {
      let aborted = false;
      const call = channel.makeUnaryRequest(
        definition.path,
        definition.requestSerialize,
        definition.responseDeserialize as (buffer: Buffer) => UnaryResponse<M>,
        request,
        metadata,
        { deadline: Date.now() + timeoutMs },
        (err, response) => {
          this.#cancels.delete(cancel);
          signal?.removeEventListener('abort', onAbort);
          if (aborted) return reject(new RequestAbortedError(`${method} aborted`, { requestId }));
          if (err || response === undefined) {
            if (this.#closed) return reject(new ClientClosedError(`${method} cancelled: the client closed`));
            return reject(transportError(err, `${method} to ${endpoint}`, requestId));
          }
          if (options.checkStatus !== false) {
            const failure = checkStatus(response.status, requestId);
            if (failure) return reject(failure);
          }
          resolve({ response, requestId });
        },
      );
      const cancel = (): void => call.cancel();
      const onAbort = (): void => {
        aborted = true;
        call.cancel();
      };
      this.#cancels.add(cancel);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * One ReceiveMessage stream, collected: the messages and the final status. The last status frame
   * wins (PROTOCOL.md §2); MESSAGE_NOT_FOUND resolves with no messages; any other non-OK status, a
   * transport failure or the deadline rejects with its typed error; an abort cancels the stream and
   * rejects with RequestAbortedError.
   */
  receive(request: ReceiveMessageRequest, options: ReceiveCallOptions): Promise<ReceiveResult> {
    const endpoint = options.endpoint ?? this.defaultEndpoint;
    const signal = options.signal;
    if (signal?.aborted) return Promise.reject(new RequestAbortedError('receive aborted before it was sent'));
    let channel: Client;
    try {
      channel = this.#channel(endpoint);
    } catch (err) {
      return Promise.reject(err);
    }
    const definition = methodDefinition('ReceiveMessage');
    const { metadata, requestId } = callMetadata(this.#metadata);
    return new Promise<ReceiveResult>((resolve, reject) => {
      let status: Status | undefined;
      let deliveryTimestamp: number | undefined;
      const messages: Message[] = [];
      let settled = false;
      let aborted = false;
      const finish = (err: unknown): void => {
        if (settled) return;
        settled = true;
        this.#cancels.delete(cancel);
        signal?.removeEventListener('abort', onAbort);
        if (aborted) return reject(new RequestAbortedError('receive aborted', { requestId }));
        if (err !== undefined) {
          if (this.#closed) return reject(new ClientClosedError('receive cancelled: the client closed'));
          return reject(transportError(err, `ReceiveMessage from ${endpoint}`, requestId));
        }
        if (!status) {
          return reject(
            new InternalServerError(StatusCode.INTERNAL_ERROR, 'the receive stream ended without a status', {
              requestId,
            }),
          );
        }
        const code = status.code ?? 0;
        if (code === StatusCode.OK) {
          return resolve({
            status,
            messages,
            requestId,
            ...(deliveryTimestamp === undefined ? {} : { deliveryTimestamp }),
          });
        }
        if (code === StatusCode.MESSAGE_NOT_FOUND) {
          return resolve({
            status,
            messages: [],
            requestId,
            ...(deliveryTimestamp === undefined ? {} : { deliveryTimestamp }),
          });
        }
        reject(errorOfStatus(code, status.message, { requestId }));
      };
      // Declared before the call opens: a call can end before openServerStream returns.
      const opened: { stream?: ServerStream } = {};
      const cancel = (): void => opened.stream?.cancel();
      const onAbort = (): void => {
        aborted = true;
        opened.stream?.cancel();
        finish(undefined);
      };
      opened.stream = openServerStream(
        {
          client: channel,
          definition: definition as MethodDefinition<ReceiveMessageRequest, ReceiveMessageResponse>,
          request,
          metadata,
          deadline: Date.now() + options.timeoutMs,
          intercepted: this.options.interceptors.length > 0,
        },
        {
          onFrame: (frame) => {
            if (frame.status) status = frame.status;
            if (frame.message) messages.push(frame.message);
            if (frame.delivery_timestamp) deliveryTimestamp = millisOfTimestamp(frame.delivery_timestamp);
          },
          onEnd: (err) => finish(err),
        },
      );
      if (settled) return;
      this.#cancels.add(cancel);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Opens a Telemetry stream to `endpoint` (the session drives it; no deadline: it lives long). */
  openTelemetryStream(endpoint: string): TelemetryStream {
    const channel = this.#channel(endpoint);
    const definition = methodDefinition('Telemetry');
    const { metadata, requestId } = callMetadata(this.#metadata);
    const call = channel.makeBidiStreamRequest(
      definition.path,
      definition.requestSerialize,
      definition.responseDeserialize as (buffer: Buffer) => TelemetryCommand,
      metadata,
    );
    return { call, requestId };
  }

  // -------------------------------------------------------------------------------------------
  // Routes and endpoints
  // -------------------------------------------------------------------------------------------

  /** The route of `topic`: cached, refreshed every 30 s. */
  route(topic: string): Promise<TopicRoute> {
    if (this.#closing) return Promise.reject(new ClientClosedError());
    return this.#routes.get(topic);
  }

  /** The cached route of `topic`, without a call. */
  peekRoute(topic: string): TopicRoute | undefined {
    return this.#routes.peek(topic);
  }

  /** Re-fetches every cached route now (e.g. after a server's reconnect command). */
  refreshRoutes(): Promise<void> {
    return this.#routes.refreshAll();
  }

  /**
   * The broker endpoints of every route seen so far, or the access point's first endpoint while no
   * route is known: where telemetry sessions and heartbeats go.
   */
  brokerEndpoints(): readonly string[] {
    return this.#routeEndpoints.length > 0 ? [...this.#routeEndpoints] : [this.defaultEndpoint];
  }

  /** Calls `listener` with the full list whenever a route names a new endpoint. Returns an unsubscribe. */
  onBrokerEndpoints(listener: (endpoints: readonly string[]) => void): () => void {
    this.#endpointListeners.add(listener);
    return () => this.#endpointListeners.delete(listener);
  }

  async #queryRoute(topic: string): Promise<TopicRoute> {
    let last: unknown;
    // Access-point endpoints in order: the next one only when a transport failure says this one is down.
    const preferred = this.defaultEndpoint;
    const order = [preferred, ...this.options.endpoints.map((e) => e.address).filter((a) => a !== preferred)];
    for (const endpoint of order) {
      try {
        const response = await this.unary(
          'QueryRoute',
          { topic: this.resource(topic), endpoints: this.accessPoint },
          { endpoint },
        );
        return routeOf(topic, response);
      } catch (err) {
        last = err;
        if (!(err instanceof RocketMQClientError) || err.grpcCode === undefined) throw err;
      }
    }
    throw last;
  }

  #noteRoute(route: TopicRoute): void {
    let added = false;
    for (const endpoint of route.endpoints) {
      if (!this.#routeEndpoints.includes(endpoint)) {
        this.#routeEndpoints.push(endpoint);
        added = true;
      }
    }
    if (!added) return;
    const endpoints = [...this.#routeEndpoints];
    for (const listener of this.#endpointListeners) listener(endpoints);
  }

  // -------------------------------------------------------------------------------------------
  // Telemetry and lifecycle
  // -------------------------------------------------------------------------------------------

  /**
   * A telemetry session: one stream per broker endpoint, each opened with `settings()`, answered by
   * the server's settings (`session.ready`), reconnected on failure, re-synced every 5 min, with
   * heartbeats every 10 s. Closed with the client (or by `session.close()`).
   */
  openTelemetry(settings: () => Settings, options: TelemetrySessionOptions = {}): TelemetrySession {
    if (this.#closing) throw new ClientClosedError();
    const session = new TelemetrySession(this, settings, options);
    this.#sessions.add(session);
    session.once('closed', () => this.#sessions.delete(session));
    session.start();
    return session;
  }

  /**
   * Ends every telemetry session (NotifyClientTermination, half-close), cancels calls still under
   * way (they reject with ClientClosedError) and closes every channel and timer. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#routes.close();
      await Promise.allSettled([...this.#sessions].map((s) => s.close()));
      this.#closed = true;
      for (const cancel of [...this.#cancels]) cancel();
      this.#cancels.clear();
      this.#endpointListeners.clear();
      this.#channels.close();
    })();
    return this.#closing;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * The telemetry session of one client (producer or consumer): one Telemetry stream per broker
 * endpoint, as the official clients keep (PROTOCOL.md §2).
 *
 * - Each stream opens with the client's Settings and awaits the server's answer; `ready` resolves
 *   with the first answer (the server's settings: backoff policy, max body size, FIFO flag, receive
 *   batch size, long-polling timeout). A refusal (`{status: <non-OK>}`) rejects `ready` with its
 *   typed error (e.g. 40100); so does a gRPC error no retry can cure (INVALID_ARGUMENT, which Apache
 *   answers for bad Settings, UNAUTHENTICATED, PERMISSION_DENIED, UNIMPLEMENTED). The caller bounds
 *   `ready` with its startup timeout.
 * - Settings are re-sent on every reconnect and every 5 minutes, and by `sync()` when they changed
 *   (e.g. a producer's first send to a new topic).
 * - A stream that fails or is ended by the server is reopened with backoff (1 s doubling to 30 s).
 * - Server commands become events: `recoverOrphanedTransaction` (the producer answers with
 *   EndTransaction), `printThreadStackTrace` (answered here: Node has no thread dumps, the answer
 *   says so), `verifyMessage` (answered here with NOT_IMPLEMENTED), `reconnect` (the stream is
 *   reopened and the routes refreshed).
 * - Heartbeats every 10 s to each endpoint whose stream has been answered (Apache refuses a heartbeat
 *   from a client whose Settings it has not seen).
 * - `close()`: NotifyClientTermination per endpoint, half-close each stream, wait briefly for the
 *   server to end it, then cancel what is left; every timer is cleared.
 */
import { EventEmitter } from 'node:events';
import { status as GrpcStatus, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { type Message, type Settings, type TelemetryCommand } from '@rocketnest/broker/grpc/proto-types.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import {
  ClientClosedError,
  StartupTimeoutError,
  errorOfStatus,
  transportError,
  type RocketMQClientError,
} from './errors.js';
import { type ClientLogger } from './logger.js';
import { type UnaryMethod, type UnaryRequest, type UnaryResponse } from './rpc-methods.js';

/** The official clients' cadence. */
export const HEARTBEAT_INTERVAL_MS = 10_000;
export const SETTINGS_SYNC_INTERVAL_MS = 5 * 60_000;
export const RECONNECT_INITIAL_MS = 1_000;
export const RECONNECT_MAX_MS = 30_000;
/** How long `close()` waits for the server to end a half-closed stream. */
export const CLOSE_GRACE_MS = 1_000;

export interface TelemetrySessionOptions {
  readonly heartbeatIntervalMs?: number;
  readonly settingsSyncIntervalMs?: number;
  readonly reconnectInitialMs?: number;
  readonly reconnectMaxMs?: number;
  readonly closeGraceMs?: number;
  /** Send NotifyClientTermination to each endpoint on close. Default true. */
  readonly notifyTermination?: boolean;
}

/** A recover_orphaned_transaction_command. */
export interface OrphanedTransactionCommand {
  readonly endpoint: string;
  readonly transactionId: string;
  readonly message: Message;
}

export interface TelemetrySessionEvents {
  /** The server answered (or pushed) settings on a stream. */
  settings: [settings: Settings, endpoint: string];
  recoverOrphanedTransaction: [command: OrphanedTransactionCommand];
  printThreadStackTrace: [info: { endpoint: string; nonce: string }];
  verifyMessage: [info: { endpoint: string; nonce: string; message: Message | undefined }];
  /** The server asked for a reconnect; the stream was reopened. */
  reconnect: [info: { endpoint: string }];
  /** A stream failed (it is reopened with backoff). */
  streamError: [error: RocketMQClientError, endpoint: string];
  closed: [];
}

type StreamCall = ClientDuplexStream<TelemetryCommand, TelemetryCommand>;

/** What the session needs of the RpcClient (an interface, so that tests can drive it). */
export interface TelemetryHost {
  readonly options: { readonly logger: ClientLogger; readonly requestTimeoutMs: number };
  openTelemetryStream(endpoint: string): { call: StreamCall; requestId: string };
  unary<M extends UnaryMethod>(
    method: M,
    request: UnaryRequest<M>,
    options?: { endpoint?: string; timeoutMs?: number; checkStatus?: boolean },
  ): Promise<UnaryResponse<M>>;
  brokerEndpoints(): readonly string[];
  onBrokerEndpoints(listener: (endpoints: readonly string[]) => void): () => void;
  refreshRoutes(): Promise<void>;
}

/** gRPC codes on a Telemetry stream that reconnecting cannot cure before the first answer. */
const FATAL_STREAM_CODES: ReadonlySet<number> = new Set([
  GrpcStatus.INVALID_ARGUMENT,
  GrpcStatus.UNAUTHENTICATED,
  GrpcStatus.PERMISSION_DENIED,
  GrpcStatus.UNIMPLEMENTED,
]);

interface Waiter {
  resolve(settings: Settings): void;
  reject(err: RocketMQClientError): void;
}

export class TelemetrySession extends EventEmitter<TelemetrySessionEvents> {
  /** Resolves with the server's first settings answer; rejects on a refusal or close. */
  readonly ready: Promise<Settings>;
  readonly #host: TelemetryHost;
  readonly #settings: () => Settings;
  readonly #options: Required<TelemetrySessionOptions>;
  readonly #streams = new Map<string, EndpointStream>();
  #resolveReady!: (settings: Settings) => void;
  #rejectReady!: (err: RocketMQClientError) => void;
  #readySettled = false;
  #serverSettings: Settings | undefined;
  #syncTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #closing: Promise<void> | undefined;

  constructor(host: TelemetryHost, settings: () => Settings, options: TelemetrySessionOptions = {}) {
    super();
    this.#host = host;
    this.#settings = settings;
    this.#options = {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? HEARTBEAT_INTERVAL_MS,
      settingsSyncIntervalMs: options.settingsSyncIntervalMs ?? SETTINGS_SYNC_INTERVAL_MS,
      reconnectInitialMs: options.reconnectInitialMs ?? RECONNECT_INITIAL_MS,
      reconnectMaxMs: options.reconnectMaxMs ?? RECONNECT_MAX_MS,
      closeGraceMs: options.closeGraceMs ?? CLOSE_GRACE_MS,
      notifyTermination: options.notifyTermination ?? true,
    };
    this.ready = new Promise<Settings>((resolve, reject) => {
      this.#resolveReady = resolve;
      this.#rejectReady = reject;
    });
    // Nobody may await `ready` (a consumer that does not care); its rejection must not be unhandled.
    this.ready.catch(() => undefined);
  }

  get logger(): ClientLogger {
    return this.#host.options.logger;
  }

  /** The latest settings the server answered, if any. */
  get serverSettings(): Settings | undefined {
    return this.#serverSettings;
  }

  /**
   * `ready`, bounded: rejects with StartupTimeoutError naming the endpoints when no answer came
   * within `timeoutMs` (a server that accepts the stream and never answers would otherwise hang).
   */
  waitReady(timeoutMs: number): Promise<Settings> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          reject(
            new StartupTimeoutError(
              `the server at ${this.endpoints.join(',')} did not answer the client's settings within ${timeoutMs} ms`,
            ),
          );
        },
        Math.max(0, timeoutMs),
      );
    });
    return Promise.race([this.ready, timeout]).finally(() => clearTimeout(timer));
  }

  /** The endpoints with a stream. */
  get endpoints(): string[] {
    return [...this.#streams.keys()];
  }

  /** Opens the streams (called by `RpcClient.openTelemetry`). */
  start(): void {
    for (const endpoint of this.#host.brokerEndpoints()) this.#addEndpoint(endpoint);
    this.#unsubscribe = this.#host.onBrokerEndpoints((endpoints) => {
      for (const endpoint of endpoints) this.#addEndpoint(endpoint);
    });
    this.#syncTimer = setInterval(() => {
      this.sync().catch((err: unknown) => this.logger.debug(`periodic settings sync failed: ${String(err)}`));
    }, this.#options.settingsSyncIntervalMs);
    this.#syncTimer.unref();
  }

  #addEndpoint(endpoint: string): void {
    if (this.#closing || this.#streams.has(endpoint)) return;
    const stream = new EndpointStream(this, endpoint);
    this.#streams.set(endpoint, stream);
    stream.open();
  }

  /**
   * Re-sends the current settings on every stream and resolves once each live stream answered (a
   * stream that is reconnecting sends them when it reopens). Rejects with the first refusal.
   */
  async sync(): Promise<void> {
    if (this.#closing) throw new ClientClosedError();
    await Promise.all([...this.#streams.values()].map((s) => s.sendSettings()));
  }

  /** Writes a command on the stream of `endpoint` (answers to server commands). */
  reply(endpoint: string, command: TelemetryCommand): boolean {
    return this.#streams.get(endpoint)?.write(command) ?? false;
  }

  // --- used by EndpointStream ---------------------------------------------------------------

  /** @internal */
  get host(): TelemetryHost {
    return this.#host;
  }

  /** @internal */
  get options(): Required<TelemetrySessionOptions> {
    return this.#options;
  }

  /** @internal */
  get isClosing(): boolean {
    return this.#closing !== undefined;
  }

  /** @internal */
  currentSettings(): Settings {
    return this.#settings();
  }

  /** @internal */
  noteSettings(settings: Settings, endpoint: string): void {
    this.#serverSettings = settings;
    if (!this.#readySettled) {
      this.#readySettled = true;
      this.#resolveReady(settings);
    }
    this.emit('settings', settings, endpoint);
  }

  /** @internal A failure before any answer that retrying cannot cure. */
  failReady(err: RocketMQClientError): void {
    if (this.#readySettled) return;
    this.#readySettled = true;
    this.#rejectReady(err);
  }

  /** @internal */
  get isReady(): boolean {
    return this.#readySettled;
  }

  /**
   * NotifyClientTermination to each endpoint (unless disabled), half-close every stream, wait up to
   * `closeGraceMs` for the server to end them, cancel the rest; clear every timer. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#syncTimer) clearInterval(this.#syncTimer);
      this.#unsubscribe?.();
      const streams = [...this.#streams.values()];
      for (const s of streams) s.stopTimers();
      if (this.#options.notifyTermination) {
        await Promise.allSettled(streams.filter((s) => s.answered).map((s) => s.notifyTermination()));
      }
      await Promise.allSettled(streams.map((s) => s.end()));
      this.failReady(new ClientClosedError('the telemetry session closed before the server answered'));
      this.emit('closed');
      this.removeAllListeners();
    })();
    return this.#closing;
  }
}

/** The Telemetry stream to one endpoint, reopened with backoff until the session closes. */
class EndpointStream {
  readonly #session: TelemetrySession;
  readonly endpoint: string;
  #call: StreamCall | undefined;
  #waiters: Waiter[] = [];
  #failures = 0;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #heartbeatTimer: NodeJS.Timeout | undefined;
  /** The server answered Settings on this endpoint at least once. */
  answered = false;

  constructor(session: TelemetrySession, endpoint: string) {
    this.#session = session;
    this.endpoint = endpoint;
  }

  get #logger(): ClientLogger {
    return this.#session.logger;
  }

  open(): void {
    if (this.#session.isClosing) return;
    let call: StreamCall;
    try {
      call = this.#session.host.openTelemetryStream(this.endpoint).call;
    } catch (err) {
      this.#onFailure(undefined, err);
      return;
    }
    this.#call = call;
    call.on('data', (command: TelemetryCommand) => this.#onCommand(command));
    call.on('error', (err: ServiceError) => this.#onFailure(call, err));
    call.on('end', () => this.#onServerEnd(call));
    // Settings first, on every (re)open.
    this.sendSettings().catch(() => undefined);
  }

  write(command: TelemetryCommand): boolean {
    const call = this.#call;
    if (!call || call.writableEnded || call.destroyed) return false;
    call.write(command);
    return true;
  }

  /** Writes the current settings and resolves with the server's answer. */
  sendSettings(): Promise<Settings> {
    if (!this.#call) return Promise.resolve(this.#session.serverSettings ?? {});
    return new Promise<Settings>((resolve, reject) => {
      this.#waiters.push({ resolve, reject });
      if (!this.write({ settings: this.#session.currentSettings() })) {
        this.#waiters.pop();
        resolve(this.#session.serverSettings ?? {});
      }
    });
  }

  #onCommand(command: TelemetryCommand): void {
    const status = command.status;
    if (command.settings) {
      if (status && typeof status.code === 'number' && status.code !== StatusCode.OK) {
        this.#refused(status.code, status.message);
        return;
      }
      this.answered = true;
      this.#failures = 0;
      this.#waiters.shift()?.resolve(command.settings);
      this.#session.noteSettings(command.settings, this.endpoint);
      this.#startHeartbeats();
      return;
    }
    if (command.recover_orphaned_transaction_command) {
      const c = command.recover_orphaned_transaction_command;
      if (c.message && c.transaction_id) {
        this.#session.emit('recoverOrphanedTransaction', {
          endpoint: this.endpoint,
          transactionId: c.transaction_id,
          message: c.message,
        });
      }
      return;
    }
    if (command.print_thread_stack_trace_command) {
      const nonce = command.print_thread_stack_trace_command.nonce ?? '';
      this.write({
        status: { code: StatusCode.OK, message: 'OK' },
        thread_stack_trace: { nonce, thread_stack_trace: threadStackTraceText() },
      });
      this.#session.emit('printThreadStackTrace', { endpoint: this.endpoint, nonce });
      return;
    }
    if (command.verify_message_command) {
      const nonce = command.verify_message_command.nonce ?? '';
      this.write({
        status: { code: StatusCode.NOT_IMPLEMENTED, message: 'message verification is not implemented' },
        verify_message_result: { nonce },
      });
      this.#session.emit('verifyMessage', {
        endpoint: this.endpoint,
        nonce,
        message: command.verify_message_command.message ?? undefined,
      });
      return;
    }
    if (command.reconnect_endpoints_command) {
      this.#logger.info(`the server at ${this.endpoint} asked for a reconnect`);
      this.#restart();
      this.#session.host.refreshRoutes().catch(() => undefined);
      this.#session.emit('reconnect', { endpoint: this.endpoint });
      return;
    }
    if (status && typeof status.code === 'number' && status.code !== StatusCode.OK) {
      // A refusal without a command (how servers reject a client's Settings).
      this.#refused(status.code, status.message);
    }
  }

  #refused(code: number, message: string | undefined): void {
    const err = errorOfStatus(
      code,
      `the server at ${this.endpoint} refused the client's settings: ${message ?? ''}`,
    );
    this.#waiters.shift()?.reject(err);
    if (!this.#session.isReady) this.#session.failReady(err);
    else this.#logger.warn(err.message);
  }

  #onFailure(call: StreamCall | undefined, err: unknown): void {
    if (call !== undefined && call !== this.#call) return; // an old stream
    this.#call = undefined;
    if (this.#session.isClosing) return;
    const typed = transportError(err, `Telemetry stream to ${this.endpoint}`);
    for (const w of this.#waiters.splice(0)) w.reject(typed);
    const code = typed.grpcCode;
    if (!this.answered && code !== undefined && FATAL_STREAM_CODES.has(code)) {
      this.#session.failReady(typed);
    }
    this.#session.emit('streamError', typed, this.endpoint);
    this.#logger.debug(`${typed.message}; reopening`);
    this.#scheduleReopen();
  }

  #onServerEnd(call: StreamCall): void {
    if (call !== this.#call || this.#session.isClosing) return;
    // The server ended the stream with OK (e.g. its shutdown): reopen, it may be back.
    this.#call = undefined;
    for (const w of this.#waiters.splice(0)) {
      w.reject(
        transportError(new Error('the server ended the stream'), `Telemetry stream to ${this.endpoint}`),
      );
    }
    this.#scheduleReopen();
  }

  #scheduleReopen(): void {
    if (this.#reconnectTimer || this.#session.isClosing) return;
    const { reconnectInitialMs, reconnectMaxMs } = this.#session.options;
    const delay = Math.min(reconnectMaxMs, reconnectInitialMs * 2 ** Math.min(this.#failures, 16));
    this.#failures++;
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.open();
    }, delay);
    this.#reconnectTimer.unref();
  }

  #restart(): void {
    const old = this.#call;
    this.#call = undefined;
    for (const w of this.#waiters.splice(0)) {
      w.reject(transportError(new Error('reconnecting'), `Telemetry stream to ${this.endpoint}`));
    }
    if (old) {
      old.end();
      old.cancel();
    }
    this.open();
  }

  #startHeartbeats(): void {
    if (this.#heartbeatTimer || this.#session.isClosing) return;
    this.#heartbeatTimer = setInterval(() => this.#heartbeat(), this.#session.options.heartbeatIntervalMs);
    this.#heartbeatTimer.unref();
  }

  #heartbeat(): void {
    const settings = this.#session.currentSettings();
    const group = settings.subscription?.group;
    this.#session.host
      .unary(
        'Heartbeat',
        { client_type: settings.client_type ?? 0, ...(group ? { group } : {}) },
        { endpoint: this.endpoint },
      )
      .catch((err: unknown) => this.#logger.debug(`heartbeat to ${this.endpoint} failed: ${String(err)}`));
  }

  notifyTermination(): Promise<unknown> {
    const group = this.#session.currentSettings().subscription?.group;
    return this.#session.host
      .unary('NotifyClientTermination', group ? { group } : {}, {
        endpoint: this.endpoint,
        timeoutMs: Math.min(this.#session.host.options.requestTimeoutMs, 2_000),
      })
      .catch((err: unknown) =>
        this.#logger.debug(`NotifyClientTermination to ${this.endpoint}: ${String(err)}`),
      );
  }

  stopTimers(): void {
    if (this.#reconnectTimer) clearTimeout(this.#reconnectTimer);
    if (this.#heartbeatTimer) clearInterval(this.#heartbeatTimer);
    this.#reconnectTimer = undefined;
    this.#heartbeatTimer = undefined;
  }

  /** Half-close, wait briefly for the server's end, then cancel. */
  end(): Promise<void> {
    this.stopTimers();
    const closed = new ClientClosedError('the telemetry session closed');
    for (const w of this.#waiters.splice(0)) w.reject(closed);
    const call = this.#call;
    this.#call = undefined;
    if (!call) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, this.#session.options.closeGraceMs);
      function done(): void {
        clearTimeout(timer);
        call!.removeAllListeners('data');
        // Cancelling an ended call is a no-op; an unanswered one is cut here.
        call!.cancel();
        resolve();
      }
      call.on('status', done);
      call.on('error', () => undefined);
      call.end();
    });
  }
}

/** What a print-thread-stack-trace command is answered with: Node has one JS thread and no dump. */
function threadStackTraceText(): string {
  return (
    `Node.js ${process.version} (pid ${process.pid}, ${process.platform}): a single JavaScript thread; ` +
    `thread stack traces are not available. Uptime ${Math.round(process.uptime())} s, ` +
    `heap used ${Math.round(process.memoryUsage().heapUsed / 1_048_576)} MiB.`
  );
}

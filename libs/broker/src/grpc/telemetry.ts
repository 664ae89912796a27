/**
 * Telemetry, the bidirectional stream every official client keeps open per endpoint (PROTOCOL.md §2):
 *
 * - Every Settings frame is answered `{status OK, settings}` (telemetry-settings.ts): `startup()`
 *   awaits the first answer with no timeout, so a frame is never left unanswered. A refused one is
 *   answered `{status <non-OK>}` with no command, which makes `startup()` reject with the mapped
 *   exception. Authentication (and the client id) are checked once, when the stream opens; a
 *   refused stream answers its opening and every Settings with the refusal and stays open, because
 *   ending it would make the client reopen it every second.
 * - The client half-closes on shutdown: the stream is ended at once with OK (an error status crashes
 *   the client; never ending keeps its process alive). NotifyClientTermination does not end it (the
 *   client would reopen it a second later, after its shutdown). Server shutdown ends it with OK.
 * - Inbound `thread_stack_trace` and `verify_message_result` frames are ignored.
 * - Orphaned transactions: the core's check-back is sent here as a
 *   `recover_orphaned_transaction_command` to a live producer of the topic (the sender first).
 * - While a stream is open its client is alive for the client registry (leases renewed, not released).
 */
import { type handleBidiStreamingCall, type ServerDuplexStream } from '@grpc/grpc-js';
import { type TransactionCheck } from '../core/transaction/transaction-service.js';
import { type CallContext } from './call-context.js';
import { type TelemetryChannel } from './client-registry.js';
import { type HandlerDeps } from './handler-deps.js';
import { toProtoMessage } from './message-view.js';
import { type Status, type TelemetryCommand } from './proto-types.js';
import { OK_STATUS, statusOf } from './status.js';
import { answerSettings } from './telemetry-settings.js';

type TelemetryCall = ServerDuplexStream<TelemetryCommand, TelemetryCommand>;

export function telemetryHandler(
  deps: HandlerDeps,
): handleBidiStreamingCall<TelemetryCommand, TelemetryCommand> {
  deps.core.setTransactionCheckBack((check) => sendOrphanCheck(deps, check));
  return (call) => {
    new TelemetrySession(deps, call).open();
  };
}

/**
 * Sends a check-back to a connected producer of the topic: true when written, false when no
 * producer of that topic is connected (the core then tries again one interval later).
 */
export function sendOrphanCheck(deps: HandlerDeps, check: TransactionCheck): boolean {
  if (deps.shutdown.aborted) return false;
  const channel = deps.clients.producerChannelFor(check.topic, check.transactionId);
  if (!channel) return false;
  const { host, port } = deps.endpoint();
  return channel.send({
    recover_orphaned_transaction_command: {
      transaction_id: check.transactionId,
      message: toProtoMessage(check.message, { storeHost: `${host}:${port}`, namespace: channel.namespace }),
    },
  });
}

class TelemetrySession implements TelemetryChannel {
  readonly #deps: HandlerDeps;
  readonly #call: TelemetryCall;
  #context: CallContext | undefined;
  #clientId: string | undefined;
  /** Set when the stream was refused at opening: every Settings gets this answer. */
  #refusal: Status | undefined;
  #detach: (() => void) | undefined;
  #ended = false;
  readonly #onShutdown = (): void => this.end();

  constructor(deps: HandlerDeps, call: TelemetryCall) {
    this.#deps = deps;
    this.#call = call;
  }

  get namespace(): string {
    return this.#context?.namespace ?? '';
  }

  open(): void {
    const call = this.#call;
    call.on('data', (command: TelemetryCommand) => this.#onCommand(command));
    call.on('end', () => this.end()); // the client half-closed
    call.on('error', () => this.#finished());
    call.on('cancelled', () => this.#finished());
    call.on('finish', () => this.#finished());
    if (this.#deps.shutdown.aborted) {
      this.end();
      return;
    }
    this.#deps.shutdown.addEventListener('abort', this.#onShutdown);
    try {
      this.#context = this.#deps.authenticate(call);
      this.#clientId = this.#context.requireClientId();
    } catch (err) {
      this.#refusal = statusOf(err, this.#deps.logger, 'Telemetry');
      this.send({ status: this.#refusal });
      return;
    }
    this.#detach = this.#deps.clients.attachChannel(this.#clientId, this);
  }

  send(command: TelemetryCommand): boolean {
    if (this.#ended || this.#call.cancelled || this.#call.destroyed) return false;
    try {
      this.#call.write(command);
      return true;
    } catch (err) {
      this.#deps.logger.warn(
        `Telemetry: writing to client ${this.#clientId ?? '?'} failed: ${describe(err)}`,
      );
      return false;
    }
  }

  /** Ends the stream with OK (half-close by the client, server shutdown); idempotent. */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#finished();
    try {
      this.#call.end();
    } catch (err) {
      this.#deps.logger.warn(
        `Telemetry: ending the stream of ${this.#clientId ?? '?'} failed: ${describe(err)}`,
      );
    }
  }

  /** The stream is over (ended, cancelled, failed): the client is no longer reachable through it. */
  #finished(): void {
    this.#deps.shutdown.removeEventListener('abort', this.#onShutdown);
    this.#detach?.();
    this.#detach = undefined;
  }

  #onCommand(command: TelemetryCommand): void {
    if (this.#ended || !command || typeof command !== 'object') return;
    if (this.#clientId !== undefined) this.#deps.clients.touch(this.#clientId);
    // Only Settings call for an answer; stack traces and verify results are client replies to
    // commands this broker never sends, and anything else is not the client's to send.
    if (command.command !== 'settings' || !command.settings) return;
    if (this.#refusal) {
      this.send({ status: this.#refusal });
      return;
    }
    if (!this.#context || this.#clientId === undefined) return; // not opened yet: cannot happen
    try {
      const { reply, view } = answerSettings(
        command.settings,
        this.#context,
        this.#deps.core,
        this.#deps.clock.now(),
      );
      this.#deps.clients.updateSettings(this.#clientId, view);
      this.send({ status: OK_STATUS, settings: reply });
    } catch (err) {
      this.send({ status: statusOf(err, this.#deps.logger, 'Telemetry settings') });
    }
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

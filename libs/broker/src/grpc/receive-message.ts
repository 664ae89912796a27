/**
 * ReceiveMessage (server streaming, PROTOCOL.md §2): long-polls the core and answers in the Java
 * proxy's frame order (receive-message-frames.ts).
 *
 * - Long polling: `core.receiveOrWait` returns as soon as one message is there, or after the poll
 *   budget (receive-message-request.ts: the client's long-polling timeout, ending 1 s before the
 *   call's deadline), or at once when the call is cancelled or the server shuts down.
 * - Messages are never paired with a non-OK status nor followed by a gRPC error: every frame is
 *   built before the first one is written, and an error before that hands the messages back.
 * - Revert on cancel: when the call is cancelled (client gone, deadline passed) after messages were
 *   taken and before the answer was handed to HTTP/2, their leases are handed back (`core.release`):
 *   they are visible again at once and no attempt is counted, since the client never saw them.
 * - Push (`auto_renew`): leases are renewed by the client registry while the client lives.
 * - `attempt_id`: a Push consumer reuses one only to retry a receive that failed on its side; the
 *   core answers a repeated id with the same batch, same attempt numbers and fresh handles (Java's
 *   re-pop), in standard and FIFO groups alike, instead of those messages staying leased (and
 *   renewed) for a client that never saw them.
 */
import { type handleServerStreamingCall, type ServerWritableStream } from '@grpc/grpc-js';
import { type ReceivedMessage } from '../core/consume/types.js';
import { type HandlerDeps } from './handler-deps.js';
import { type ReceiveMessageRequest, type ReceiveMessageResponse } from './proto-types.js';
import { encodeReceiveFrame } from './proto-codec.js';
import { deliveryFrames, notFoundFrames, type FrameSizer } from './receive-message-frames.js';
import {
  DEADLINE_MARGIN_MS,
  planReceive,
  pollBudgetMs,
  type ReceivePlan,
} from './receive-message-request.js';
import { statusOf } from './status.js';

type ReceiveCall = ServerWritableStream<ReceiveMessageRequest, ReceiveMessageResponse>;

export function receiveMessageHandler(
  deps: HandlerDeps,
): handleServerStreamingCall<ReceiveMessageRequest, ReceiveMessageResponse> {
  // The server writes frames with this same encoder (messaging-server.ts).
  const sizeOf: FrameSizer = (frame) => encodeReceiveFrame(frame).length;
  return (call) => {
    void serveReceive(deps, call, sizeOf).catch((err: unknown) => {
      // serveReceive answers every failure itself; this is the last guard against a bug.
      deps.logger.error(`ReceiveMessage failed unexpectedly: ${describe(err)}`);
    });
  };
}

async function serveReceive(deps: HandlerDeps, call: ReceiveCall, sizeOf: FrameSizer): Promise<void> {
  let taken: Taken;
  try {
    taken = await take(deps, call);
  } catch (err) {
    answer(deps, call, [{ status: statusOf(err, deps.logger, 'ReceiveMessage') }]);
    return;
  }
  deliver(deps, call, sizeOf, taken);
}

/** What a receive took from the core, for whom. */
interface Taken {
  readonly clientId: string;
  readonly namespace: string;
  readonly plan: ReceivePlan;
  readonly received: ReceivedMessage[];
}

/**
 * Authenticates, reads the request and long-polls the core until messages come, the poll budget is
 * spent, the call is cancelled or the server shuts down.
 * @throws the typed errors of authentication, authorization and the core's validation
 */
async function take(deps: HandlerDeps, call: ReceiveCall): Promise<Taken> {
  const stop = new AbortController();
  const abort = (): void => stop.abort();
  call.on('cancelled', abort);
  deps.shutdown.addEventListener('abort', abort);
  let deadlineTimer: NodeJS.Timeout | undefined;
  try {
    const context = deps.authenticate(call);
    const clientId = context.requireClientId();
    deps.clients.touch(clientId);
    const plan = planReceive(call.request ?? {}, context, clientId, deps.clients.settingsOf(clientId));
    context.authorizeGroup(plan.options.group);
    const deadline = deadlineOf(call);
    const pollMs = pollBudgetMs(plan.requestedPollMs, deadline, Date.now());
    // The core waits on its own clock; this bounds the wait in real time too, as the deadline is.
    if (Number.isFinite(deadline)) {
      deadlineTimer = setTimeout(abort, Math.max(0, deadline - Date.now() - DEADLINE_MARGIN_MS));
    }
    const received = await deps.core.receiveOrWait(plan.options, pollMs, stop.signal);
    deps.clients.touch(clientId);
    return { clientId, namespace: context.namespace, plan, received };
  } finally {
    clearTimeout(deadlineTimer);
    deps.shutdown.removeEventListener('abort', abort);
    call.off('cancelled', abort);
  }
}

/** Answers with what was taken, or hands it back when the client cannot get it. */
function deliver(deps: HandlerDeps, call: ReceiveCall, sizeOf: FrameSizer, taken: Taken): void {
  const { clientId, plan, received } = taken;
  const group = plan.options.group;
  if (call.cancelled) {
    handBack(deps, clientId, leasesOf(group, received));
    return;
  }
  if (received.length === 0) {
    answer(deps, call, notFoundFrames(deps.clock.now()));
    return;
  }

  let built: ReturnType<typeof deliveryFrames>;
  try {
    const { host, port } = deps.endpoint();
    built = deliveryFrames(
      received,
      { storeHost: `${host}:${port}`, namespace: taken.namespace, invisibleMs: plan.options.invisibleMs },
      deps.clock.now(),
      sizeOf,
    );
  } catch (err) {
    handBack(deps, clientId, leasesOf(group, received));
    answer(deps, call, [{ status: statusOf(err, deps.logger, 'ReceiveMessage') }]);
    return;
  }
  handBack(deps, clientId, leasesOf(group, built.overflow));
  for (const m of built.undeliverable) {
    deps.logger.error(
      `ReceiveMessage: message ${m.message.messageId} of ${m.message.topic} is larger than a client can ` +
        'receive (4 MiB); it is not sent, and goes to the dead-letter queue once its attempts are used up',
    );
  }
  const delivered = leasesOf(group, built.delivered);
  if (plan.autoRenew) deps.clients.trackAutoRenew(clientId, group, built.delivered);

  // Until the answer is handed to HTTP/2 ('finish': eager-stream-writes.ts), a cancellation means the
  // client got nothing. One later than that leaves the leases to run out, as for a lost answer.
  const lost = (): void => handBack(deps, clientId, delivered);
  call.once('cancelled', lost);
  call.once('finish', () => call.off('cancelled', lost));
  if (!answer(deps, call, built.frames)) {
    call.off('cancelled', lost);
    lost();
  }
}

/**
 * Writes `frames` and ends the call with OK. False when the call is gone or a write failed: then the
 * call is failed with a gRPC error, so that the client drops whatever frames it got.
 */
function answer(deps: HandlerDeps, call: ReceiveCall, frames: readonly ReceiveMessageResponse[]): boolean {
  if (call.cancelled) return false;
  try {
    for (const frame of frames) call.write(frame);
    call.end();
    return true;
  } catch (err) {
    deps.logger.error(`ReceiveMessage: answering failed: ${describe(err)}`);
    try {
      call.emit('error', err instanceof Error ? err : new Error(String(err)));
    } catch {
      // Nothing more can be done for this call.
    }
    return false;
  }
}

interface Lease {
  readonly group: string;
  readonly receiptHandle: string;
}

function leasesOf(group: string, messages: readonly ReceivedMessage[]): Lease[] {
  return messages.map((m) => ({ group, receiptHandle: m.receiptHandle }));
}

/** Makes leased messages visible again at once, no attempt counted (the client never saw them). */
function handBack(deps: HandlerDeps, clientId: string, leases: readonly Lease[]): void {
  if (leases.length === 0 || deps.core.closed) return;
  for (const { group, receiptHandle } of leases) {
    deps.clients.untrack(clientId, receiptHandle);
    try {
      deps.core.release(group, receiptHandle);
    } catch (err) {
      deps.logger.warn(`ReceiveMessage: handing a lease back failed: ${describe(err)}`);
    }
  }
}

/** The call's deadline in epoch ms; Infinity without one. */
function deadlineOf(call: ReceiveCall): number {
  const deadline = call.getDeadline();
  const ms = deadline instanceof Date ? deadline.getTime() : Number(deadline);
  return Number.isNaN(ms) ? Infinity : ms;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

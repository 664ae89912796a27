/**
 * SendMessage: one or many messages of one topic (the official client sends one, ours batches).
 *
 * - The user must be allowed to publish to every topic named (40300), then the core validates the
 *   whole request all-or-nothing (one bad message rejects the call with its code, nothing stored).
 * - Response (PROTOCOL.md §2): exactly one entry per message, in order, echoing the request's
 *   `message_id`, with the queue offset and, for TRANSACTION, the core's non-empty, unique
 *   `transaction_id`. The top-level status is the entries' code when they agree (so one message →
 *   its own status), MULTIPLE_RESULTS when they differ.
 * - A request-level failure answers only a status, no entries: the client throws (and retries).
 * - TRANSACTION: the client registry learns who sent each half message, so that its check-back goes
 *   to that producer's telemetry stream first.
 * - Flow control (send-flow-control.ts): beyond a cap of request bytes being stored at once, 42900.
 * - Namespaces: `resource_namespace` of each topic (or the call's `x-mq-namespace`) is applied as
 *   `<namespace>%<topic>` (namespace.ts).
 */
import { MessageCorruptedError } from '../core/errors.js';
import { type SendResult } from '../core/send-path.js';
import { StatusCode } from '../status-code.js';
import { type HandlerDeps } from './handler-deps.js';
import {
  type SendMessageRequest,
  type SendMessageResponse,
  type SendResultEntry,
  type Status,
} from './proto-types.js';
import { SendFlowControl } from './send-flow-control.js';
import { decodeBody, toSendRequest } from './send-request.js';
import { OK_STATUS, status } from './status.js';
import { unary } from './unary.js';

/** The top-level status of per-entry results: their common status, or MULTIPLE_RESULTS. */
export function combinedStatus(entries: readonly { status?: Status }[]): Status {
  const first = entries[0]?.status;
  if (!first) return status(StatusCode.INTERNAL_ERROR, 'no result');
  if (entries.every((e) => e.status?.code === first.code)) return { ...first };
  return status(StatusCode.MULTIPLE_RESULTS, 'the messages have different results, see the entries');
}

function entryOf(result: SendResult): SendResultEntry {
  if (!result.ok) {
    return {
      status: status(result.code, result.message),
      message_id: result.messageId,
      transaction_id: '',
      offset: 0,
      recall_handle: '',
    };
  }
  return {
    status: OK_STATUS,
    message_id: result.messageId,
    transaction_id: result.transactionId ?? '',
    offset: result.queueOffset,
    recall_handle: '',
  };
}

export function sendMessageHandler(deps: HandlerDeps, flow: SendFlowControl = new SendFlowControl()) {
  return unary<SendMessageRequest, SendMessageResponse>(deps, 'SendMessage', async (request, context) => {
    const messages = Array.isArray(request.messages) ? request.messages : [];
    if (messages.length === 0) throw new MessageCorruptedError('a send request needs at least one message');
    for (const topic of new Set(messages.map((m) => context.nameOf(m.topic)))) context.authorizeTopic(topic);
    let bytes = 0;
    for (const m of messages) bytes += m.body?.length ?? 0;
    const release = flow.acquire(bytes);
    let results;
    try {
      const maxBodySize = deps.core.limits.maxBodySize;
      const bodies = await Promise.all(messages.map((m) => decodeBody(m, maxBodySize)));
      results = await deps.core.send(messages.map((m, i) => toSendRequest(m, bodies[i], context)));
    } finally {
      release();
    }
    // A check-back of a half message goes to its sender's telemetry stream first (PROTOCOL.md §2).
    for (const r of results) {
      if (r.ok && r.transactionId)
        deps.clients.noteTransactionSender(r.transactionId, context.requireClientId());
    }
    const entries = results.map(entryOf);
    return { status: combinedStatus(entries), entries };
  });
}

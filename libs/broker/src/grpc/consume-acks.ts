/**
 * What a consumer does with a delivered message: AckMessage (many entries), ChangeInvisibleDuration
 * (a new lease, or a nack with 0), ForwardMessageToDeadLetterQueue (copy to `%DLQ%<group>` and ack).
 *
 * Common rules: the group must be legal (ILLEGAL_CONSUMER_GROUP) and allowed for the user (40300);
 * the topic must be a legal name (ILLEGAL_TOPIC) as in Java, though the receipt handle alone says
 * which lease is meant. A forged, stale or already finished handle is INVALID_RECEIPT_HANDLE.
 *
 * Every response carries a status: the official Push consumer retries forever on a missing one
 * (PROTOCOL.md §1), and ChangeInvisibleDuration always returns a non-empty handle.
 */
import { BadRequestError } from '../core/errors.js';
import { validateConsumerGroup, validateTopicName } from '../core/validation.js';
import { type CallContext } from './call-context.js';
import { type HandlerDeps } from './handler-deps.js';
import {
  type AckMessageRequest,
  type AckMessageResponse,
  type AckMessageResultEntry,
  type ChangeInvisibleDurationRequest,
  type ChangeInvisibleDurationResponse,
  type ForwardMessageToDeadLetterQueueRequest,
  type ForwardMessageToDeadLetterQueueResponse,
  type Resource,
} from './proto-types.js';
import { millisOfDuration } from './proto-time.js';
import { combinedStatus } from './send-message.js';
import { OK_STATUS, status } from './status.js';
import { unary } from './unary.js';

/** Most entries one AckMessage may carry: a bound on one call's work, far above any batch size (32). */
export const MAX_ACK_ENTRIES = 1024;

/** The broker's group name, checked and authorized, after the topic's. */
function consumerGroupOf(
  context: CallContext,
  request: { group?: Resource | null; topic?: Resource | null },
): string {
  validateTopicName(context.nameOf(request.topic), { allowRetryDlq: true });
  const group = context.nameOf(request.group);
  validateConsumerGroup(group);
  context.authorizeGroup(group);
  return group;
}

export function ackMessageHandler(deps: HandlerDeps) {
  return unary<AckMessageRequest, AckMessageResponse>(deps, 'AckMessage', (request, context) => {
    const group = consumerGroupOf(context, request);
    const entries = Array.isArray(request.entries) ? request.entries : [];
    if (entries.length === 0) throw new BadRequestError('an ack needs at least one entry');
    if (entries.length > MAX_ACK_ENTRIES) {
      throw new BadRequestError(`${entries.length} ack entries, at most ${MAX_ACK_ENTRIES}`);
    }
    const results = deps.core.ackMany(
      group,
      entries.map((e) => ({ receiptHandle: e.receipt_handle ?? '', messageId: e.message_id ?? '' })),
    );
    const out: AckMessageResultEntry[] = results.map((r, i) => ({
      message_id: entries[i]?.message_id ?? '',
      receipt_handle: r.receiptHandle,
      status: r.error === undefined ? OK_STATUS : status(r.code, r.error),
    }));
    return { status: combinedStatus(out), entries: out };
  });
}

export function changeInvisibleDurationHandler(deps: HandlerDeps) {
  return unary<ChangeInvisibleDurationRequest, ChangeInvisibleDurationResponse>(
    deps,
    'ChangeInvisibleDuration',
    (request, context) => {
      const group = consumerGroupOf(context, request);
      // An absent duration is 0: a nack (the Push consumer sends 1, 2, 4… ms, PROTOCOL.md §2).
      const invisibleMs = millisOfDuration(request.invisible_duration) ?? 0;
      const result = deps.core.changeInvisibleDuration(group, request.receipt_handle ?? '', invisibleMs);
      return { status: OK_STATUS, receipt_handle: result.receiptHandle };
    },
  );
}

export function forwardToDeadLetterQueueHandler(deps: HandlerDeps) {
  return unary<ForwardMessageToDeadLetterQueueRequest, ForwardMessageToDeadLetterQueueResponse>(
    deps,
    'ForwardMessageToDeadLetterQueue',
    async (request, context) => {
      const group = consumerGroupOf(context, request);
      const attempts = request.delivery_attempt ?? 0;
      const max = request.max_delivery_attempts ?? 0;
      await deps.core.forwardToDeadLetter(
        group,
        request.receipt_handle ?? '',
        `forwarded to the dead-letter queue by the client after delivery ${attempts} of ${max}`,
      );
      return { status: OK_STATUS };
    },
  );
}

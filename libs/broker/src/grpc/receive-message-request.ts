/**
 * A ReceiveMessage request read into what the core's `receiveOrWait` needs (PROTOCOL.md §2), plus
 * how long it may long-poll. Validation of the values themselves is the core's (group and topic
 * names, filter syntax, lease length, batch size), so the codes are the ones RocketMQ answers with;
 * this only translates:
 *
 * - group and topic: the broker's names (namespace applied); the queue id is not used: 0, −1 or any
 *   queue of the topic reads the whole topic, since QueryRoute and QueryAssignment hand out queue 0
 *   while the messages are spread over every queue of the topic.
 * - filter: TAG (also for an unset type, as Java's `buildExpressionType`) or SQL92.
 * - lease: with `auto_renew` (Push) `AUTO_RENEW_LEASE_MS`, renewed by the client registry while the
 *   client lives, whatever `invisible_duration` says (Java ignores it too); without it the
 *   request's `invisible_duration`, 10 s..12 h (a missing one is 0 and a malformed one NaN: both
 *   ILLEGAL_INVISIBLE_TIME).
 * - retry: a Simple consumer's lease that runs out makes the message visible at once (its invisible
 *   duration is its retry interval, as in Apache RocketMQ); a Push consumer's waits the group's
 *   backoff (Push nacks with a lease of a few milliseconds, PROTOCOL.md §7.2).
 * - attempt id: passed on; the core answers a repeated one of a FIFO group with the same messages.
 * - long poll: the request's `long_polling_timeout`, else the one of the client's Settings, else
 *   20 s; never closer than 1 s to the call's deadline, so that the answer arrives before the client
 *   gives up; a call without a deadline polls at most 20 s (Java's maximum).
 */
import { type ReceiveOptions } from '../core/broker-core-types.js';
import { LONG_POLLING_MAX_MS } from '../core/limits.js';
import { type FilterExpression as CoreFilterExpression } from '../core/filter/index.js';
import { type CallContext } from './call-context.js';
import { AUTO_RENEW_LEASE_MS, type ClientSettingsView } from './client-registry.js';
import { FilterType, type FilterExpression, type ReceiveMessageRequest } from './proto-types.js';
import { millisOfDuration } from './proto-time.js';

/** The answer must leave the broker this long before the call's deadline. */
export const DEADLINE_MARGIN_MS = 1_000;

export interface ReceivePlan {
  /** What `core.receiveOrWait` is asked (group and topic are the broker's names). */
  readonly options: ReceiveOptions;
  /** Push: leases are renewed while the client lives. */
  readonly autoRenew: boolean;
  /** What the client asks to long-poll, before the deadline bound (`pollBudgetMs`). */
  readonly requestedPollMs: number;
}

/** Reads `request` of the client `clientId`; throws nothing (bad values are the core's to refuse). */
export function planReceive(
  request: ReceiveMessageRequest,
  context: CallContext,
  clientId: string,
  settings: ClientSettingsView | undefined,
): ReceivePlan {
  const group = context.nameOf(request.group);
  const topic = context.nameOf(request.message_queue?.topic);
  const autoRenew = request.auto_renew === true;
  const invisibleMs = autoRenew ? AUTO_RENEW_LEASE_MS : (millisOfDuration(request.invisible_duration) ?? 0);
  const attemptId = typeof request.attempt_id === 'string' ? request.attempt_id : '';
  return {
    options: {
      group,
      topic,
      filter: filterOf(request.filter_expression),
      batchSize: typeof request.batch_size === 'number' ? request.batch_size : 0,
      invisibleMs,
      clientId,
      ...(attemptId === '' ? {} : { attemptId }),
      retryAfter: autoRenew ? 'group-backoff' : 'lease-end',
    },
    autoRenew,
    requestedPollMs:
      millisOfDuration(request.long_polling_timeout) ?? settings?.longPollingTimeoutMs ?? LONG_POLLING_MAX_MS,
  };
}

/**
 * How long a receive may wait for messages: what the client asked, bounded by the call's deadline
 * (epoch ms, or Infinity without one) less `DEADLINE_MARGIN_MS`; never negative.
 */
export function pollBudgetMs(requestedMs: number, deadline: number, now: number): number {
  const bound = Number.isFinite(deadline) ? deadline - now - DEADLINE_MARGIN_MS : LONG_POLLING_MAX_MS;
  const wanted = requestedMs >= 0 ? requestedMs : 0; // NaN (a malformed duration) polls not at all
  return Math.max(0, Math.min(wanted, bound));
}

function filterOf(filter: FilterExpression | null | undefined): CoreFilterExpression {
  const expression = typeof filter?.expression === 'string' ? filter.expression : '';
  return { type: filter?.type === FilterType.SQL ? 'SQL92' : 'TAG', expression };
}

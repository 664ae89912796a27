/**
 * The answer to a client's Settings on the telemetry stream (PROTOCOL.md §2): the client's own
 * Settings echoed, with the fields the server owns filled per client type, as the Java proxy's
 * `GrpcClientSettingsManager` does, and `metric{on:false}` (no metrics collector).
 *
 * - PRODUCER: `backoff_policy` with an exponential backoff (without one the official client throws
 *   in its stream handler and `startup()` never resolves), `publishing.max_body_size` = the core's
 *   limit (0 would fail every send client-side), `validate_message_type` true.
 * - PUSH_CONSUMER: `subscription.fifo` from the group's config (the group is created here when the
 *   core auto-creates groups: the client reads `fifo` once, from this first reply),
 *   `receive_batch_size` = the core's `maxReceiveBatchSize` (32 unless configured) and
 *   `long_polling_timeout` 20 s (0 makes the client spin), and
 *   `backoff_policy{max_attempts = the group's max delivery attempts, exponential_backoff}`: the
 *   client ignores a customized backoff and then retries FIFO messages only once.
 * - SIMPLE_CONSUMER: the echo (the client ignores the content, but awaits the reply).
 * Any other client type is refused with UNRECOGNIZED_CLIENT_TYPE.
 *
 * Authorization as in RocketMQ's ACL for Telemetry: a producer must be allowed every topic it
 * declares, a consumer its group.
 */
import { type BrokerCore } from '../core/broker-core.js';
import { type GroupConfig } from '../core/group-registry.js';
import { LONG_POLLING_MAX_MS } from '../core/limits.js';
import { type CallContext } from './call-context.js';
import { type ClientSettingsView } from './client-registry.js';
import { UnrecognizedClientTypeError } from './errors.js';
import { ClientType, type Duration, type ExponentialBackoff, type Settings } from './proto-types.js';
import { durationOf, millisOfDuration } from './proto-time.js';

/** `ProxyConfig.grpcClientProducerMaxAttempts`. The client keeps its own `maxAttempts` anyway. */
export const PRODUCER_MAX_ATTEMPTS = 3;
/** `ProxyConfig.grpcClientProducerBackoff{Initial,Max}Millis` and `…Multiplier`. */
export const PRODUCER_BACKOFF = Object.freeze({ initialMs: 10, maxMs: 1_000, multiplier: 2 });

/** What a Settings frame is answered with, and what the registry keeps of it. */
export interface SettingsAnswer {
  readonly reply: Settings;
  readonly view: ClientSettingsView;
}

/**
 * The reply to `settings` sent on a stream of `context`.
 * @throws UnrecognizedClientTypeError (40015); ForbiddenError (40300); the core's group errors for a
 *   Push consumer (ILLEGAL_CONSUMER_GROUP, CONSUMER_GROUP_NOT_FOUND when groups are not auto-created)
 */
export function answerSettings(
  settings: Settings,
  context: CallContext,
  core: BrokerCore,
  now: number,
): SettingsAnswer {
  const clientType = typeof settings.client_type === 'number' ? settings.client_type : ClientType.UNSPECIFIED;
  const base = {
    clientType,
    receivedAt: now,
    ...optionalMs('requestTimeoutMs', declaredMs(settings.request_timeout)),
  };
  switch (clientType) {
    case ClientType.PRODUCER: {
      const topics = (settings.publishing?.topics ?? [])
        .map((t) => context.nameOf(t))
        .filter((t) => t !== '');
      for (const topic of topics) context.authorizeTopic(topic);
      const reply: Settings = {
        ...settings,
        backoff_policy: {
          max_attempts: PRODUCER_MAX_ATTEMPTS,
          exponential_backoff: {
            initial: durationOf(PRODUCER_BACKOFF.initialMs),
            max: durationOf(PRODUCER_BACKOFF.maxMs),
            multiplier: PRODUCER_BACKOFF.multiplier,
          },
        },
        publishing: {
          ...settings.publishing,
          max_body_size: core.limits.maxBodySize,
          validate_message_type: true,
        },
        metric: { on: false },
      };
      return { reply, view: { ...base, topics } };
    }
    case ClientType.PUSH_CONSUMER: {
      const groupName = context.nameOf(settings.subscription?.group);
      context.authorizeGroup(groupName);
      const group = core.resolveGroup(groupName);
      const reply: Settings = {
        ...settings,
        backoff_policy: {
          max_attempts: group.maxDeliveryAttempts,
          exponential_backoff: exponentialBackoffOf(group),
        },
        subscription: {
          ...settings.subscription,
          fifo: group.fifo,
          receive_batch_size: core.maxReceiveBatchSize,
          long_polling_timeout: durationOf(LONG_POLLING_MAX_MS),
        },
        metric: { on: false },
      };
      return {
        reply,
        view: { ...base, group: group.name, topics: [], longPollingTimeoutMs: LONG_POLLING_MAX_MS },
      };
    }
    case ClientType.SIMPLE_CONSUMER: {
      const groupName = context.nameOf(settings.subscription?.group);
      context.authorizeGroup(groupName);
      const reply: Settings = { ...settings, metric: { on: false } };
      return {
        reply,
        view: {
          ...base,
          group: groupName,
          topics: [],
          ...optionalMs('longPollingTimeoutMs', declaredMs(settings.subscription?.long_polling_timeout)),
        },
      };
    }
    default:
      throw new UnrecognizedClientTypeError(clientType);
  }
}

/**
 * A group's retry schedule as the exponential backoff the client understands: first step, largest
 * step, and the multiplier that climbs from one to the other over the schedule's steps. (The client
 * only reads whole seconds and uses them as milliseconds, PROTOCOL.md §7.2; what it does with them is
 * local retry pacing, the broker's own schedule governs redelivery.)
 */
export function exponentialBackoffOf(group: Pick<GroupConfig, 'retryBackoffMs'>): ExponentialBackoff {
  const steps = group.retryBackoffMs.length > 0 ? group.retryBackoffMs : [0];
  const initial = steps[0]!;
  const max = Math.max(...steps);
  const multiplier =
    steps.length > 1 && initial > 0 && max > initial
      ? Math.round((max / initial) ** (1 / (steps.length - 1)) * 1000) / 1000
      : 1;
  return { initial: durationOf(initial), max: durationOf(max), multiplier };
}

/** Milliseconds of a Duration the client declares; undefined when absent or not a sensible span. */
function declaredMs(duration: Duration | null | undefined): number | undefined {
  const ms = millisOfDuration(duration);
  return ms !== undefined && Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

function optionalMs<K extends string>(key: K, ms: number | undefined): { [P in K]?: number } {
  return (ms === undefined ? {} : { [key]: ms }) as { [P in K]?: number };
}

/**
 * `@RocketListener({ topic, … })` on any provider or controller method: the method consumes the
 * topic. Many per class, and several per method (one per topic). Discovered at bootstrap.
 *
 * ```ts
 * @Injectable()
 * export class OrderEvents {
 *   @RocketListener({ topic: 'orders', tag: 'created || paid', maxReconsumeTimes: 5 })
 *   async onOrder(@Payload() order: OrderDto, @Ctx() ctx: RocketMQContext) { … }
 *
 *   @RocketListener({ topic: 'audit', batch: { size: 100, waitMs: 200 } })
 *   async onAudit(events: AuditEvent[]) { … }   // a batch listener receives arrays
 * }
 * ```
 *
 * Arguments: with Nest's `@Payload()` / `@Ctx()` (from `@nestjs/microservices`) wherever you want
 * them — pipes such as `ValidationPipe` apply to `@Payload()`; without parameter decorators the
 * method receives `(payload, context)`. Batch listeners receive `(payloads[], RocketMQBatchContext)`.
 *
 * Outcomes: resolve → acknowledged; throw → retried after the backoff, then `%DLQ%<group>` after
 * `maxReconsumeTimes`; return `Reconsume.after(ms)` → retried after `ms` without an error. A batch
 * listener may return `BatchResult.failed(indexes)` to retry only some messages.
 *
 * Group: `group`, or by default `<ClassName>_<methodName>_<topic>` (characters outside
 * `[a-zA-Z0-9_-]` become `_`): stable across restarts and instances, so instances share the work.
 * Renaming the class or the method changes the default group (a new group starts at the oldest
 * retained message on the built-in broker): name the group explicitly in production.
 */
import { type BackoffOptions } from '../../client/index.js';
import { type PayloadCodec } from '../serialization/payload-codec.js';
import { appendMethodMetadata, ROCKET_LISTENER_METADATA } from './metadata-keys.js';

/** Batch consumption: up to `size` messages handed together, waiting at most `waitMs` for a batch to fill. */
export interface BatchOptions {
  /** Most messages per call, 1..1024. */
  readonly size: number;
  /** Longest wait after a batch's first message before it is handed over, ms. */
  readonly waitMs: number;
}

export interface RocketListenerOptions {
  readonly topic: string;
  /** Consumer group. Default `<ClassName>_<methodName>_<topic>`. */
  readonly group?: string;
  /** TAG filter, `a || b`; `*` = all (default). Give `tag` or `sql`, not both. */
  readonly tag?: string;
  /** SQL92 filter over user properties and `TAGS` (Apache: the broker needs `enablePropertyFilter`). */
  readonly sql?: string;
  /**
   * Retries before `%DLQ%<group>` (RocketMQ's `maxReconsumeTimes`; default the module's, else 16).
   * Applied to the group on the embedded broker; on a remote server the group's setting rules
   * (`mqadmin updateSubGroup -g <group> -r <n>`).
   */
  readonly maxReconsumeTimes?: number;
  /** Handlers running at once. Default the module's consumer `concurrency` (client default 64). */
  readonly concurrency?: number;
  /** Messages held at once. Default the module's. */
  readonly maxInFlight?: number;
  /** Lease of a received message. Default the module's. */
  readonly invisibleDurationMs?: number;
  /** Retry delays. Default the module's, else the group's. */
  readonly backoff?: BackoffOptions;
  /** Batch consumption (the method receives arrays). */
  readonly batch?: BatchOptions;
  /**
   * `clustering` (default): the instances of a group share the messages. `broadcasting`: every
   * instance receives every message — each gets its own group `<group>-BROADCAST-<instanceName>`.
   */
  readonly model?: 'clustering' | 'broadcasting';
  /** The payload codec of this listener. Default the module's. */
  readonly codec?: PayloadCodec;
  /** The id in `RocketListenerRegistry`. Default `<ClassName>.<methodName>` (`#<topic>` appended when a method has several). */
  readonly id?: string;
}

/** Marks a method as a consumer of `options.topic`. */
export function RocketListener(options: RocketListenerOptions): MethodDecorator {
  return (_target, _key, descriptor) => {
    if (typeof descriptor.value !== 'function') throw new TypeError('@RocketListener goes on a method');
    appendMethodMetadata(ROCKET_LISTENER_METADATA, options, descriptor.value);
  };
}

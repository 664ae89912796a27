/**
 * Keeps the leases of held messages alive while they wait or run: a message whose lease ends within
 * `renewAheadMs` is given another `invisibleMs` (ChangeInvisibleDuration, which answers with a new
 * receipt handle).
 *
 * Why the client renews (receives use `auto_renew: false` and an explicit invisible duration) rather
 * than asking the server to (`auto_renew: true`, as the Java PushConsumer does):
 * - A retry delay is then exactly the delay asked for, on both servers. With auto-renewed leases the
 *   built-in broker adds the group's backoff after a ChangeInvisibleDuration lease ends (its rule
 *   for the official client, whose nack durations are in the wrong unit), and Apache's proxy renews
 *   only when `enableProxyAutoRenew` is on.
 * - The client knows which messages are really still in work; a message it dropped (shutdown past
 *   the timeout, a crash) comes back after at most one invisible duration, on any server.
 * The cost is one ChangeInvisibleDuration per message per (invisible duration − renew-ahead) for
 * messages held that long, which handlers shorter than the invisible duration (30 s by default)
 * never pay.
 *
 * Renewals stop `MAX_HOLD_MS` after the receive (Java proxy's `renewMaxTimeMillis`, 3 h): a handler
 * stuck that long loses its message to a redelivery. A renewal refused with INVALID_RECEIPT_HANDLE
 * marks the delivery `lost`; one that fails otherwise is tried again at the next sweep.
 *
 * The sweep timer runs only while messages are held, and `stop()` clears it.
 */
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { durationOf } from '@rocketnest/broker/grpc/proto-time.js';
import { describeError, type ConsumerLogger, ThrottledLog } from './consumer-logger.js';
import { type ConsumerTransport } from './consumer-transport.js';
import { type Delivery } from './delivery.js';

/** Renewals of one message stop this long after it was received. */
export const MAX_HOLD_MS = 3 * 60 * 60 * 1000;
/** A lease is renewed when it ends within this (Java proxy `renewAheadTimeMillis`), or a third of it. */
export const RENEW_AHEAD_MS = 10_000;
/** Longest pause between sweeps. */
const MAX_SWEEP_MS = 1_000;

export interface LeaseKeeperOptions {
  readonly transport: ConsumerTransport;
  readonly group: string;
  readonly invisibleMs: number;
  readonly logger: ConsumerLogger;
}

export class LeaseKeeper {
  readonly #transport: ConsumerTransport;
  readonly #group: string;
  readonly #invisibleMs: number;
  readonly #renewAheadMs: number;
  readonly #sweepMs: number;
  readonly #logger: ConsumerLogger;
  readonly #throttled: ThrottledLog;
  readonly #held = new Set<Delivery>();
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Renewals sent (for tests and statistics). */
  renewals = 0;

  constructor(options: LeaseKeeperOptions) {
    this.#transport = options.transport;
    this.#group = options.group;
    this.#invisibleMs = options.invisibleMs;
    this.#renewAheadMs = Math.min(RENEW_AHEAD_MS, Math.floor(options.invisibleMs / 3));
    this.#sweepMs = Math.max(50, Math.min(MAX_SWEEP_MS, Math.floor(this.#renewAheadMs / 4)));
    this.#logger = options.logger;
    this.#throttled = new ThrottledLog(options.logger);
  }

  /** Keeps `delivery`'s lease alive until `release`. */
  hold(delivery: Delivery): void {
    if (this.#stopped) return;
    this.#held.add(delivery);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), this.#sweepMs);
      // The receive loops keep a running consumer's process alive; this timer must not.
      this.#timer.unref();
    }
  }

  /** Stops renewing `delivery` (it is being settled or given up). */
  release(delivery: Delivery): void {
    this.#held.delete(delivery);
    if (this.#held.size === 0) this.#clearTimer();
  }

  /** Resolves once no renewal of `delivery` is under way, so that its handle is the newest. */
  async settled(delivery: Delivery): Promise<void> {
    while (delivery.renewal) await delivery.renewal;
  }

  /** Renewals stop for good; the timer is cleared. */
  stop(): void {
    this.#stopped = true;
    this.#held.clear();
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #sweep(): void {
    const now = Date.now();
    for (const delivery of this.#held) {
      if (delivery.state !== 'held') {
        this.#held.delete(delivery);
        continue;
      }
      if (delivery.renewal || delivery.leaseEndsAt - now > this.#renewAheadMs) continue;
      if (now - delivery.receivedAt >= MAX_HOLD_MS) {
        this.#logger.warn(
          `${delivery.describe()} has been held for ${MAX_HOLD_MS} ms; its lease is no longer renewed and ` +
            'it will be delivered again',
        );
        this.#held.delete(delivery);
        continue;
      }
      delivery.renewal = this.#renew(delivery).finally(() => {
        delivery.renewal = undefined;
      });
    }
    if (this.#held.size === 0) this.#clearTimer();
  }

  async #renew(delivery: Delivery): Promise<void> {
    const sentAt = Date.now();
    this.renewals++;
    try {
      const response = await this.#transport.changeInvisibleDuration(
        {
          group: { name: this.#group },
          topic: { name: delivery.topic },
          receipt_handle: delivery.receiptHandle,
          invisible_duration: durationOf(this.#invisibleMs),
          message_id: delivery.messageId,
        },
        delivery.endpoints,
      );
      const code = response.status?.code;
      if (code === StatusCode.OK && response.receipt_handle) {
        delivery.receiptHandle = response.receipt_handle;
        delivery.leaseEndsAt = sentAt + this.#invisibleMs;
        this.#throttled.clear('renew');
        return;
      }
      if (code === StatusCode.INVALID_RECEIPT_HANDLE) {
        if (delivery.state === 'held') delivery.state = 'lost';
        this.#held.delete(delivery);
        this.#logger.warn(
          `the lease of ${delivery.describe()} could not be renewed (INVALID_RECEIPT_HANDLE: ` +
            `${response.status?.message ?? ''}); it will be delivered again and is not acknowledged here`,
        );
        return;
      }
      this.#throttled.warn(
        'renew',
        `renewing the lease of ${delivery.describe()} failed with status ${code ?? 'none'} ` +
          `(${response.status?.message ?? ''}); retrying`,
      );
    } catch (err) {
      this.#throttled.warn(
        'renew',
        `renewing the lease of ${delivery.describe()} failed: ${describeError(err)}; retrying`,
      );
    }
  }
}

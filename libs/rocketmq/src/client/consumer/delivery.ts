/**
 * One received message from the moment it arrives until it is settled (acked, nacked, forwarded to
 * the dead-letter queue) or given up: its view, its current receipt handle (renewals change it),
 * where it came from, and how far its lease goes.
 *
 * States: `held` (leased to us: waiting, running, or retrying locally) → `settling` (an ack, nack or
 * forward is under way; renewals stop) → `done`. `lost`: the server refused a renewal, so the lease
 * is gone and the message will be (or was) delivered again; nothing is sent for it any more.
 * `abandoned`: the consumer shut down before it was settled; the server gets it back through
 * NotifyClientTermination or at the end of its lease.
 */
import { type Endpoints } from '@rocketnest/broker/grpc/proto-types.js';
import { type DecodedDelivery, type ReceivedMessageView, withAttempt } from './received-message.js';

export type DeliveryState = 'held' | 'settling' | 'done' | 'lost' | 'abandoned';

export class Delivery {
  #view: ReceivedMessageView;
  receiptHandle: string;
  /** Local-clock estimate of the lease's end (from the answer's arrival: the server took it earlier). */
  leaseEndsAt: number;
  state: DeliveryState = 'held';
  /** A renewal under way: settling waits for it, so that the newest handle is used. */
  renewal: Promise<void> | undefined;
  readonly corruption: string | undefined;

  constructor(
    decoded: DecodedDelivery,
    /** The broker it came from: acks and nacks go there. */
    readonly endpoints: Endpoints | null | undefined,
    /** Local clock time it arrived. */
    readonly receivedAt: number,
    invisibleMs: number,
  ) {
    this.#view = decoded.view;
    this.receiptHandle = decoded.receiptHandle;
    this.leaseEndsAt = receivedAt + invisibleMs;
    this.corruption = decoded.corruption;
  }

  get view(): ReceivedMessageView {
    return this.#view;
  }

  get messageId(): string {
    return this.#view.messageId;
  }

  get topic(): string {
    return this.#view.topic;
  }

  get attempt(): number {
    return this.#view.deliveryAttempt;
  }

  /** A FIFO group's local retry: the handler sees the next attempt number. */
  nextLocalAttempt(): void {
    this.#view = withAttempt(this.#view, this.#view.deliveryAttempt + 1);
  }

  /** What a log line calls it. */
  describe(): string {
    const group = this.#view.messageGroup === undefined ? '' : `, message group ${this.#view.messageGroup}`;
    return `message ${this.messageId} of ${this.topic} (attempt ${this.attempt}${group})`;
  }
}

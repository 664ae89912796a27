/**
 * Publishes payment outcomes to `payment-result` as FIFO messages with the order id as message
 * group, so that every consumer sees one order's outcomes in the order they were decided.
 */
import { Inject, Injectable, Logger } from '@nestjs/common';
import { RocketTemplate } from '@rocketnest/rocketmq';
import { type PaymentResultEvent } from '../../../shared/src/events.js';
import { PAYMENT_RESULT_TOPIC } from '../../../shared/src/topics.js';
import { PAYMENT_SERVICE_CONFIG, type PaymentServiceConfig } from '../config.js';

@Injectable()
export class PaymentResultPublisher {
  readonly #logger = new Logger('PaymentResultPublisher');
  /** Chaos copies sent (PAYMENT_DUPLICATE_RATE). */
  duplicatesSent = 0;

  constructor(
    @Inject(RocketTemplate) private readonly rocket: RocketTemplate,
    @Inject(PAYMENT_SERVICE_CONFIG) private readonly config: PaymentServiceConfig,
  ) {}

  async publish(result: PaymentResultEvent): Promise<void> {
    await this.rocket.sendOrderly(PAYMENT_RESULT_TOPIC, result, result.orderId, {
      keys: [result.orderId],
      tag: result.status,
    });
    if (this.config.duplicateRate > 0 && Math.random() < this.config.duplicateRate) {
      // A producer retry after a lost acknowledgement: the same outcome once more.
      this.duplicatesSent++;
      await this.rocket
        .sendOrderly(PAYMENT_RESULT_TOPIC, result, result.orderId, {
          keys: [result.orderId],
          tag: result.status,
        })
        .catch((err: unknown) =>
          this.#logger.warn(`duplicate of ${result.orderId} not sent: ${String(err)}`),
        );
    }
  }
}

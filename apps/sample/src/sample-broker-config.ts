/**
 * The built-in broker's declarative config for the sample (topics with their message types, the
 * FIFO group, the payment group's delivery attempts). The launcher starts its broker with it;
 * `apps/sample/broker-config.json` is the same document for a standalone broker
 * (`BROKER_CONFIG=apps/sample/broker-config.json npm run broker`), kept equal by a test.
 */
import {
  CONFIG_CHANGED_TOPIC,
  NOTIFICATION_ORDER_GROUP,
  NOTIFICATION_PAYMENT_GROUP,
  ORDER_CREATED_TOPIC,
  ORDER_PAYMENT_RESULT_GROUP,
  ORDER_TIMEOUT_GROUP,
  ORDER_TIMEOUT_TOPIC,
  PAYMENT_DLQ_GROUP,
  PAYMENT_GROUP,
  PAYMENT_RESULT_TOPIC,
} from '../../shared/src/topics.js';

/** Retries of the payment group before `%DLQ%payment` in the demo (RocketMQ's default is 16). */
export const DEMO_PAYMENT_MAX_RECONSUME_TIMES = 3;

export interface SampleBrokerConfig {
  readonly topics: ReadonlyArray<{ name: string; messageTypes: string[] }>;
  readonly groups: ReadonlyArray<{ name: string; fifo?: boolean; maxDeliveryAttempts?: number }>;
}

export function sampleBrokerConfig(
  paymentMaxReconsumeTimes = DEMO_PAYMENT_MAX_RECONSUME_TIMES,
): SampleBrokerConfig {
  return {
    topics: [
      { name: ORDER_CREATED_TOPIC, messageTypes: ['TRANSACTION'] },
      { name: PAYMENT_RESULT_TOPIC, messageTypes: ['FIFO'] },
      { name: ORDER_TIMEOUT_TOPIC, messageTypes: ['DELAY'] },
      { name: CONFIG_CHANGED_TOPIC, messageTypes: ['NORMAL'] },
    ],
    groups: [
      { name: PAYMENT_GROUP, maxDeliveryAttempts: paymentMaxReconsumeTimes + 1 },
      { name: PAYMENT_DLQ_GROUP },
      { name: ORDER_PAYMENT_RESULT_GROUP, fifo: true },
      { name: ORDER_TIMEOUT_GROUP },
      { name: NOTIFICATION_ORDER_GROUP },
      { name: NOTIFICATION_PAYMENT_GROUP },
    ],
  };
}

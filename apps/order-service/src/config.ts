/**
 * order-service's settings, from the environment. `ORDER_SERVICE_ENV` is every variable it reads
 * (the compose file's test checks against it).
 */
import { COMMON_ENV, readCommonConfig, type CommonConfig } from '../../shared/src/common-config.js';
import { envNumber, envInteger, envPort } from '../../shared/src/env.js';

export const SERVICE_NAME = 'order-service';

/** Every environment variable order-service reads. */
export const ORDER_SERVICE_ENV = [
  ...COMMON_ENV,
  'ORDER_PORT',
  'ORDER_TIMEOUT_MS',
  'ORDER_TX_ROLLBACK_AFTER_MS',
  'ORDER_DUPLICATE_RATE',
] as const;

export const DEFAULT_ORDER_PORT = 3000;
/** RocketMQ-style default: an order unpaid for 30 minutes is cancelled. */
export const DEFAULT_ORDER_TIMEOUT_MS = 30 * 60_000;
/** Longest delay the brokers accept for a delayed message (Apache's default timerMaxDelaySec: 1 day). */
export const MAX_ORDER_TIMEOUT_MS = 24 * 3_600_000;
/**
 * How long the check-back answers UNKNOWN for an order it cannot find: the local transaction may
 * still be running (a slow database). After it, an absent order never will be: ROLLBACK.
 */
export const DEFAULT_TX_ROLLBACK_AFTER_MS = 60_000;
export const MAX_TX_ROLLBACK_AFTER_MS = 3_600_000;

export interface OrderServiceConfig extends CommonConfig {
  readonly port: number;
  readonly orderTimeoutMs: number;
  readonly txRollbackAfterMs: number;
  /** Chaos: fraction of orders whose order-created message is published a second time. */
  readonly duplicateRate: number;
}

export function readOrderServiceConfig(env: NodeJS.ProcessEnv = process.env): OrderServiceConfig {
  const common = readCommonConfig(env, SERVICE_NAME);
  return {
    ...common,
    port: envPort(env, 'ORDER_PORT', DEFAULT_ORDER_PORT),
    orderTimeoutMs: envInteger(
      env,
      'ORDER_TIMEOUT_MS',
      DEFAULT_ORDER_TIMEOUT_MS,
      1_000,
      MAX_ORDER_TIMEOUT_MS,
    ),
    txRollbackAfterMs: envInteger(
      env,
      'ORDER_TX_ROLLBACK_AFTER_MS',
      DEFAULT_TX_ROLLBACK_AFTER_MS,
      1_000,
      MAX_TX_ROLLBACK_AFTER_MS,
    ),
    duplicateRate: envNumber(env, 'ORDER_DUPLICATE_RATE', 0, 0, 1),
  };
}

/** Injection token of the OrderServiceConfig. */
export const ORDER_SERVICE_CONFIG = Symbol('ORDER_SERVICE_CONFIG');

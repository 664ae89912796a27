/**
 * payment-service's settings, from the environment. `PAYMENT_SERVICE_ENV` is every variable it
 * reads (the compose file's test checks against it).
 */
import { COMMON_ENV, readCommonConfig, type CommonConfig } from '../../shared/src/common-config.js';
import { envInteger, envNumber, envPort } from '../../shared/src/env.js';

export const SERVICE_NAME = 'payment-service';

/** Every environment variable payment-service reads. */
export const PAYMENT_SERVICE_ENV = [
  ...COMMON_ENV,
  'PAYMENT_PORT',
  'PAYMENT_FAILURE_RATE',
  'PAYMENT_DECLINE_ABOVE',
  'PAYMENT_LATENCY_MS',
  'PAYMENT_MAX_RECONSUME_TIMES',
  'PAYMENT_RETRY_BACKOFF_MS',
  'PAYMENT_DUPLICATE_RATE',
] as const;

export const DEFAULT_PAYMENT_PORT = 3001;
/** Amounts above this are declined by the (simulated) card network. */
export const DEFAULT_DECLINE_ABOVE = 10_000;
/** RocketMQ's default: 16 retries before the DLQ. */
export const DEFAULT_MAX_RECONSUME_TIMES = 16;
export const MAX_RECONSUME_TIMES = 999;
export const DEFAULT_RETRY_BACKOFF_MS = 1_000;
/** Shortest first retry delay. */
export const MIN_RETRY_BACKOFF_MS = 10;
/** Retry delays double up to this. */
export const MAX_RETRY_BACKOFF_MS = 60_000;
export const MAX_LATENCY_MS = 60_000;

export interface PaymentServiceConfig extends CommonConfig {
  readonly port: number;
  /** Fraction of charge attempts that fail transiently (thrown, retried). */
  readonly failureRate: number;
  readonly declineAbove: number;
  /** Simulated gateway time per charge. */
  readonly latencyMs: number;
  readonly maxReconsumeTimes: number;
  readonly retryBackoffMs: number;
  /** Chaos: fraction of payment-result messages published twice. */
  readonly duplicateRate: number;
}

export function readPaymentServiceConfig(env: NodeJS.ProcessEnv = process.env): PaymentServiceConfig {
  const common = readCommonConfig(env, SERVICE_NAME);
  return {
    ...common,
    port: envPort(env, 'PAYMENT_PORT', DEFAULT_PAYMENT_PORT),
    failureRate: envNumber(env, 'PAYMENT_FAILURE_RATE', 0, 0, 1),
    declineAbove: envNumber(env, 'PAYMENT_DECLINE_ABOVE', DEFAULT_DECLINE_ABOVE, 0, Number.MAX_SAFE_INTEGER),
    latencyMs: envInteger(env, 'PAYMENT_LATENCY_MS', 0, 0, MAX_LATENCY_MS),
    maxReconsumeTimes: envInteger(
      env,
      'PAYMENT_MAX_RECONSUME_TIMES',
      DEFAULT_MAX_RECONSUME_TIMES,
      0,
      MAX_RECONSUME_TIMES,
    ),
    retryBackoffMs: envInteger(
      env,
      'PAYMENT_RETRY_BACKOFF_MS',
      DEFAULT_RETRY_BACKOFF_MS,
      MIN_RETRY_BACKOFF_MS,
      MAX_RETRY_BACKOFF_MS,
    ),
    duplicateRate: envNumber(env, 'PAYMENT_DUPLICATE_RATE', 0, 0, 1),
  };
}

/** Injection token of the PaymentServiceConfig. */
export const PAYMENT_SERVICE_CONFIG = Symbol('PAYMENT_SERVICE_CONFIG');

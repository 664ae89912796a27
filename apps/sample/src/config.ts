/**
 * `npm start`'s settings: where its data goes, the three HTTP ports, and the demo defaults it
 * gives the services (each overridable by the same variable). `SAMPLE_ENV` is every variable the
 * launcher and the services it runs read.
 */
import { NOTIFICATION_SERVICE_ENV } from '../../notification-service/src/config.js';
import { ORDER_SERVICE_ENV } from '../../order-service/src/config.js';
import { PAYMENT_SERVICE_ENV } from '../../payment-service/src/config.js';
import { envText } from '../../shared/src/env.js';
import { DEMO_PAYMENT_MAX_RECONSUME_TIMES } from './sample-broker-config.js';

export const SAMPLE_ENV = [
  ...new Set(['SAMPLE_DATA_DIR', ...ORDER_SERVICE_ENV, ...PAYMENT_SERVICE_ENV, ...NOTIFICATION_SERVICE_ENV]),
] as const;

export const DEFAULT_SAMPLE_DATA_DIR = './data/sample';

/** What the demo changes from the services' production defaults (seconds instead of 30 minutes, …). */
export const DEMO_DEFAULTS: Readonly<Record<string, string>> = {
  ORDER_TIMEOUT_MS: '60000',
  ORDER_TX_ROLLBACK_AFTER_MS: '15000',
  PAYMENT_MAX_RECONSUME_TIMES: String(DEMO_PAYMENT_MAX_RECONSUME_TIMES),
  PAYMENT_RETRY_BACKOFF_MS: '500',
  // A slower payment gateway than the order intake: a burst builds a backlog the queue absorbs.
  PAYMENT_LATENCY_MS: '20',
  // A little weather, so that the summary has retries and duplicates to show.
  PAYMENT_FAILURE_RATE: '0.05',
  ORDER_DUPLICATE_RATE: '0.02',
  PAYMENT_DUPLICATE_RATE: '0.02',
};

export function sampleDataDirOf(env: NodeJS.ProcessEnv): string {
  return envText(env, 'SAMPLE_DATA_DIR') ?? DEFAULT_SAMPLE_DATA_DIR;
}

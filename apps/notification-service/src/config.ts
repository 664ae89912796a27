/**
 * notification-service's settings, from the environment. `NOTIFICATION_SERVICE_ENV` is every
 * variable it reads (the compose file's test checks against it).
 */
import { COMMON_ENV, readCommonConfig, type CommonConfig } from '../../shared/src/common-config.js';
import { envPort } from '../../shared/src/env.js';

export const SERVICE_NAME = 'notification-service';

/** Every environment variable notification-service reads. */
export const NOTIFICATION_SERVICE_ENV = [...COMMON_ENV, 'NOTIFICATION_PORT'] as const;

export const DEFAULT_NOTIFICATION_PORT = 3002;

export interface NotificationServiceConfig extends CommonConfig {
  readonly port: number;
}

export function readNotificationServiceConfig(
  env: NodeJS.ProcessEnv = process.env,
): NotificationServiceConfig {
  const common = readCommonConfig(env, SERVICE_NAME);
  return {
    ...common,
    port: envPort(env, 'NOTIFICATION_PORT', DEFAULT_NOTIFICATION_PORT),
  };
}

export const NOTIFICATION_SERVICE_CONFIG = Symbol('NOTIFICATION_SERVICE_CONFIG');

/**
 * notification-service's settings, from the environment. `NOTIFICATION_SERVICE_ENV` is every
 * variable it reads (the compose file's test checks against it).
 */
import { type RocketMQModuleOptions } from '@rocketnest/rocketmq';
import { COMMON_ENV, readCommonConfig, type CommonConfig } from '../../shared/src/common-config.js';
import { envPort, envText } from '../../shared/src/env.js';

export const SERVICE_NAME = 'notification-service';

/** Every environment variable notification-service reads. */
export const NOTIFICATION_SERVICE_ENV = [...COMMON_ENV, 'NOTIFICATION_PORT'] as const;

export const DEFAULT_NOTIFICATION_PORT = 3002;

export interface NotificationServiceConfig extends CommonConfig {
  readonly port: number;
  readonly rocketmq: RocketMQModuleOptions;
}

export function readNotificationServiceConfig(
  env: NodeJS.ProcessEnv = process.env,
): NotificationServiceConfig {
  const common = readCommonConfig(env, SERVICE_NAME);
  const endpoints = envText(env, 'ROCKETMQ_ENDPOINTS');
  const namespace = envText(env, 'ROCKETMQ_NAMESPACE');
  return {
    ...common,
    port: envPort(env, 'NOTIFICATION_PORT', DEFAULT_NOTIFICATION_PORT),
    rocketmq: {
      ...(endpoints === undefined ? {} : { endpoints }),
      ...(namespace === undefined ? {} : { namespace }),
      ...(common.instanceName === undefined ? {} : { instanceName: common.instanceName }),
    },
  };
}

export const NOTIFICATION_SERVICE_CONFIG = Symbol('NOTIFICATION_SERVICE_CONFIG');

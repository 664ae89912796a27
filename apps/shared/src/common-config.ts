/**
 * What every sample service reads from the environment besides its own settings: the broker
 * connection (read by RocketMQModule's env fallbacks), the database, the instance name and the
 * optional broker admin API.
 */
import { type RocketMQModuleOptions } from '@rocketnest/rocketmq';
import { type BrokerAdminTarget } from './broker-admin-probe.js';
import { serviceDatabaseOf, type ServiceDatabase } from './database/database-options.js';
import { envText, SampleConfigError } from './env.js';

/** Variables read by every service (RocketMQModule reads the ROCKETMQ_* ones itself). */
export const COMMON_ENV = [
  'ROCKETMQ_ENDPOINTS',
  'ROCKETMQ_NAMESPACE',
  'ROCKETMQ_ACCESS_KEY',
  'ROCKETMQ_SECRET_KEY',
  'DATABASE_URL',
  'PGLITE_DATA_DIR',
  'INSTANCE_NAME',
  'BROKER_ADMIN_URL',
  'BROKER_ADMIN_TOKEN',
  'PORT',
] as const;

export interface CommonConfig {
  readonly database: ServiceDatabase;
  /** Stable name of this instance (broadcasting groups); undefined = the module's random one. */
  readonly instanceName: string | undefined;
  readonly brokerAdmin: BrokerAdminTarget | undefined;
  /** Options of RocketMQModule (absent ones fall back to ROCKETMQ_* of process.env). */
  readonly rocketmq: RocketMQModuleOptions;
}

const INSTANCE_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,40}$/;

export function readCommonConfig(env: NodeJS.ProcessEnv, service: string): CommonConfig {
  const instanceName = envText(env, 'INSTANCE_NAME');
  if (instanceName !== undefined && !INSTANCE_NAME_PATTERN.test(instanceName)) {
    throw new SampleConfigError(
      'INSTANCE_NAME',
      `must match [a-zA-Z0-9_-]{1,40}, got ${JSON.stringify(instanceName)}`,
    );
  }
  const adminUrl = envText(env, 'BROKER_ADMIN_URL');
  if (adminUrl !== undefined && !/^https?:\/\/[^/]+/.test(adminUrl)) {
    throw new SampleConfigError(
      'BROKER_ADMIN_URL',
      `must be an http(s) URL, got ${JSON.stringify(adminUrl)}`,
    );
  }
  const endpoints = envText(env, 'ROCKETMQ_ENDPOINTS');
  const namespace = envText(env, 'ROCKETMQ_NAMESPACE');
  return {
    database: serviceDatabaseOf(env, service),
    instanceName,
    brokerAdmin:
      adminUrl === undefined
        ? undefined
        : {
            url: adminUrl,
            token: envText(env, 'BROKER_ADMIN_TOKEN'),
            namespace,
          },
    rocketmq: {
      ...(endpoints === undefined ? {} : { endpoints }),
      ...(namespace === undefined ? {} : { namespace }),
      ...(instanceName === undefined ? {} : { instanceName }),
    },
  };
}

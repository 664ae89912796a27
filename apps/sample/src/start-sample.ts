/**
 * The whole sample in one process: one built-in broker (started here unless ROCKETMQ_ENDPOINTS
 * points elsewhere) shared by the three services, each its own Nest application, HTTP port and
 * database (PGlite under SAMPLE_DATA_DIR unless DATABASE_URL is set). Tests start it the same way,
 * with a database per service.
 */
import { type INestApplication, type LoggerService } from '@nestjs/common';
import { Broker, type BrokerOptions } from '@rocketnest/broker/broker.js';
import { type BrokerCoreLogger } from '@rocketnest/broker';
import { join, resolve } from 'node:path';
import { readNotificationServiceConfig } from '../../notification-service/src/config.js';
import { NotificationServiceModule } from '../../notification-service/src/notification-service.module.js';
import { readOrderServiceConfig } from '../../order-service/src/config.js';
import { OrderServiceModule } from '../../order-service/src/order-service.module.js';
import { readPaymentServiceConfig } from '../../payment-service/src/config.js';
import { PaymentServiceModule } from '../../payment-service/src/payment-service.module.js';
import { envInteger, envText } from '../../shared/src/env.js';
import { startServiceApp, urlOf } from '../../shared/src/service-app.js';
import { DEMO_DEFAULTS, sampleDataDirOf } from './config.js';
import { sampleBrokerConfig } from './sample-broker-config.js';

export type ServiceName = 'order' | 'payment' | 'notification';

export interface StartSampleOptions {
  /** The environment (default process.env); DEMO_DEFAULTS fill what it leaves unset. */
  readonly env?: NodeJS.ProcessEnv;
  /** Variables for one service only (a database per service in tests). */
  readonly serviceEnv?: Partial<Record<ServiceName, NodeJS.ProcessEnv>>;
  /** Further options of the embedded broker (transaction check timing in tests, …). */
  readonly broker?: Pick<BrokerOptions, 'core' | 'flushMode'>;
  /** Nest's logger for the three apps (false: silent). */
  readonly logger?: LoggerService | false;
  /** Broker log lines (default: the console). */
  readonly brokerLogger?: BrokerCoreLogger;
}

export interface RunningSample {
  /** The embedded broker; undefined when ROCKETMQ_ENDPOINTS pointed at another. */
  readonly broker: Broker | undefined;
  readonly endpoints: string;
  readonly apps: Readonly<Record<ServiceName, INestApplication>>;
  readonly urls: Readonly<Record<ServiceName, string>>;
  /** Closes the services (draining their listeners), then the broker. */
  close(): Promise<void>;
}

const START_ORDER: readonly ServiceName[] = ['order', 'payment', 'notification'];

export async function startSample(options: StartSampleOptions = {}): Promise<RunningSample> {
  const env: NodeJS.ProcessEnv = { ...DEMO_DEFAULTS, ...(options.env ?? process.env) };
  const dataDir = resolve(sampleDataDirOf(env));
  let broker: Broker | undefined;
  let endpoints = envText(env, 'ROCKETMQ_ENDPOINTS');
  let adminUrl = envText(env, 'BROKER_ADMIN_URL');
  if (endpoints === undefined) {
    broker = await Broker.start({
      ...options.broker,
      dataDir: join(dataDir, 'broker'),
      port: 0,
      config: sampleBrokerConfig(envInteger(env, 'PAYMENT_MAX_RECONSUME_TIMES', 16, 0, 999)),
      // Loopback only, without a token: for the services' GET /stats (backlog).
      admin: { host: '127.0.0.1', port: 0 },
      ...(options.brokerLogger === undefined ? {} : { logger: options.brokerLogger }),
    });
    endpoints = broker.address.endpoint;
    adminUrl = broker.address.admin?.url;
  }
  const shared: NodeJS.ProcessEnv = {
    ...env,
    ROCKETMQ_ENDPOINTS: endpoints,
    ...(adminUrl === undefined ? {} : { BROKER_ADMIN_URL: adminUrl }),
    PORT: undefined, // one PORT for three servers cannot work: each has its own variable
  };
  const envOf = (service: ServiceName, dir: string): NodeJS.ProcessEnv => ({
    ...shared,
    PGLITE_DATA_DIR: join(dataDir, dir),
    ...options.serviceEnv?.[service],
  });
  const started: Partial<Record<ServiceName, INestApplication>> = {};
  const close = async () => {
    for (const name of START_ORDER) {
      const app = started[name];
      delete started[name];
      await app?.close().catch((err: unknown) => console.error(`[sample] closing ${name}: ${String(err)}`));
    }
    await broker?.close();
  };
  const logger = options.logger === undefined ? {} : { logger: options.logger };
  try {
    const order = readOrderServiceConfig(envOf('order', 'order-service'));
    started.order = await startServiceApp(OrderServiceModule.forRoot(order), {
      port: order.port,
      shutdownHooks: false,
      ...logger,
    });
    const payment = readPaymentServiceConfig(envOf('payment', 'payment-service'));
    started.payment = await startServiceApp(PaymentServiceModule.forRoot(payment), {
      port: payment.port,
      shutdownHooks: false,
      ...logger,
    });
    const notification = readNotificationServiceConfig(envOf('notification', 'notification-service'));
    started.notification = await startServiceApp(NotificationServiceModule.forRoot(notification), {
      port: notification.port,
      shutdownHooks: false,
      ...logger,
    });
  } catch (err) {
    await close();
    throw err;
  }
  const apps = { ...started } as Record<ServiceName, INestApplication>;
  return {
    broker,
    endpoints,
    apps,
    urls: {
      order: await urlOf(apps.order),
      payment: await urlOf(apps.payment),
      notification: await urlOf(apps.notification),
    },
    close,
  };
}

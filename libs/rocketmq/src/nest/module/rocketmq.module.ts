/**
 * RocketMQModule: RocketMQ messaging for a Nest application, global once imported.
 *
 * ```ts
 * @Module({
 *   imports: [
 *     RocketMQModule.forRoot({}),                                   // embedded broker in ./data/rocketnest-broker
 *     // RocketMQModule.forRoot({ endpoints: 'rocketmq-proxy:8081', namespace: 'prod',
 *     //   credentials: { accessKey, secretKey }, consumer: { maxReconsumeTimes: 5 } }),
 *     // RocketMQModule.forRootAsync({ imports: [ConfigModule], inject: [ConfigService],
 *     //   useFactory: (config: ConfigService) => ({ endpoints: config.get('ROCKETMQ_ENDPOINTS') }) }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 *
 * Injectable: `RocketTemplate` (producer), `RocketMQConnection` (where it connected),
 * `RocketListenerRegistry` (pause/resume, stats), `RocketMQHealth` (`status$`),
 * `RocketMQHealthIndicator` (Terminus). See rocketmq-lifecycle.ts for start and shutdown.
 */
import { type DynamicModule, Global, Module, type Provider } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner } from '@nestjs/core';
import { Producer } from '../../client/index.js';
import { findDecoratedMethods } from '../discovery/decorated-methods.js';
import { ROCKET_TRANSACTION_CHECKER_METADATA } from '../decorators/metadata-keys.js';
import { type TransactionCheckerOptions } from '../decorators/transaction-checker.decorator.js';
import { RocketMQHealth } from '../health/rocketmq-health.js';
import { RocketMQHealthIndicator } from '../health/rocketmq-health.indicator.js';
import { RocketListenerRegistry } from '../listener/rocket-listener-registry.js';
import { nestClientLogger } from '../logging/nest-loggers.js';
import { RocketTemplate } from '../template/rocket-template.js';
import { TransactionCheckerRouter } from '../transaction/transaction-checker-router.js';
import { RocketMQConnection } from './rocketmq-connection.js';
import { RocketMQLifecycle } from './rocketmq-lifecycle.js';
import {
  resolveRocketMQOptions,
  type ResolvedRocketMQOptions,
  type RocketMQModuleAsyncOptions,
  type RocketMQModuleOptions,
} from './rocketmq-options.js';
import { RESOLVED_ROCKETMQ_OPTIONS, ROCKETMQ_MODULE_OPTIONS, ROCKETMQ_PRODUCER } from './rocketmq.tokens.js';

@Global()
@Module({})
export class RocketMQModule {
  /** The module with options known now (environment fallbacks apply to what is absent). */
  static forRoot(options: RocketMQModuleOptions = {}): DynamicModule {
    return rocketMQModule({ provide: ROCKETMQ_MODULE_OPTIONS, useValue: options }, []);
  }

  /** The module with options from a factory (ConfigService, secrets, …). */
  static forRootAsync(options: RocketMQModuleAsyncOptions): DynamicModule {
    if (typeof options?.useFactory !== 'function') {
      throw new TypeError('RocketMQModule.forRootAsync needs a useFactory');
    }
    return rocketMQModule(
      {
        provide: ROCKETMQ_MODULE_OPTIONS,
        useFactory: options.useFactory as (...args: unknown[]) => RocketMQModuleOptions,
        inject: options.inject ?? [],
      },
      options.imports ?? [],
    );
  }
}

const exported = [
  RocketMQConnection,
  RocketTemplate,
  RocketListenerRegistry,
  RocketMQHealth,
  RocketMQHealthIndicator,
  ROCKETMQ_PRODUCER,
  RESOLVED_ROCKETMQ_OPTIONS,
];

function rocketMQModule(
  optionsProvider: Provider,
  imports: NonNullable<DynamicModule['imports']>,
): DynamicModule {
  return {
    module: RocketMQModule,
    global: true,
    imports: [DiscoveryModule, ...imports],
    providers: [
      optionsProvider,
      {
        provide: RESOLVED_ROCKETMQ_OPTIONS,
        useFactory: (options: RocketMQModuleOptions) => resolveRocketMQOptions(options),
        inject: [ROCKETMQ_MODULE_OPTIONS],
      },
      RocketMQHealth,
      TransactionCheckerRouter,
      {
        provide: RocketMQConnection,
        useFactory: async (options: ResolvedRocketMQOptions, health: RocketMQHealth) => {
          try {
            return await RocketMQConnection.open(options);
          } catch (err) {
            health.set('error', err instanceof Error ? err : new Error(String(err)));
            throw err;
          }
        },
        inject: [RESOLVED_ROCKETMQ_OPTIONS, RocketMQHealth],
      },
      {
        provide: ROCKETMQ_PRODUCER,
        useFactory: startProducer,
        inject: [
          RESOLVED_ROCKETMQ_OPTIONS,
          RocketMQConnection,
          TransactionCheckerRouter,
          DiscoveryService,
          MetadataScanner,
          RocketMQHealth,
        ],
      },
      {
        provide: RocketTemplate,
        useFactory: (producer: Producer, options: ResolvedRocketMQOptions, connection: RocketMQConnection) =>
          new RocketTemplate(producer, options.codec, connection, options.replyTopic),
        inject: [ROCKETMQ_PRODUCER, RESOLVED_ROCKETMQ_OPTIONS, RocketMQConnection],
      },
      RocketListenerRegistry,
      RocketMQHealthIndicator,
      RocketMQLifecycle,
    ],
    exports: exported,
  };
}

/**
 * The module's producer. It declares the topics of the `@TransactionChecker`s (read from the
 * classes' metadata: instances do not exist yet), so that the broker finds it for their
 * check-backs even for transactions of an earlier run.
 */
async function startProducer(
  options: ResolvedRocketMQOptions,
  connection: RocketMQConnection,
  checkers: TransactionCheckerRouter,
  discovery: DiscoveryService,
  scanner: MetadataScanner,
  health: RocketMQHealth,
): Promise<Producer> {
  checkers.useCodec(options.codec);
  const checkerTopics = findDecoratedMethods<TransactionCheckerOptions>(
    discovery,
    scanner,
    ROCKET_TRANSACTION_CHECKER_METADATA,
    false,
  ).flatMap((m) => m.metadata.map((o) => o.topic).filter((t): t is string => t !== undefined));
  const topics = [...new Set([...(options.producer.topics ?? []), ...checkerTopics])];
  try {
    return await Producer.start({
      ...connection.clientOptions,
      logger: nestClientLogger('RocketTemplate'),
      ...(options.producer.maxAttempts === undefined ? {} : { maxAttempts: options.producer.maxAttempts }),
      ...(options.producer.retryBackoff === undefined ? {} : { retryBackoff: options.producer.retryBackoff }),
      ...(options.producer.batching === undefined ? {} : { batching: options.producer.batching }),
      topics,
      checker: checkers.check,
    });
  } catch (err) {
    health.set('error', err instanceof Error ? err : new Error(String(err)));
    // The connection (and the embedded broker) would otherwise outlive a failed start.
    await connection.close();
    throw err;
  }
}

/**
 * The module's lifecycle, in the order Nest runs the hooks of `app.close()` (and of a signal with
 * `app.enableShutdownHooks()`):
 *
 * 1. bootstrap: `@TransactionChecker`s are registered, then every `@RocketListener` starts
 *    (status `connected`); a listener that cannot start fails the bootstrap (status `error`).
 * 2. `beforeApplicationShutdown`: status `draining`; every listener stops receiving and waits for
 *    its running handlers, whose messages are acknowledged or retried (none is lost, none acked
 *    twice); messages received but not started go back to the broker at once.
 * 3. Nest closes its microservices (a RocketMQServer drains the same way), while the producer is
 *    still open: handlers may still send.
 * 4. `onApplicationShutdown`: the template (reply consumer, producer: sends under way finish), the
 *    shared client, then the embedded broker (flush, checkpoint); status `closed`.
 */
import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import { findDecoratedMethods } from '../discovery/decorated-methods.js';
import { ROCKET_TRANSACTION_CHECKER_METADATA } from '../decorators/metadata-keys.js';
import { type TransactionCheckerOptions } from '../decorators/transaction-checker.decorator.js';
import { RocketMQHealth } from '../health/rocketmq-health.js';
import { RocketListenerRegistry } from '../listener/rocket-listener-registry.js';
import { RocketTemplate } from '../template/rocket-template.js';
import { type CheckerMethod, TransactionCheckerRouter } from '../transaction/transaction-checker-router.js';
import { RocketMQConnection } from './rocketmq-connection.js';
import { type ResolvedRocketMQOptions } from './rocketmq-options.js';
import { RESOLVED_ROCKETMQ_OPTIONS } from './rocketmq.tokens.js';

@Injectable()
export class RocketMQLifecycle
  implements OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  readonly #logger = new Logger('RocketMQModule');

  constructor(
    @Inject(DiscoveryService) private readonly discovery: DiscoveryService,
    @Inject(MetadataScanner) private readonly scanner: MetadataScanner,
    @Inject(RocketListenerRegistry) private readonly listeners: RocketListenerRegistry,
    @Inject(TransactionCheckerRouter) private readonly checkers: TransactionCheckerRouter,
    @Inject(RocketTemplate) private readonly template: RocketTemplate,
    @Inject(RocketMQConnection) private readonly connection: RocketMQConnection,
    @Inject(RocketMQHealth) private readonly health: RocketMQHealth,
    @Inject(RESOLVED_ROCKETMQ_OPTIONS) private readonly options: ResolvedRocketMQOptions,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    try {
      this.#registerCheckers();
      this.listeners.discover();
      if (this.options.autoStartListeners) await this.listeners.startAll();
    } catch (err) {
      this.health.set('error', err instanceof Error ? err : new Error(String(err)));
      throw err;
    }
    this.health.set('connected');
  }

  async beforeApplicationShutdown(): Promise<void> {
    this.health.set('draining');
    await this.listeners.stopAll();
  }

  async onApplicationShutdown(): Promise<void> {
    try {
      await this.template.close();
    } catch (err) {
      this.#logger.warn(`closing the producer failed: ${String(err)}`);
    }
    await this.connection.close();
    this.health.set('closed');
  }

  #registerCheckers(): void {
    const methods = findDecoratedMethods<TransactionCheckerOptions>(
      this.discovery,
      this.scanner,
      ROCKET_TRANSACTION_CHECKER_METADATA,
    );
    for (const method of methods) {
      const instance = method.instance;
      if (instance === undefined) continue;
      const fn = instance[method.methodName] as CheckerMethod;
      const name = `${method.classRef.name}.${method.methodName}`;
      for (const options of method.metadata) {
        this.checkers.register(options.topic, name, (payload, message) =>
          fn.call(instance, payload, message),
        );
      }
    }
  }
}

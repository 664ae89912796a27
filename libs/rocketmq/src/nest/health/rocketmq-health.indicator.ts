/**
 * A Terminus health indicator: `up` while the module is connected and its listeners run, `down`
 * while connecting, draining (so a readiness probe turns away traffic as soon as shutdown starts),
 * closed or failed, and when a listener failed to start.
 *
 * ```ts
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.rocketmq.isHealthy('rocketmq')]); }
 * ```
 */
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { RocketListenerRegistry } from '../listener/rocket-listener-registry.js';
import { RocketMQConnection } from '../module/rocketmq-connection.js';
import { RocketMQHealth } from './rocketmq-health.js';

@Injectable()
export class RocketMQHealthIndicator {
  // Stateless helper of Terminus: created here so that the module does not require TerminusModule.
  readonly #indicators = new HealthIndicatorService();

  constructor(
    @Inject(RocketMQHealth) private readonly health: RocketMQHealth,
    @Inject(RocketMQConnection) private readonly connection: RocketMQConnection,
    @Inject(RocketListenerRegistry) private readonly listeners: RocketListenerRegistry,
  ) {}

  /** The module's state under `key` (default `rocketmq`), with the endpoints and each listener's state. */
  isHealthy<const Key extends string = 'rocketmq'>(key: Key = 'rocketmq' as Key): HealthIndicatorResult<Key> {
    const indicator = this.#indicators.check(key);
    const listeners = this.listeners.list();
    const failed = listeners.filter((l) => l.state === 'failed').map((l) => l.id);
    const data = {
      state: this.health.status,
      endpoints: this.connection.endpoints,
      embedded: this.connection.embedded,
      listeners: Object.fromEntries(listeners.map((l) => [l.id, l.state])),
    };
    if (this.health.status === 'connected' && failed.length === 0) return indicator.up(data);
    return indicator.down({
      ...data,
      ...(failed.length > 0 ? { failed } : {}),
      ...(this.health.error ? { error: this.health.error.message } : {}),
    });
  }
}

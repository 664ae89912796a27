/**
 * `GET /health` of every sample service (Terminus): the database answers `SELECT 1`, and the
 * RocketMQ module is connected with all its listeners running. 503 otherwise, so a readiness probe
 * turns traffic away while the service drains at shutdown.
 */
import { Controller, Get, Inject } from '@nestjs/common';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { RocketMQHealthIndicator } from '@rocketnest/rocketmq';

@Controller('health')
export class HealthController {
  constructor(
    @Inject(HealthCheckService) private readonly health: HealthCheckService,
    @Inject(TypeOrmHealthIndicator) private readonly db: TypeOrmHealthIndicator,
    @Inject(RocketMQHealthIndicator) private readonly rocketmq: RocketMQHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.db.pingCheck('database'),
      () => this.rocketmq.isHealthy('rocketmq'),
    ]);
  }
}

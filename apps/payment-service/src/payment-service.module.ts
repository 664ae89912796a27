/** payment-service: `PaymentServiceModule.forRoot(readPaymentServiceConfig())`. */
import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CreateIdempotencyTable1767225600000, IdempotencyModule } from '@rocketnest/idempotency';
import { RocketMQModule } from '@rocketnest/rocketmq';
import { BrokerAdminProbe } from '../../shared/src/broker-admin-probe.js';
import { typeOrmOptionsOf } from '../../shared/src/database/database-options.js';
import { HealthController } from '../../shared/src/health.controller.js';
import { PAYMENT_RESULT_TOPIC } from '../../shared/src/topics.js';
import {
  MAX_RETRY_BACKOFF_MS,
  PAYMENT_SERVICE_CONFIG,
  SERVICE_NAME,
  type PaymentServiceConfig,
} from './config.js';
import { DeadLetterEntity } from './entities/dead-letter.entity.js';
import { PaymentEntity } from './entities/payment.entity.js';
import { CreatePaymentTables1767300000001 } from './migrations/1767300000001-create-payment-tables.js';
import { DeadLetterListener } from './payments/dead-letter.listener.js';
import { OrderCreatedListener } from './payments/order-created.listener.js';
import { PaymentGateway } from './payments/payment-gateway.js';
import { PaymentResultPublisher } from './payments/payment-result.publisher.js';
import { PaymentsController } from './payments/payments.controller.js';
import { PaymentStatsController } from './stats/payment-stats.controller.js';

export const PAYMENT_ENTITIES = [PaymentEntity, DeadLetterEntity];
export const PAYMENT_MIGRATIONS = [CreateIdempotencyTable1767225600000, CreatePaymentTables1767300000001];

@Module({})
export class PaymentServiceModule {
  static forRoot(config: PaymentServiceConfig): DynamicModule {
    return {
      module: PaymentServiceModule,
      imports: [
        TypeOrmModule.forRoot(
          typeOrmOptionsOf(config.database, SERVICE_NAME, PAYMENT_ENTITIES, PAYMENT_MIGRATIONS),
        ),
        RocketMQModule.forRoot({
          ...config.rocketmq,
          producer: { topics: [PAYMENT_RESULT_TOPIC] },
          consumer: {
            maxReconsumeTimes: config.maxReconsumeTimes,
            backoff: { initialMs: config.retryBackoffMs, maxMs: MAX_RETRY_BACKOFF_MS, multiplier: 2 },
          },
        }),
        IdempotencyModule.forRoot({ ensureSchema: false }),
        TerminusModule,
      ],
      controllers: [PaymentsController, PaymentStatsController, HealthController],
      providers: [
        { provide: PAYMENT_SERVICE_CONFIG, useValue: config },
        { provide: BrokerAdminProbe, useValue: new BrokerAdminProbe(config.brokerAdmin) },
        PaymentGateway,
        PaymentResultPublisher,
        OrderCreatedListener,
        DeadLetterListener,
      ],
    };
  }
}

/** order-service: `OrderServiceModule.forRoot(readOrderServiceConfig())`. */
import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CreateIdempotencyTable1767225600000, IdempotencyModule } from '@rocketnest/idempotency';
import { RocketMQModule } from '@rocketnest/rocketmq';
import { BrokerAdminProbe } from '../../shared/src/broker-admin-probe.js';
import { typeOrmOptionsOf } from '../../shared/src/database/database-options.js';
import { HealthController } from '../../shared/src/health.controller.js';
import { ORDER_CREATED_TOPIC, ORDER_TIMEOUT_TOPIC } from '../../shared/src/topics.js';
import { ORDER_SERVICE_CONFIG, SERVICE_NAME, type OrderServiceConfig } from './config.js';
import { OrderEntity } from './entities/order.entity.js';
import { OrderStatusHistoryEntity } from './entities/order-status-history.entity.js';
import { OrderTransactionLogEntity } from './entities/order-transaction-log.entity.js';
import { CreateOrderTables1767300000000 } from './migrations/1767300000000-create-order-tables.js';
import { NewOrderWriter } from './orders/new-order-writer.js';
import { OrderTimeoutListener } from './orders/order-timeout.listener.js';
import { OrderTransactionChecker } from './orders/order-transaction.checker.js';
import { OrderTransitions } from './orders/order-transitions.js';
import { OrdersController } from './orders/orders.controller.js';
import { OrdersService } from './orders/orders.service.js';
import { PaymentResultListener } from './orders/payment-result.listener.js';
import { OrderStatsController } from './stats/order-stats.controller.js';

export const ORDER_ENTITIES = [OrderEntity, OrderStatusHistoryEntity, OrderTransactionLogEntity];
export const ORDER_MIGRATIONS = [CreateIdempotencyTable1767225600000, CreateOrderTables1767300000000];

@Module({})
export class OrderServiceModule {
  static forRoot(config: OrderServiceConfig): DynamicModule {
    return {
      module: OrderServiceModule,
      imports: [
        TypeOrmModule.forRoot(
          typeOrmOptionsOf(config.database, SERVICE_NAME, ORDER_ENTITIES, ORDER_MIGRATIONS),
        ),
        RocketMQModule.forRoot({
          ...config.rocketmq,
          producer: { topics: [ORDER_CREATED_TOPIC, ORDER_TIMEOUT_TOPIC] },
        }),
        IdempotencyModule.forRoot({ ensureSchema: false }),
        TerminusModule,
      ],
      controllers: [OrdersController, OrderStatsController, HealthController],
      providers: [
        { provide: ORDER_SERVICE_CONFIG, useValue: config },
        { provide: BrokerAdminProbe, useValue: new BrokerAdminProbe(config.brokerAdmin) },
        NewOrderWriter,
        OrdersService,
        OrderTransitions,
        OrderTransactionChecker,
        PaymentResultListener,
        OrderTimeoutListener,
      ],
    };
  }
}

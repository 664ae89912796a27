/** notification-service: `NotificationServiceModule.forRoot(readNotificationServiceConfig())`. */
import { type DynamicModule, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { TypeOrmModule } from '@nestjs/typeorm';
import { CreateIdempotencyTable1767225600000, IdempotencyModule } from '@rocketnest/idempotency';
import { RocketMQModule } from '@rocketnest/rocketmq';
import { typeOrmOptionsOf } from '../../shared/src/database/database-options.js';
import { HealthController } from '../../shared/src/health.controller.js';
import { CONFIG_CHANGED_TOPIC } from '../../shared/src/topics.js';
import { NOTIFICATION_SERVICE_CONFIG, SERVICE_NAME, type NotificationServiceConfig } from './config.js';
import { NotificationEntity } from './entities/notification.entity.js';
import { CreateNotificationTables1767300000002 } from './migrations/1767300000002-create-notification-tables.js';
import { ConfigBroadcastListener } from './notifications/config-broadcast.listener.js';
import { NotificationListeners } from './notifications/notification-listeners.js';
import { NotificationSettings } from './notifications/notification-settings.js';
import { NotificationsController } from './notifications/notifications.controller.js';

export const NOTIFICATION_ENTITIES = [NotificationEntity];
export const NOTIFICATION_MIGRATIONS = [
  CreateIdempotencyTable1767225600000,
  CreateNotificationTables1767300000002,
];

@Module({})
export class NotificationServiceModule {
  static forRoot(config: NotificationServiceConfig): DynamicModule {
    return {
      module: NotificationServiceModule,
      imports: [
        TypeOrmModule.forRoot(
          typeOrmOptionsOf(config.database, SERVICE_NAME, NOTIFICATION_ENTITIES, NOTIFICATION_MIGRATIONS),
        ),
        RocketMQModule.forRoot({ ...config.rocketmq, producer: { topics: [CONFIG_CHANGED_TOPIC] } }),
        IdempotencyModule.forRoot({ ensureSchema: false }),
        TerminusModule,
      ],
      controllers: [NotificationsController, HealthController],
      providers: [
        { provide: NOTIFICATION_SERVICE_CONFIG, useValue: config },
        NotificationSettings,
        NotificationListeners,
        ConfigBroadcastListener,
      ],
    };
  }
}

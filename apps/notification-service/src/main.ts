/**
 * notification-service as a process: `node dist/apps/notification-service/src/main.js`
 * (variables in apps/README.md; the list is NOTIFICATION_SERVICE_ENV in config.ts).
 */
import 'reflect-metadata';
import { runMain, startServiceApp } from '../../shared/src/service-app.js';
import { readNotificationServiceConfig, SERVICE_NAME } from './config.js';
import { NotificationServiceModule } from './notification-service.module.js';

runMain(SERVICE_NAME, () => {
  const config = readNotificationServiceConfig(process.env);
  return startServiceApp(NotificationServiceModule.forRoot(config), { port: config.port });
});

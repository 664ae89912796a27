/**
 * order-service as a process: `node dist/apps/order-service/src/main.js` (variables in
 * apps/README.md; the list is ORDER_SERVICE_ENV in config.ts).
 */
import 'reflect-metadata';
import { runMain, startServiceApp } from '../../shared/src/service-app.js';
import { readOrderServiceConfig, SERVICE_NAME } from './config.js';
import { OrderServiceModule } from './order-service.module.js';

runMain(SERVICE_NAME, () => {
  const config = readOrderServiceConfig(process.env);
  return startServiceApp(OrderServiceModule.forRoot(config), { port: config.port });
});

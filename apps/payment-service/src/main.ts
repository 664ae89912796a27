/**
 * payment-service as a process: `node dist/apps/payment-service/src/main.js` (variables in
 * apps/README.md; the list is PAYMENT_SERVICE_ENV in config.ts).
 */
import 'reflect-metadata';
import { runMain, startServiceApp } from '../../shared/src/service-app.js';
import { readPaymentServiceConfig, SERVICE_NAME } from './config.js';
import { PaymentServiceModule } from './payment-service.module.js';

runMain(SERVICE_NAME, () => {
  const config = readPaymentServiceConfig(process.env);
  return startServiceApp(PaymentServiceModule.forRoot(config), { port: config.port });
});

/**
 * `@rocketnest/broker/nest.js`: the Nest face of the built-in broker. Kept out of the package barrel
 * so that a plain Node user of the broker never loads `@nestjs/common`.
 */
export {
  BROKER_ADDRESS,
  BrokerModule,
  type BrokerModuleAsyncOptions,
  type BrokerModuleExtras,
} from './broker.module.js';

export * from './status-code.js';
export * from './store/index.js';
export * from './core/index.js';
export {
  Broker,
  type BrokerAddress,
  type BrokerAdminOptions,
  type BrokerAuthOptions,
  type BrokerOptions,
} from './broker.js';
export {
  BrokerConfigFileError,
  loadBrokerConfigFile,
  parseBrokerConfig,
  type BrokerConfigDocument,
  type BrokerConfigInput,
} from './admin/broker-config-file.js';
export { applyBrokerConfig, type ApplyReport } from './admin/apply-broker-config.js';
export { AdminHttpServer, DEFAULT_ADMIN_PORT } from './admin/admin-http-server.js';
export {
  DEFAULT_GRPC_PORT,
  GrpcMessagingServer,
  type GrpcMessagingServerOptions,
} from './grpc/messaging-server.js';
export { type AuthOptions, type AuthUser } from './grpc/auth.js';

/**
 * The RocketMQ 5 gRPC service definition, loaded at runtime from the installed official client
 * (`rocketmq-client-nodejs/proto/apache/rocketmq/v2/service.proto`). Nothing is copied into this
 * repository: the official client is our compatibility oracle, so its protos are the contract.
 *
 * Loader options, and why:
 * - `keepCase: true`: fields keep their snake_case names (`message_id`), as in the .proto and in
 *   `proto-types.ts`.
 * - `longs: Number`: every int64 of this protocol (queue offsets, timestamp and duration seconds)
 *   stays far below 2^53, so plain numbers are exact and the handlers need no string parsing. A
 *   hostile value above 2^53 only loses precision; it is then rejected by range checks as usual.
 * - enums as numbers (the loader's default): the handlers compare against the numeric constants of
 *   `proto-types.ts`; an unknown enum value from a newer client stays a number instead of failing.
 * - `defaults: true`: absent scalars read as 0 / "" / false and absent messages as null, like the
 *   Java getters, so handlers never meet `undefined` for a plain field. proto3 `optional` fields are
 *   synthetic oneofs and stay absent when unset, which keeps their presence visible
 *   (`delivery_timestamp`, `invisible_duration`, `long_polling_timeout`, …).
 * - `oneofs: true`: a oneof's virtual field names the member that is set (`command`, `content`).
 * - bytes as Buffer (the loader's default).
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { type ServiceDefinition } from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

/** Fully qualified name of the service, as the client calls it. */
export const MESSAGING_SERVICE_NAME = 'apache.rocketmq.v2.MessagingService';

export const PROTO_LOADER_OPTIONS: protoLoader.Options = Object.freeze({
  keepCase: true,
  longs: Number,
  defaults: true,
  oneofs: true,
});

/** `<package root>/proto`, the include directory the .proto files import each other from. */
export function officialProtoRoot(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('rocketmq-client-nodejs/package.json')), 'proto');
}

let cachedPackage: protoLoader.PackageDefinition | undefined;

/** The whole package definition (every message type), loaded once per process. */
export function messagingPackageDefinition(): protoLoader.PackageDefinition {
  if (!cachedPackage) {
    const root = officialProtoRoot();
    cachedPackage = protoLoader.loadSync('apache/rocketmq/v2/service.proto', {
      ...PROTO_LOADER_OPTIONS,
      includeDirs: [root],
    });
  }
  return cachedPackage;
}

/**
 * `apache.rocketmq.v2.MessagingService` as grpc-js wants it for `server.addService` (and for
 * `makeGenericClientConstructor` in tests).
 * @throws Error when the official client package or its protos are missing
 */
export function messagingServiceDefinition(): ServiceDefinition {
  const definition = messagingPackageDefinition()[MESSAGING_SERVICE_NAME];
  if (!definition || !isServiceDefinition(definition)) {
    throw new Error(`${MESSAGING_SERVICE_NAME} is not in the protos of rocketmq-client-nodejs`);
  }
  return definition as unknown as ServiceDefinition;
}

function isServiceDefinition(value: object): boolean {
  // A message type definition carries `format`; a service is a map of method definitions.
  return !('format' in value) && Object.values(value).every((m) => typeof m === 'object' && 'path' in m);
}

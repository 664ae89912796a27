/**
 * Options of `new RocketMQServer(options)`: the connection (as the client's), the consumer group
 * and its tuning, per-topic filters and the payload codec.
 */
import {
  type ClientOptions,
  type ConsumerOptions,
  type FilterExpression,
  type ProducerOptions,
} from '../../client/index.js';
import {
  JsonPayloadCodec,
  type PayloadCodec,
  type PayloadDeserializer,
  type PayloadSerializer,
} from '../serialization/payload-codec.js';

/** Consumer settings a server passes through (see `ConsumerOptions` for each). */
export type ServerConsumerTuning = Pick<
  ConsumerOptions,
  | 'maxInFlight'
  | 'maxConcurrency'
  | 'invisibleDurationMs'
  | 'retryBackoff'
  | 'maxAttempts'
  | 'receiveBatchSize'
  | 'receiveConcurrency'
  | 'shutdownTimeoutMs'
  | 'assignmentRefreshMs'
>;

/** Producer settings of the replies (see `ProducerOptions`). */
export type ServerProducerTuning = Pick<ProducerOptions, 'maxAttempts' | 'retryBackoff' | 'batching'>;

export interface RocketMQServerOptions extends Omit<ClientOptions, 'logger'>, ServerConsumerTuning {
  /**
   * `host:port` of a RocketMQ 5 gRPC endpoint (Apache's proxy, `npm run broker`). With the module's
   * embedded broker: `app.get(RocketMQConnection).endpoints`.
   */
  readonly endpoints: string;
  /** The consumer group every handler of this server consumes in (`^[%|a-zA-Z0-9_-]+$`). */
  readonly group: string;
  /**
   * Per topic, the filter to subscribe with instead of the one derived from the patterns (for
   * example an SQL92 expression over user properties). Messages it lets through that no pattern
   * matches are not acknowledged (retried, then dead-lettered).
   */
  readonly filters?: Readonly<Record<string, FilterExpression>>;
  /** Payload encoding both ways. Default JSON, with Buffer and string passthrough. */
  readonly codec?: PayloadCodec;
  /** Decodes incoming payloads instead of the codec. */
  readonly deserializer?: PayloadDeserializer;
  /** Encodes reply values instead of the codec. */
  readonly serializer?: PayloadSerializer;
  /** The producer of replies (started only when a `@MessagePattern` handler exists). */
  readonly producer?: ServerProducerTuning;
}

/** The codec made of the options' codec, serializer and deserializer. */
export function codecOf(options: {
  readonly codec?: PayloadCodec;
  readonly serializer?: PayloadSerializer;
  readonly deserializer?: PayloadDeserializer;
}): PayloadCodec {
  const base = options.codec ?? new JsonPayloadCodec();
  const serializer = options.serializer ?? base;
  const deserializer = options.deserializer ?? base;
  return {
    serialize: (payload) => serializer.serialize(payload),
    deserialize: (message) => deserializer.deserialize(message),
  };
}

/** The connection part of the options, for the client. */
export function connectionOf(options: Omit<ClientOptions, 'logger'>): Omit<ClientOptions, 'logger'> {
  const { endpoints, namespace, credentials, tls, requestTimeoutMs, startupTimeoutMs, interceptors } =
    options;
  return {
    endpoints,
    ...(namespace === undefined ? {} : { namespace }),
    ...(credentials === undefined ? {} : { credentials }),
    ...(tls === undefined ? {} : { tls }),
    ...(requestTimeoutMs === undefined ? {} : { requestTimeoutMs }),
    ...(startupTimeoutMs === undefined ? {} : { startupTimeoutMs }),
    ...(interceptors === undefined ? {} : { interceptors }),
  };
}

/** The consumer tuning part of the options. */
export function tuningOf(options: ServerConsumerTuning): ServerConsumerTuning {
  const keys = [
    'maxInFlight',
    'maxConcurrency',
    'invisibleDurationMs',
    'retryBackoff',
    'maxAttempts',
    'receiveBatchSize',
    'receiveConcurrency',
    'shutdownTimeoutMs',
    'assignmentRefreshMs',
  ] as const satisfies ReadonlyArray<keyof ServerConsumerTuning>;
  const tuning: Record<string, unknown> = {};
  for (const key of keys) if (options[key] !== undefined) tuning[key] = options[key];
  return tuning as ServerConsumerTuning;
}

/**
 * Test harness of the gRPC layer: a real BrokerCore in a temp dir, a real GrpcMessagingServer on an
 * ephemeral port, and a raw grpc-js client built from the same official protos, so that tests send
 * exactly what goes over the wire (including requests no well-behaved client would build).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  credentials,
  makeGenericClientConstructor,
  Metadata,
  type Client,
  type ServiceError,
} from '@grpc/grpc-js';
import { type BrokerCoreOptions, type ReceiveOptions } from '../../core/broker-core-types.js';
import { BrokerCore } from '../../core/broker-core.js';
import { type ReceivedMessage } from '../../core/consume/types.js';
import { formatDateTime, signDateTime, type AuthOptions } from '../auth.js';
import { GrpcMessagingServer, type GrpcMessagingServerOptions } from '../messaging-server.js';
import { messagingServiceDefinition } from '../proto.js';
import { timestampOf } from '../proto-time.js';
import { Encoding, ProtoMessageType, type Message, type SystemProperties } from '../proto-types.js';

export const TEST_CLIENT_ID = 'test-host@4242@1@abc123';

/** Records what the broker logs, so that tests can assert on (or silence) it. */
export class MemoryLogger {
  readonly lines: { level: 'log' | 'warn' | 'error'; message: string }[] = [];
  log(message: string): void {
    this.lines.push({ level: 'log', message });
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }
  errors(): string[] {
    return this.lines.filter((l) => l.level === 'error').map((l) => l.message);
  }
}

export interface HeaderOptions {
  clientId?: string | null;
  namespace?: string;
  /** Signs the call with these credentials. */
  credentials?: { accessKey: string; secretKey: string };
  /** The signed date-time; default now. */
  dateTime?: string;
  /** Raw authorization header, overriding `credentials`. */
  authorization?: string;
}

/** Metadata as the official client sends it (PROTOCOL.md §0). */
export function clientMetadata(options: HeaderOptions = {}): Metadata {
  const metadata = new Metadata();
  metadata.set('x-mq-protocol', 'v2');
  if (options.clientId !== null) metadata.set('x-mq-client-id', options.clientId ?? TEST_CLIENT_ID);
  const dateTime = options.dateTime ?? formatDateTime(Date.now());
  metadata.set('x-mq-date-time', dateTime);
  metadata.set('x-mq-request-id', '3f1c0a8e-4a3b-4c55-9d8e-2b8f9e0d1a7c');
  metadata.set('x-mq-language', 'HTTP');
  metadata.set('x-mq-client-version', '1.0.8');
  if (options.namespace) metadata.set('x-mq-namespace', options.namespace);
  if (options.authorization !== undefined) {
    metadata.set('authorization', options.authorization);
  } else if (options.credentials) {
    const signature = signDateTime(options.credentials.secretKey, dateTime);
    metadata.set(
      'authorization',
      `MQv2-HMAC-SHA1 Credential=${options.credentials.accessKey}, SignedHeaders=x-mq-date-time, Signature=${signature}`,
    );
  }
  return metadata;
}

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: { deadline: number },
  callback: (err: ServiceError | null, response: unknown) => void,
) => void;

export const MessagingClient = makeGenericClientConstructor(messagingServiceDefinition(), 'MessagingService');

export interface GrpcHarness {
  readonly dir: string;
  readonly core: BrokerCore;
  readonly server: GrpcMessagingServer;
  readonly port: number;
  readonly client: Client;
  readonly logger: MemoryLogger;
  /** A unary call; resolves with the decoded response, rejects with the gRPC error. */
  call<Res = Record<string, unknown>>(rpc: string, request: object, headers?: HeaderOptions): Promise<Res>;
  close(): Promise<void>;
}

export interface HarnessOptions {
  core?: Partial<Omit<BrokerCoreOptions, 'dataDir'>>;
  server?: Partial<Omit<GrpcMessagingServerOptions, 'core'>>;
  auth?: AuthOptions;
}

export async function startHarness(options: HarnessOptions = {}): Promise<GrpcHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'rocketnest-grpc-'));
  const logger = new MemoryLogger();
  const core = await BrokerCore.open({ logger, ...options.core, dataDir: join(dir, 'broker') });
  const server = new GrpcMessagingServer({
    core,
    host: '127.0.0.1',
    port: 0,
    logger,
    ...(options.auth ? { auth: options.auth } : {}),
    ...options.server,
  });
  let port: number;
  try {
    ({ port } = await server.listen());
  } catch (err) {
    await core.close();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const client = new MessagingClient(`127.0.0.1:${port}`, credentials.createInsecure(), {
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  const call = <Res>(rpc: string, request: object, headers: HeaderOptions = {}): Promise<Res> =>
    new Promise<Res>((resolve, reject) => {
      const method = (client as unknown as Record<string, UnaryMethod>)[rpc];
      if (!method) throw new Error(`no RPC ${rpc}`);
      method.call(client, request, clientMetadata(headers), { deadline: Date.now() + 10_000 }, (err, res) =>
        err ? reject(err) : resolve(res as Res),
      );
    });
  return {
    dir,
    core,
    server,
    port,
    client,
    logger,
    call,
    async close() {
      client.close();
      await server.close(1_000);
      await core.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let messageSeq = 0;

/** A message id shaped like the official client's: 34 upper-case hex characters, unique. */
export function newMessageId(): string {
  messageSeq++;
  return `01${randomBytes(12).toString('hex')}${messageSeq.toString(16).padStart(8, '0')}`.toUpperCase();
}

export interface ProtoMessageOptions {
  topic?: string;
  namespace?: string;
  body?: Buffer;
  messageId?: string;
  tag?: string;
  keys?: string[];
  userProperties?: Record<string, string>;
  messageGroup?: string;
  /** Epoch ms. */
  deliveryTimestamp?: number;
  transactional?: boolean;
  /** Raw system property overrides, applied last. */
  system?: Partial<SystemProperties>;
}

/** A `Message` as the official producer builds it (PublishingMessage.toProtobuf). */
export function protoMessage(options: ProtoMessageOptions = {}): Message {
  const type = options.transactional
    ? ProtoMessageType.TRANSACTION
    : options.deliveryTimestamp !== undefined
      ? ProtoMessageType.DELAY
      : options.messageGroup !== undefined
        ? ProtoMessageType.FIFO
        : ProtoMessageType.NORMAL;
  const system: SystemProperties = {
    keys: options.keys ?? [],
    message_id: options.messageId ?? newMessageId(),
    born_timestamp: timestampOf(Date.now()),
    born_host: 'test-host',
    body_encoding: Encoding.IDENTITY,
    queue_id: 0,
    message_type: type,
    ...(options.tag === undefined ? {} : { tag: options.tag }),
    ...(options.messageGroup === undefined ? {} : { message_group: options.messageGroup }),
    ...(options.deliveryTimestamp === undefined
      ? {}
      : { delivery_timestamp: timestampOf(options.deliveryTimestamp) }),
    ...options.system,
  };
  return {
    topic: { name: options.topic ?? 'orders', resource_namespace: options.namespace ?? '' },
    body: options.body ?? Buffer.from('hello rocketnest'),
    user_properties: options.userProperties ?? {},
    system_properties: system,
  };
}

/**
 * Receives from the core directly (ReceiveMessage is the streams' RPC), waiting in real time for the
 * store's asynchronous dispatch until `count` messages came or `timeoutMs` passed.
 */
export async function receiveFromCore(
  core: BrokerCore,
  request: ReceiveOptions,
  count = 1,
  timeoutMs = 3_000,
): Promise<ReceivedMessage[]> {
  const got: ReceivedMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  while (got.length < count && Date.now() < deadline) {
    got.push(...core.receive(request));
    if (got.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
  }
  return got;
}

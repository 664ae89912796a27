import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerCredentials, credentials as grpcCredentials } from '@grpc/grpc-js';
import { durationOf } from '@rocketnest/broker/grpc/proto-time.js';
import {
  ClientType,
  FilterType,
  type MessageQueue,
  type ReceiveMessageRequest,
} from '@rocketnest/broker/grpc/proto-types.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import {
  BadRequestError,
  ClientClosedError,
  NotFoundError,
  RequestAbortedError,
  RequestTimeoutError,
  StartupTimeoutError,
  UnauthorizedError,
} from './errors.js';
import { silentLogger } from './logger.js';
import { RpcClient } from './rpc-client.js';
import { sendMessages } from './consumer/testing/consumer-testing.js';
import { startBroker, type BrokerFixture } from './testing/broker-fixture.js';
import { callCounter } from './testing/call-counter.js';
import { startFakeMessagingServer } from './testing/fake-messaging-server.js';
import { startSilentServer, unusedPort } from './testing/silent-server.js';

/** A ReceiveMessage request of `group` on `queue`: every tag, a 15 s lease, no auto-renew. */
function receiveRequest(
  client: RpcClient,
  group: string,
  queue: MessageQueue | null | undefined,
  { batch, pollMs }: { batch: number; pollMs: number },
): ReceiveMessageRequest {
  return {
    group: client.resource(group),
    message_queue: queue ?? null,
    filter_expression: { type: FilterType.TAG, expression: '*' },
    batch_size: batch,
    invisible_duration: { seconds: 15, nanos: 0 },
    auto_renew: false,
    long_polling_timeout: durationOf(pollMs),
  };
}

describe('RpcClient against the built-in broker', () => {
  let fx: BrokerFixture;
  const clients: RpcClient[] = [];
  const connect = async (options: Partial<Parameters<typeof RpcClient.connect>[0]> = {}) => {
    const client = await RpcClient.connect({ endpoints: fx.endpoint, logger: silentLogger, ...options });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    fx = await startBroker();
    fx.broker.core.createTopic('rpc-four', { queueCount: 4 });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await fx.close();
  });

  it('connects and reads a route: every queue writable, on the broker endpoint', async () => {
    const client = await connect({ topics: ['rpc-four'] });
    const route = client.peekRoute('rpc-four');
    expect(route?.queues.map((q) => q.id)).toEqual([0, 1, 2, 3]);
    expect(route?.writableQueues).toHaveLength(4);
    expect(route?.endpoints).toEqual([fx.endpoint]);
    expect(client.brokerEndpoints()).toEqual([fx.endpoint]);
    expect(client.clientId).toMatch(/^[^@]+@\d+@\d+@[0-9a-z]+$/);
  });

  it('shares one QueryRoute between concurrent callers and caches the route', async () => {
    const client = await connect();
    const [a, b] = await Promise.all([client.route('rpc-shared'), client.route('rpc-shared')]);
    expect(a).toBe(b);
    expect(await client.route('rpc-shared')).toBe(a);
  });

  it('rejects an illegal topic with a typed 40002 carrying the request id', async () => {
    const client = await connect();
    const err = await client.route('bad topic!').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe(StatusCode.ILLEGAL_TOPIC);
    expect((err as BadRequestError).retryable).toBe(false);
    expect((err as BadRequestError).requestId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('fails startup with the server’s error, not a timeout, when a topic does not exist', async () => {
    const strict = await startBroker({ core: { autoCreateTopics: false } });
    try {
      const started = Date.now();
      const err = await RpcClient.connect({
        endpoints: strict.endpoint,
        logger: silentLogger,
        topics: ['missing-topic'],
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(NotFoundError);
      expect((err as NotFoundError).code).toBe(StatusCode.TOPIC_NOT_FOUND);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await strict.close();
    }
  });

  it('opens a telemetry session whose first answer carries the producer settings of the server', async () => {
    const client = await connect();
    const session = client.openTelemetry(() => ({
      client_type: ClientType.PRODUCER,
      access_point: client.accessPoint,
      request_timeout: { seconds: 3, nanos: 0 },
      publishing: { topics: [client.resource('rpc-four')], validate_message_type: true },
    }));
    const settings = await session.ready;
    expect(settings.publishing?.max_body_size).toBeGreaterThan(0);
    expect(settings.backoff_policy?.max_attempts).toBeGreaterThan(0);
    expect(settings.backoff_policy?.exponential_backoff).toBeTruthy();
    await expect(session.sync()).resolves.toBeUndefined();
    await session.close();
  });

  it('receives nothing from an empty topic: MESSAGE_NOT_FOUND resolves with no messages', async () => {
    const client = await connect({ topics: ['rpc-empty'] });
    const route = client.peekRoute('rpc-empty')!;
    const result = await client.receive(
      receiveRequest(client, 'rpc-empty-group', route.queues[0]!.proto, { batch: 16, pollMs: 200 }),
      { timeoutMs: 3_000 },
    );
    expect(result.status.code).toBe(StatusCode.MESSAGE_NOT_FOUND);
    expect(result.messages).toEqual([]);
  });

  it('receives the same messages with and without client interceptors, and the interceptors see the receive', async () => {
    const topic = 'rpc-intercepted';
    fx.broker.core.createTopic(topic, { queueCount: 1 });
    await sendMessages(fx.broker, topic, [
      { body: 'one', tag: 'a', keys: ['k1'], properties: { p: '1' } },
      { body: 'two', tag: 'b' },
      { body: 'three' },
    ]);
    const counter = callCounter();
    const direct = await connect({ topics: [topic] });
    const intercepted = await connect({ topics: [topic], interceptors: [counter.interceptor] });
    const receiveAll = async (client: RpcClient, group: string) => {
      const result = await client.receive(
        receiveRequest(client, group, client.peekRoute(topic)!.queues[0]!.proto, {
          batch: 16,
          pollMs: 1_000,
        }),
        { timeoutMs: 5_000 },
      );
      expect(result.status.code).toBe(StatusCode.OK);
      return result.messages.map((m) => ({
        body: Buffer.from(m.body ?? []).toString(),
        tag: m.system_properties?.tag ?? undefined,
        keys: [...(m.system_properties?.keys ?? [])],
        properties: { ...m.user_properties },
        offset: m.system_properties?.queue_offset,
      }));
    };
    const viaDirect = await receiveAll(direct, 'rpc-direct-group');
    const viaInterceptor = await receiveAll(intercepted, 'rpc-intercepted-group');
    expect(viaDirect.map((m) => m.body)).toEqual(['one', 'two', 'three']);
    expect(viaDirect[0]).toEqual({ body: 'one', tag: 'a', keys: ['k1'], properties: { p: '1' }, offset: 0 });
    expect(viaInterceptor).toEqual(viaDirect);
    expect(counter.count('ReceiveMessage')).toBe(1);
  });

  it('aborts a long poll at once when its signal fires', async () => {
    const client = await connect({ topics: ['rpc-abort'] });
    const route = client.peekRoute('rpc-abort')!;
    const controller = new AbortController();
    const started = Date.now();
    const pending = client.receive(
      receiveRequest(client, 'rpc-abort-group', route.queues[0]!.proto, { batch: 16, pollMs: 20_000 }),
      { timeoutMs: 25_000, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 100);
    await expect(pending).rejects.toBeInstanceOf(RequestAbortedError);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('close() cancels a call under way with ClientClosedError and refuses new calls', async () => {
    const client = await RpcClient.connect({
      endpoints: fx.endpoint,
      logger: silentLogger,
      topics: ['rpc-close'],
    });
    const route = client.peekRoute('rpc-close')!;
    const pending = client.receive(
      receiveRequest(client, 'rpc-close-group', route.queues[0]!.proto, { batch: 1, pollMs: 20_000 }),
      { timeoutMs: 25_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    await client.close();
    await expect(pending).rejects.toBeInstanceOf(ClientClosedError);
    await expect(client.route('rpc-close')).rejects.toBeInstanceOf(ClientClosedError);
    await expect(client.unary('Heartbeat', { client_type: ClientType.PRODUCER })).rejects.toBeInstanceOf(
      ClientClosedError,
    );
  });
});

describe('RpcClient against a server whose ReceiveMessage never answers', () => {
  it('ends the receive at its deadline with a typed RequestTimeoutError', async () => {
    const server = await startFakeMessagingServer(); // ReceiveMessage is not scripted: silence
    const client = await RpcClient.connect({
      endpoints: server.endpoint,
      logger: silentLogger,
      topics: ['t'],
    });
    try {
      const started = Date.now();
      const pending = client.receive(
        receiveRequest(client, 'g', client.peekRoute('t')!.queues[0]!.proto, { batch: 16, pollMs: 20_000 }),
        { timeoutMs: 300 },
      );
      await expect(pending).rejects.toBeInstanceOf(RequestTimeoutError);
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('RpcClient startup against endpoints that do not answer', () => {
  it('fails within the startup timeout when nothing listens on the port', async () => {
    const port = await unusedPort();
    const started = Date.now();
    const err = await RpcClient.connect({
      endpoints: `127.0.0.1:${port}`,
      startupTimeoutMs: 1_000,
      logger: silentLogger,
    }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(StartupTimeoutError);
    expect((err as StartupTimeoutError).code).toBe(StatusCode.REQUEST_TIMEOUT);
    expect((err as Error).message).toMatch(/could not be reached/);
    expect(elapsed).toBeGreaterThanOrEqual(900);
    expect(elapsed).toBeLessThan(2_500);
  });

  it('fails within the startup timeout against a server that accepts TCP and never answers', async () => {
    const silent = await startSilentServer();
    try {
      const started = Date.now();
      const err = await RpcClient.connect({
        endpoints: silent.endpoint,
        startupTimeoutMs: 1_000,
        logger: silentLogger,
      }).catch((e: unknown) => e);
      const elapsed = Date.now() - started;
      expect(err).toBeInstanceOf(StartupTimeoutError);
      expect((err as Error).message).toMatch(/never answered the HTTP\/2 handshake/);
      expect(silent.connections).toBeGreaterThan(0);
      expect(elapsed).toBeLessThan(2_500);
    } finally {
      await silent.close();
    }
  });
});

describe('RpcClient signing against a broker with authentication on', () => {
  let fx: BrokerFixture;
  beforeAll(async () => {
    fx = await startBroker({ auth: { users: [{ accessKey: 'app', secretKey: 'app-secret' }] } });
  });
  afterAll(() => fx.close());

  it('is accepted with the right secret', async () => {
    const client = await RpcClient.connect({
      endpoints: fx.endpoint,
      logger: silentLogger,
      credentials: { accessKey: 'app', secretKey: 'app-secret' },
      topics: ['auth-ok'],
    });
    expect(client.peekRoute('auth-ok')?.queues.length).toBeGreaterThan(0);
    await client.close();
  });

  it('is refused with 40100 (a typed UnauthorizedError) for a wrong secret or no credentials', async () => {
    for (const credentials of [{ accessKey: 'app', secretKey: 'wrong' }, undefined]) {
      const err = await RpcClient.connect({
        endpoints: fx.endpoint,
        logger: silentLogger,
        ...(credentials ? { credentials } : {}),
        topics: ['auth-refused'],
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnauthorizedError);
      expect((err as UnauthorizedError).code).toBe(StatusCode.UNAUTHORIZED);
    }
  });
});

describe('RpcClient over TLS', () => {
  let dir: string;
  let cert: Buffer;
  let key: Buffer;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'rocketnest-tls-'));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(join(dir, 'cert.pem'));
    key = readFileSync(join(dir, 'key.pem'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('talks to a TLS server with the credentials given, and not in plaintext or without trust', async () => {
    const server = await startFakeMessagingServer(
      {},
      ServerCredentials.createSsl(null, [{ cert_chain: cert, private_key: key }]),
    );
    try {
      const client = await RpcClient.connect({
        endpoints: server.endpoint,
        tls: grpcCredentials.createSsl(cert),
        logger: silentLogger,
        topics: ['tls-topic'],
      });
      expect(client.peekRoute('tls-topic')?.queues).toHaveLength(1);
      await client.close();
      for (const tls of [false, true]) {
        const err = await RpcClient.connect({
          endpoints: server.endpoint,
          tls,
          startupTimeoutMs: 800,
          logger: silentLogger,
        }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(StartupTimeoutError);
      }
    } finally {
      await server.close();
    }
  });
});

import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { credentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { adminRequest } from './admin/admin-testing.js';
import { BrokerConfigFileError } from './admin/broker-config-file.js';
import { Broker, type BrokerOptions } from './broker.js';
import { type QueryRouteResponse } from './grpc/proto-types.js';
import {
  clientMetadata,
  MemoryLogger,
  MessagingClient,
  type HeaderOptions,
} from './grpc/testing/grpc-harness.js';
import { StatusCode } from './status-code.js';

const TOKEN = 'e2e-admin-token-0123456789';

function queryRoute(
  address: { port: number },
  topic: string,
  headers: HeaderOptions = {},
): Promise<QueryRouteResponse> {
  const client: Client = new MessagingClient(`127.0.0.1:${address.port}`, credentials.createInsecure());
  return new Promise<QueryRouteResponse>((resolve, reject) => {
    const method = (client as unknown as Record<string, (...args: unknown[]) => void>).QueryRoute!;
    method.call(
      client,
      {
        topic: { name: topic },
        endpoints: { scheme: 1, addresses: [{ host: '127.0.0.1', port: address.port }] },
      },
      clientMetadata(headers),
      { deadline: Date.now() + 10_000 },
      (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res as QueryRouteResponse)),
    );
  }).finally(() => client.close());
}

async function occupiedPort(): Promise<{ server: Server; port: number }> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as { port: number }).port };
}

describe('Broker', () => {
  let dir: string;
  let logger: MemoryLogger;
  const base = (): BrokerOptions => ({ dataDir: join(dir, 'data'), host: '127.0.0.1', port: 0, logger });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rn-broker-'));
    logger = new MemoryLogger();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('starts on ephemeral ports with the config applied, authenticates gRPC with its users and serves the admin API', async () => {
    const configFile = join(dir, 'broker.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        topics: [{ name: 'orders', queueCount: 4, messageTypes: ['FIFO'] }],
        groups: [{ name: 'billing', fifo: true, maxDeliveryAttempts: 5 }],
        users: [{ accessKey: 'svc', secretKey: { env: 'SVC_SECRET' } }],
      }),
    );
    const broker = await Broker.start({
      ...base(),
      config: configFile,
      env: { SVC_SECRET: 'svc-secret' },
      auth: { users: [{ accessKey: 'ops', secretKey: 'ops-secret' }] },
      admin: { port: 0, token: TOKEN },
    });
    try {
      const { address } = broker;
      expect(address.port).toBeGreaterThan(0);
      expect(address.endpoint).toBe(`127.0.0.1:${address.port}`);
      expect(address.admin).toEqual({
        host: '127.0.0.1',
        port: broker.adminAddress!.port,
        url: `http://127.0.0.1:${broker.adminAddress!.port}`,
      });
      expect(Object.isFrozen(address)).toBe(true);
      expect(logger.lines.map((l) => l.message)).toEqual(
        expect.arrayContaining([
          'config applied: 2 created, 0 updated, 0 unchanged (topic orders, group billing)',
          `ready: RocketMQ gRPC on 127.0.0.1:${address.port} (clients use 127.0.0.1:${address.port}, ` +
            `authentication on, 2 user(s)), admin API on ${address.admin!.url} (token required)`,
        ]),
      );

      for (const user of [
        { accessKey: 'svc', secretKey: 'svc-secret' },
        { accessKey: 'ops', secretKey: 'ops-secret' },
      ]) {
        const route = await queryRoute(address, 'orders', { credentials: user });
        expect(route.status!.code).toBe(StatusCode.OK);
        expect(route.message_queues).toHaveLength(4);
      }
      const unsigned = await queryRoute(address, 'orders');
      expect(unsigned.status!.code).toBe(StatusCode.UNAUTHORIZED);
      const wrong = await queryRoute(address, 'orders', {
        credentials: { accessKey: 'svc', secretKey: 'nope' },
      });
      expect(wrong.status!.code).toBe(StatusCode.UNAUTHORIZED);

      const group = await adminRequest(broker.adminAddress!, 'GET', '/groups/billing', { token: TOKEN });
      expect(group.status).toBe(200);
      expect(group.json).toMatchObject({ name: 'billing', fifo: true, maxDeliveryAttempts: 5 });
      expect(broker.core.getTopic('orders')!.queueCount).toBe(4);
    } finally {
      await broker.close();
    }
    expect(broker.closed).toBe(true);
    await broker.close(); // idempotent
    await expect(
      adminRequest({ host: '127.0.0.1', port: broker.address.admin!.port }, 'GET', '/health'),
    ).rejects.toThrow(/ECONNREFUSED/);
  });

  it('keeps what was sent across a close and a start on the same directory (flush and checkpoint)', async () => {
    const first = await Broker.start({ ...base(), admin: { port: 0 } });
    const [sent] = await first.core.send([
      { topic: 'orders', body: Buffer.from('kept'), messageId: 'KEEP-1' },
    ]);
    expect(sent).toMatchObject({ ok: true });
    await first.close();

    const second = await Broker.start({ ...base(), admin: { port: 0 } });
    try {
      const found = await adminRequest(second.adminAddress!, 'GET', '/messages/KEEP-1');
      expect(found.status).toBe(200);
      const [message] = (found.json as { messages: { body: string }[] }).messages;
      expect(Buffer.from(message!.body, 'base64').toString()).toBe('kept');
    } finally {
      await second.close();
    }
  });

  it('runs without an admin API and without authentication unless asked', async () => {
    const broker = await Broker.start(base());
    try {
      expect(broker.adminAddress).toBeUndefined();
      expect(broker.address.admin).toBeUndefined();
      expect((await queryRoute(broker.address, 'anything')).status!.code).toBe(StatusCode.OK);
      expect(logger.lines.some((l) => l.message.includes('authentication off'))).toBe(true);
    } finally {
      await broker.close();
    }
  });

  it('refuses a bad config before opening anything, naming the path', async () => {
    const start = Broker.start({ ...base(), config: { topics: [{ name: 'orders', queueCount: 0 }] } });
    await expect(start).rejects.toThrow(BrokerConfigFileError);
    await expect(Broker.start({ ...base(), config: { groups: [{ name: 'g', fifo: 1 }] } })).rejects.toThrow(
      'broker config: groups[0].fifo must be true or false, got 1',
    );
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('refuses an admin API on a public address without a token, and a user defined twice', async () => {
    await expect(Broker.start({ ...base(), admin: { host: '0.0.0.0', port: 0 } })).rejects.toThrow(
      /refusing to expose the admin API on 0\.0\.0\.0 without a token/,
    );
    await expect(
      Broker.start({
        ...base(),
        auth: { users: [{ accessKey: 'svc', secretKey: 'a' }] },
        config: { users: [{ accessKey: 'svc', secretKey: 'b' }] },
      }),
    ).rejects.toThrow('access key "svc" is defined twice');
    expect(existsSync(join(dir, 'data'))).toBe(false);
  });

  it('fails on a busy gRPC port and releases the data directory, so a retry starts', async () => {
    const busy = await occupiedPort();
    try {
      await expect(Broker.start({ ...base(), port: busy.port })).rejects.toThrow(
        `cannot listen on 127.0.0.1:${busy.port}`,
      );
    } finally {
      busy.server.close();
    }
    const retry = await Broker.start(base());
    await retry.close();
  });

  it('fails on a busy admin port and releases the gRPC port and the data directory', async () => {
    const busy = await occupiedPort();
    try {
      await expect(Broker.start({ ...base(), admin: { port: busy.port } })).rejects.toThrow(
        `the admin API cannot listen on 127.0.0.1:${busy.port}: the port is in use`,
      );
    } finally {
      busy.server.close();
    }
    // The gRPC port it had bound is free again: a retry can take that very port.
    const bound = logger.lines
      .map((l) => /RocketMQ gRPC endpoint listening on 127\.0\.0\.1:(\d+)/.exec(l.message))
      .find((m) => m !== null);
    expect(bound).toBeDefined();
    const retry = await Broker.start({ ...base(), port: Number(bound![1]), admin: { port: 0 } });
    expect(retry.address.port).toBe(Number(bound![1]));
    await retry.close();
  });
});

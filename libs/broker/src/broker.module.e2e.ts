import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import { credentials, type Client, type ServiceError } from '@grpc/grpc-js';
import { adminRequest } from './admin/admin-testing.js';
import { Broker, type BrokerAddress } from './broker.js';
import { BROKER_ADDRESS, BrokerModule } from './broker.module.js';
import { type QueryRouteResponse } from './grpc/proto-types.js';
import { clientMetadata, MemoryLogger, MessagingClient } from './grpc/testing/grpc-harness.js';
import { StatusCode } from './status-code.js';

function queryRoute(endpoint: string, topic: string): Promise<QueryRouteResponse> {
  const client: Client = new MessagingClient(endpoint, credentials.createInsecure());
  const [host, port] = endpoint.split(':');
  return new Promise<QueryRouteResponse>((resolve, reject) => {
    const method = (client as unknown as Record<string, (...args: unknown[]) => void>).QueryRoute!;
    method.call(
      client,
      { topic: { name: topic }, endpoints: { scheme: 1, addresses: [{ host, port: Number(port) }] } },
      clientMetadata(),
      { deadline: Date.now() + 10_000 },
      (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res as QueryRouteResponse)),
    );
  }).finally(() => client.close());
}

function refusesConnections(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}

/** An app service that needs the broker's address, as a client module would. */
@Injectable()
class EndpointUser {
  constructor(@Inject(BROKER_ADDRESS) readonly address: BrokerAddress) {}
}

describe('BrokerModule', () => {
  let dir: string;
  let logger: MemoryLogger;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rn-broker-module-'));
    logger = new MemoryLogger();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('forRoot starts the broker with the app on an ephemeral port, injects its address, and closes it with the app', async () => {
    @Module({
      imports: [BrokerModule.forRoot({ dataDir: join(dir, 'data'), port: 0, admin: { port: 0 }, logger })],
      providers: [EndpointUser],
    })
    class AppModule {}

    const app = await NestFactory.createApplicationContext(AppModule, { logger: false });
    const { address } = app.get(EndpointUser);
    const broker = app.get(Broker);
    expect(address.port).toBeGreaterThan(0);
    expect(address).toBe(broker.address);
    expect(address.endpoint).toBe(`127.0.0.1:${address.port}`);

    const route = await queryRoute(address.endpoint, 'orders');
    expect(route.status!.code).toBe(StatusCode.OK);
    const health = await adminRequest(broker.adminAddress!, 'GET', '/health');
    expect(health.json).toEqual({ status: 'ok' });

    await app.close();
    expect(broker.closed).toBe(true);
    expect(await refusesConnections(address.port)).toBe(true);
    expect(await refusesConnections(address.admin!.port)).toBe(true);
    // The data directory is free again: another broker can open it.
    const again = await Broker.start({ dataDir: join(dir, 'data'), port: 0, logger });
    await again.close();
  });

  it('forRootAsync builds the options from injected providers', async () => {
    const SETTINGS = Symbol('SETTINGS');
    @Module({
      providers: [{ provide: SETTINGS, useValue: { dir: join(dir, 'async') } }],
      exports: [SETTINGS],
    })
    class SettingsModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [
        BrokerModule.forRootAsync({
          imports: [SettingsModule],
          inject: [SETTINGS],
          useFactory: async (settings: { dir: string }) => ({
            dataDir: settings.dir,
            port: 0,
            logger,
            config: { groups: [{ name: 'orderly', fifo: true }] },
          }),
        }),
      ],
      providers: [EndpointUser],
    }).compile();
    const app = await moduleRef.init();
    try {
      const broker = app.get(Broker);
      expect(broker.core.dataDir).toBe(join(dir, 'async'));
      expect(broker.core.getGroup('orderly')!.fifo).toBe(true);
      expect(app.get(EndpointUser).address.port).toBe(broker.address.port);
    } finally {
      await app.close();
    }
  });

  it('fails the app start with the broker error when the broker cannot start', async () => {
    @Module({
      imports: [
        BrokerModule.forRoot({
          dataDir: join(dir, 'data'),
          port: 0,
          logger,
          config: { topics: [{ name: 'orders', queueCount: 0 }] },
        }),
      ],
    })
    class BadModule {}

    await expect(
      NestFactory.createApplicationContext(BadModule, { logger: false, abortOnError: false }),
    ).rejects.toThrow('broker config: topics[0].queueCount must be an integer 1..1024, got 0');
  });
});

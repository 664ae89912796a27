import { createServer, type Server as NetServer } from 'node:net';
import { StatusCode } from '../status-code.js';
import { status as grpcStatus, type ServiceError } from '@grpc/grpc-js';
import { GrpcMessagingServer, MAX_RECEIVE_MESSAGE_BYTES, parseEndpoint } from './messaging-server.js';
import { clientMetadata, protoMessage, startHarness, type GrpcHarness } from './testing/grpc-harness.js';

describe('GrpcMessagingServer', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('listens on an ephemeral port and reports it', () => {
    expect(h.port).toBeGreaterThan(0);
    expect(h.server.address).toEqual({ host: '127.0.0.1', port: h.port });
    expect(h.server.advertisedEndpoint).toEqual({ host: '127.0.0.1', port: h.port });
  });

  it.each(['UpdateOffset', 'GetOffset', 'QueryOffset', 'RecallMessage', 'SyncLiteSubscription'])(
    '%s answers UNSUPPORTED in its status, not a gRPC error',
    async (rpc) => {
      const res = await h.call<{ status: { code: number; message: string } }>(rpc, {});
      expect(res.status.code).toBe(StatusCode.UNSUPPORTED);
      expect(res.status.message).toContain(rpc);
    },
  );

  it('PullMessage answers one UNSUPPORTED status frame and ends OK', async () => {
    const frames: unknown[] = [];
    const stream = (h.client as unknown as Record<string, (req: object, md: object) => NodeJS.ReadableStream>)
      .PullMessage!({}, clientMetadata());
    await new Promise<void>((resolve, reject) => {
      stream.on('data', (f: unknown) => frames.push(f));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
    expect(frames).toEqual([
      expect.objectContaining({ status: expect.objectContaining({ code: StatusCode.UNSUPPORTED }) }),
    ]);
  });

  it.each([
    'QueryRoute',
    'Heartbeat',
    'SendMessage',
    'QueryAssignment',
    'AckMessage',
    'ForwardMessageToDeadLetterQueue',
    'EndTransaction',
    'NotifyClientTermination',
    'ChangeInvisibleDuration',
    'GetOffset',
  ])('%s without x-mq-client-id answers CLIENT_ID_REQUIRED', async (rpc) => {
    const res = await h.call<{ status: { code: number } }>(rpc, {}, { clientId: null });
    expect(res.status.code).toBe(StatusCode.CLIENT_ID_REQUIRED);
  });

  it('a blank x-mq-client-id counts as missing', async () => {
    const res = await h.call<{ status: { code: number } }>(
      'Heartbeat',
      { client_type: 1 },
      { clientId: '   ' },
    );
    expect(res.status.code).toBe(StatusCode.CLIENT_ID_REQUIRED);
  });

  it('a malformed x-mq-namespace answers BAD_REQUEST', async () => {
    const res = await h.call<{ status: { code: number } }>(
      'Heartbeat',
      { client_type: 1 },
      { namespace: 'a%b' },
    );
    expect(res.status.code).toBe(StatusCode.BAD_REQUEST);
  });

  it('a request frame over 16 MiB is refused by grpc-js with RESOURCE_EXHAUSTED and the server stays up', async () => {
    const body = Buffer.alloc(MAX_RECEIVE_MESSAGE_BYTES + 1024);
    const err = await h.call('SendMessage', { messages: [protoMessage({ body })] }).then(
      () => undefined,
      (e: ServiceError) => e,
    );
    expect(err?.code).toBe(grpcStatus.RESOURCE_EXHAUSTED);
    const ok = await h.call<{ status: { code: number } }>('SendMessage', { messages: [protoMessage()] });
    expect(ok.status.code).toBe(StatusCode.OK);
  });

  it('a core that is shutting down answers INTERNAL_SERVER_ERROR, not a crash', async () => {
    const h2 = await startHarness();
    try {
      await h2.core.close();
      const res = await h2.call<{ status: { code: number } }>('SendMessage', { messages: [protoMessage()] });
      expect(res.status.code).toBe(StatusCode.INTERNAL_SERVER_ERROR);
    } finally {
      await h2.close();
    }
  });

  it('refuses to listen on a busy port with an error naming the address', async () => {
    const busy: NetServer = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as { port: number }).port;
    const server = new GrpcMessagingServer({ core: h.core, port, logger: h.logger });
    try {
      await expect(server.listen()).rejects.toThrow(`cannot listen on 127.0.0.1:${port}`);
    } finally {
      await server.close(0);
      busy.close();
    }
  });

  it('closes idempotently and cannot listen again', async () => {
    const server = new GrpcMessagingServer({ core: h.core, port: 0, logger: h.logger });
    await server.listen();
    await Promise.all([server.close(100), server.close(100)]);
    expect(server.address).toBeUndefined();
    await expect(server.listen()).rejects.toThrow('closed');
  });

  it('rejects bad ports and advertised endpoints at construction', () => {
    expect(() => new GrpcMessagingServer({ core: h.core, port: 70_000 })).toThrow(RangeError);
    expect(() => new GrpcMessagingServer({ core: h.core, advertisedEndpoint: '[::1]:8081' })).toThrow(
      RangeError,
    );
    expect(parseEndpoint('broker.local:9876')).toEqual({ host: 'broker.local', port: 9876 });
    expect(() => parseEndpoint('0.0.0.0:8081')).toThrow(RangeError);
    expect(() => parseEndpoint('host:0')).toThrow(RangeError);
  });
});

import { ClientType, type Settings, type TelemetryCommand } from '@rocketnest/broker/grpc/proto-types.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { BadRequestError, UnauthorizedError } from './errors.js';
import { silentLogger } from './logger.js';
import { RpcClient } from './rpc-client.js';
import { type TelemetrySessionOptions } from './telemetry-session.js';
import { startFakeMessagingServer, type FakeMessagingServer } from './testing/fake-messaging-server.js';

describe('TelemetrySession (scripted server)', () => {
  let server: FakeMessagingServer;
  let client: RpcClient;
  const settings = (): Settings => ({
    client_type: ClientType.PRODUCER,
    access_point: client.accessPoint,
    publishing: { topics: [client.resource('t')], validate_message_type: true },
  });
  const open = (options: TelemetrySessionOptions = {}) => client.openTelemetry(settings, options);
  /** Frames the server received on Telemetry, by kind. */
  const frames = (kind: string) =>
    server.calls.filter((c) => c.method === `Telemetry:${kind}`).map((c) => c.request as TelemetryCommand);
  const pushCommand = (command: TelemetryCommand) => {
    for (const stream of server.telemetryStreams) stream.write(command);
  };

  beforeEach(async () => {
    server = await startFakeMessagingServer();
    client = await RpcClient.connect({ endpoints: server.endpoint, logger: silentLogger });
  });
  afterEach(async () => {
    await client.close();
    await server.close();
  });

  it('sends Settings first and resolves ready with the server’s answer', async () => {
    const session = open();
    const answer = await session.ready;
    expect(answer.backoff_policy?.max_attempts).toBe(3);
    expect(answer.publishing?.max_body_size).toBe(4 * 1024 * 1024);
    expect(session.serverSettings).toBe(answer);
    const [first] = frames('settings');
    expect(first?.settings?.client_type).toBe(ClientType.PRODUCER);
    expect(first?.settings?.publishing?.topics).toEqual([{ resource_namespace: '', name: 't' }]);
  });

  it('rejects ready with a typed error when the server refuses the Settings', async () => {
    server.script = { telemetry: 'refuse' };
    const err = await open().ready.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnauthorizedError);
    expect((err as UnauthorizedError).code).toBe(StatusCode.UNAUTHORIZED);
  });

  it('rejects ready with BadRequestError when the server fails the stream with INVALID_ARGUMENT', async () => {
    server.script = { telemetry: 'invalid-argument' };
    const err = await open().ready.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).grpcCode).toBe(3);
  });

  it('answers print-thread-stack-trace with OK and the nonce, and verify-message with NOT_IMPLEMENTED', async () => {
    const session = open();
    await session.ready;
    const events: string[] = [];
    session.on('printThreadStackTrace', ({ nonce }) => events.push(`stack:${nonce}`));
    session.on('verifyMessage', ({ nonce }) => events.push(`verify:${nonce}`));
    pushCommand({ print_thread_stack_trace_command: { nonce: 'n-1' } });
    pushCommand({ verify_message_command: { nonce: 'n-2', message: { body: Buffer.from('x') } } });
    await waitFor(
      () => frames('thread_stack_trace').length === 1 && frames('verify_message_result').length === 1,
    );
    const [stack] = frames('thread_stack_trace');
    expect(stack?.status?.code).toBe(StatusCode.OK);
    expect(stack?.thread_stack_trace?.nonce).toBe('n-1');
    expect(stack?.thread_stack_trace?.thread_stack_trace).toMatch(/Node\.js/);
    const [verify] = frames('verify_message_result');
    expect(verify?.status?.code).toBe(StatusCode.NOT_IMPLEMENTED);
    expect(verify?.verify_message_result?.nonce).toBe('n-2');
    expect(events).toEqual(['stack:n-1', 'verify:n-2']);
  });

  it('reopens the stream and re-sends Settings on a reconnect command', async () => {
    const session = open();
    await session.ready;
    const reconnected = new Promise((resolve) => session.once('reconnect', resolve));
    pushCommand({ reconnect_endpoints_command: { nonce: 'r' } });
    await reconnected;
    await waitFor(() => server.count('Telemetry') === 2 && frames('settings').length === 2);
  });

  it('reopens a stream the server ended, with backoff, and re-sends Settings', async () => {
    const session = open({ reconnectInitialMs: 50 });
    await session.ready;
    for (const stream of server.telemetryStreams) stream.end();
    await waitFor(() => server.count('Telemetry') === 2 && frames('settings').length === 2);
  });

  it('re-sends Settings periodically and heartbeats as the declared client type', async () => {
    const session = open({ settingsSyncIntervalMs: 100, heartbeatIntervalMs: 50 });
    await session.ready;
    await waitFor(() => frames('settings').length >= 3 && server.count('Heartbeat') >= 2);
    const beat = server.calls.find((c) => c.method === 'Heartbeat')!.request as Record<string, unknown>;
    expect(beat['client_type']).toBe(ClientType.PRODUCER);
    expect(server.count('Telemetry')).toBe(1);
  });

  it('sync() re-sends the current Settings and resolves on the answer', async () => {
    const session = open();
    await session.ready;
    await session.sync();
    expect(frames('settings')).toHaveLength(2);
  });

  it('close() notifies termination, half-closes, and the server sees the stream end', async () => {
    const session = open();
    await session.ready;
    const [stream] = [...server.telemetryStreams];
    const ended = new Promise((resolve) => stream!.on('end', resolve));
    await session.close();
    await ended;
    expect(server.count('NotifyClientTermination')).toBe(1);
    expect(server.telemetryStreams.size).toBe(0);
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

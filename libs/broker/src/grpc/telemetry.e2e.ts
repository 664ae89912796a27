/**
 * Telemetry over a real socket: a raw grpc-js client (the official client's protos and metadata)
 * against GrpcMessagingServer on an ephemeral port, over a real BrokerCore in a temp directory.
 */
import { ManualClock } from '../core/clock.js';
import { DEFAULT_MAX_BODY_SIZE } from '../core/limits.js';
import { StatusCode } from '../status-code.js';
import { crc32 } from 'node:zlib';
import {
  ClientType,
  DigestType,
  ProtoMessageType,
  TransactionResolution,
  TransactionSource,
  type TelemetryCommand,
} from './proto-types.js';
import {
  consumerSettings,
  openTelemetry,
  producerSettings,
  type TelemetryProbe,
} from './telemetry-testing.js';
import { startHarness, type GrpcHarness } from './testing/grpc-harness.js';

const T0 = Date.UTC(2025, 0, 1);
/** gRPC status OK as grpc-js reports it. */
const GRPC_OK = 0;

let h: GrpcHarness;
const probes: TelemetryProbe[] = [];

function open(headers: Parameters<typeof openTelemetry>[1] = {}): TelemetryProbe {
  const probe = openTelemetry(
    h,
    headers.clientId === undefined ? { ...headers, clientId: nextClientId() } : headers,
  );
  probes.push(probe);
  return probe;
}

afterEach(() => {
  for (const probe of probes.splice(0)) probe.stream.cancel();
});

let clientSeq = 0;
/** A client id of its own per test, so that tests sharing a server do not see each other's state. */
function nextClientId(): string {
  return `test-host@${process.pid}@${++clientSeq}@t`;
}

/** One server for the tests of a describe block. */
function sharedHarness(): void {
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
}

/** Lets the server run its side of a few round trips. */
const turns = (n = 10): Promise<void> =>
  new Promise((resolve) => {
    let left = n;
    const next = (): void => (--left <= 0 ? resolve() : void setImmediate(next));
    setImmediate(next);
  });

describe('Telemetry: Settings answers', () => {
  sharedHarness();

  it('answers a producer with its Settings echoed plus backoff, max body size and type validation', async () => {
    const id = nextClientId();
    const t = open({ clientId: id });
    const sent = producerSettings(['orders', 'payments']);
    t.send({ settings: sent });
    const reply = await t.frame(0);

    expect(reply.status).toEqual({ code: StatusCode.OK, message: 'OK' });
    expect(reply.command).toBe('settings');
    const s = reply.settings!;
    expect(s.client_type).toBe(ClientType.PRODUCER);
    expect(s.access_point).toEqual(sent.access_point);
    expect(s.request_timeout).toEqual({ seconds: 3, nanos: 0 });
    expect(s.user_agent).toEqual(sent.user_agent);
    expect(s.publishing).toEqual({
      topics: [
        { name: 'orders', resource_namespace: '' },
        { name: 'payments', resource_namespace: '' },
      ],
      max_body_size: DEFAULT_MAX_BODY_SIZE,
      validate_message_type: true,
    });
    expect(s.backoff_policy).toMatchObject({
      max_attempts: 3,
      strategy: 'exponential_backoff',
      exponential_backoff: {
        initial: { seconds: 0, nanos: 10_000_000 },
        max: { seconds: 1, nanos: 0 },
        multiplier: 2,
      },
    });
    expect(s.metric).toMatchObject({ on: false });
    expect(s.subscription ?? null).toBeNull();
    expect(h.server.clients.settingsOf(id)).toMatchObject({
      clientType: ClientType.PRODUCER,
      topics: ['orders', 'payments'],
      requestTimeoutMs: 3_000,
    });
  });

  it("answers a push consumer with the group's FIFO flag, batch 32, 20 s long polling and its retry policy", async () => {
    h.core.createGroup('billing', {
      fifo: true,
      maxDeliveryAttempts: 5,
      retryBackoffMs: [1_000, 2_000, 4_000],
    });
    const t = open();
    const sent = consumerSettings(ClientType.PUSH_CONSUMER, 'billing', [{ topic: 'invoices', tag: 'paid' }]);
    t.send({ settings: sent });
    const reply = await t.frame(0);

    expect(reply.status?.code).toBe(StatusCode.OK);
    const s = reply.settings!;
    expect(s.client_type).toBe(ClientType.PUSH_CONSUMER);
    expect(s.subscription).toMatchObject({
      group: { name: 'billing', resource_namespace: '' },
      subscriptions: [{ topic: { name: 'invoices' }, expression: { type: 1, expression: 'paid' } }],
      fifo: true,
      receive_batch_size: 32,
      long_polling_timeout: { seconds: 20, nanos: 0 },
    });
    expect(s.backoff_policy).toMatchObject({
      max_attempts: 5,
      strategy: 'exponential_backoff',
      exponential_backoff: { initial: { seconds: 1 }, max: { seconds: 4 }, multiplier: 2 },
    });
    expect(s.metric).toMatchObject({ on: false });
    expect(s.publishing ?? null).toBeNull();
  });

  it('creates an unknown push group with the defaults and answers its defaults (not FIFO, 17 attempts)', async () => {
    const t = open();
    t.send({ settings: consumerSettings(ClientType.PUSH_CONSUMER, 'fresh-group', [{ topic: 't' }]) });
    const reply = await t.frame(0);
    expect(reply.status?.code).toBe(StatusCode.OK);
    expect(reply.settings?.subscription?.fifo).toBe(false);
    expect(reply.settings?.backoff_policy?.max_attempts).toBe(17);
    expect(h.core.getGroup('fresh-group')).toMatchObject({ fifo: false, maxDeliveryAttempts: 17 });
  });

  it('answers a simple consumer with its own Settings and metrics off', async () => {
    const id = nextClientId();
    const t = open({ clientId: id });
    const sent = consumerSettings(ClientType.SIMPLE_CONSUMER, 'reports', [{ topic: 'daily' }], 30_000);
    t.send({ settings: sent });
    const reply = await t.frame(0);
    expect(reply.status?.code).toBe(StatusCode.OK);
    expect(reply.settings).toMatchObject({
      client_type: ClientType.SIMPLE_CONSUMER,
      subscription: {
        group: { name: 'reports' },
        subscriptions: [{ topic: { name: 'daily' }, expression: { type: 1, expression: '*' } }],
        long_polling_timeout: { seconds: 30, nanos: 0 },
      },
      metric: { on: false },
    });
    expect(reply.settings?.backoff_policy ?? null).toBeNull();
    expect(h.server.clients.settingsOf(id)).toMatchObject({
      clientType: ClientType.SIMPLE_CONSUMER,
      group: 'reports',
      longPollingTimeoutMs: 30_000,
    });
  });

  it('answers every Settings frame, also the periodic re-sends', async () => {
    const id = nextClientId();
    const t = open({ clientId: id });
    for (let i = 0; i < 3; i++) t.send({ settings: producerSettings([`topic-${i}`]) });
    await t.frame(2);
    expect(t.frames.map((f) => f.settings?.publishing?.topics?.[0]?.name)).toEqual([
      'topic-0',
      'topic-1',
      'topic-2',
    ]);
    expect(h.server.clients.settingsOf(id)?.topics).toEqual(['topic-2']);
  });

  it('keeps namespaced producer topics under the broker name and echoes them as sent', async () => {
    const id = nextClientId();
    const t = open({ clientId: id, namespace: 'tenant-a' });
    t.send({ settings: producerSettings(['orders'], 'tenant-a') });
    const reply = await t.frame(0);
    expect(reply.settings?.publishing?.topics).toEqual([{ name: 'orders', resource_namespace: 'tenant-a' }]);
    expect(h.server.clients.settingsOf(id)?.topics).toEqual(['tenant-a%orders']);
  });

  it('refuses an unknown client type with UNRECOGNIZED_CLIENT_TYPE and no command, then serves a good one', async () => {
    const t = open();
    t.send({ settings: { ...producerSettings(['x']), client_type: ClientType.LITE_PUSH_CONSUMER } });
    t.send({ settings: { ...producerSettings(['x']), client_type: ClientType.UNSPECIFIED } });
    t.send({ settings: producerSettings(['x']) });
    await t.frame(2);
    expect(t.frames[0]).toMatchObject({ status: { code: StatusCode.UNRECOGNIZED_CLIENT_TYPE } });
    expect(t.frames[0]!.command ?? null).toBeNull();
    expect(t.frames[1]).toMatchObject({ status: { code: StatusCode.UNRECOGNIZED_CLIENT_TYPE } });
    expect(t.frames[2]).toMatchObject({ status: { code: StatusCode.OK }, command: 'settings' });
    expect(t.ended).toBe(false);
  });

  it('refuses a push consumer with an illegal group name with ILLEGAL_CONSUMER_GROUP', async () => {
    const t = open();
    t.send({ settings: consumerSettings(ClientType.PUSH_CONSUMER, 'bad group!', [{ topic: 't' }]) });
    const reply = await t.frame(0);
    expect(reply.status?.code).toBe(StatusCode.ILLEGAL_CONSUMER_GROUP);
    expect(reply.command ?? null).toBeNull();
  });

  it('ignores stack traces and verify results from the client', async () => {
    const t = open();
    t.send({
      thread_stack_trace: { nonce: 'n1', thread_stack_trace: 'mock stack' },
      status: { code: StatusCode.OK },
    });
    t.send({ verify_message_result: { nonce: 'n2' }, status: { code: StatusCode.NOT_IMPLEMENTED } });
    t.send({ settings: producerSettings(['x']) });
    await t.frame(0);
    await turns();
    expect(t.frames).toHaveLength(1);
    expect(t.frames[0]!.command).toBe('settings');
  });

  it('survives garbage: an empty frame and Settings without a type get answers or nothing, never a crash', async () => {
    const t = open();
    t.send({});
    t.send({ settings: {} });
    const reply = await t.frame(0);
    expect(reply.status?.code).toBe(StatusCode.UNRECOGNIZED_CLIENT_TYPE);
    t.send({ settings: producerSettings(['ok']) });
    expect((await t.frame(1)).status?.code).toBe(StatusCode.OK);
  });
});

describe('Telemetry: stream life', () => {
  sharedHarness();

  it('ends the stream with OK at once when the client half-closes, never with an error', async () => {
    const t = open();
    t.send({ settings: producerSettings(['x']) });
    await t.frame(0);
    t.halfClose();
    const status = await t.closed();
    expect(status.code).toBe(GRPC_OK);
    expect(t.error).toBeUndefined();
  });

  it('keeps the client alive while its stream is open and drops its stream when it closes', async () => {
    const id = nextClientId();
    const t = open({ clientId: id });
    t.send({ settings: producerSettings(['alive-topic']) });
    await t.frame(0);
    expect(h.server.clients.isAlive(id)).toBe(true);
    expect(h.server.clients.producerChannelFor('alive-topic')).toBeDefined();
    t.halfClose();
    await t.closed();
    await turns();
    expect(h.server.clients.producerChannelFor('alive-topic')).toBeUndefined();
    expect(h.server.clients.isAlive(id)).toBe(true); // for 60 s after its last sign of life
  });

  it('refuses a stream without a client id with CLIENT_ID_REQUIRED and answers its Settings the same way', async () => {
    const t = open({ clientId: null });
    expect(await t.frame(0)).toMatchObject({ status: { code: StatusCode.CLIENT_ID_REQUIRED } });
    t.send({ settings: producerSettings(['x']) });
    const second = await t.frame(1);
    expect(second.status?.code).toBe(StatusCode.CLIENT_ID_REQUIRED);
    expect(second.command ?? null).toBeNull();
    expect(t.ended).toBe(false); // ending would make the client reopen it every second
    t.halfClose();
    expect((await t.closed()).code).toBe(GRPC_OK);
  });
});

describe('Telemetry: server shutdown', () => {
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    for (const probe of probes.splice(0)) probe.stream.cancel();
    await h.close();
  });

  it('ends every open stream with OK when the server shuts down', async () => {
    const a = open();
    const b = open({ clientId: 'other-host@1@1@zz' });
    a.send({ settings: producerSettings(['x']) });
    b.send({ settings: consumerSettings(ClientType.SIMPLE_CONSUMER, 'g', [{ topic: 'x' }]) });
    await a.frame(0);
    await b.frame(0);
    await h.server.close(2_000);
    expect((await a.closed()).code).toBe(GRPC_OK);
    expect((await b.closed()).code).toBe(GRPC_OK);
    expect(a.error).toBeUndefined();
    expect(b.error).toBeUndefined();
  });
});

describe('Telemetry: authentication', () => {
  const user = { accessKey: 'ak-1', secretKey: 'secret-1' };
  const limited = { accessKey: 'ak-2', secretKey: 'secret-2', topics: ['pub-*'], groups: ['sub-*'] };

  beforeAll(async () => {
    h = await startHarness({ auth: { users: [user, limited] } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses a stream with a wrong secret with UNAUTHORIZED at opening and no command', async () => {
    const id = nextClientId();
    const t = open({ clientId: id, credentials: { accessKey: 'ak-1', secretKey: 'wrong' } });
    const first = await t.frame(0);
    expect(first.status?.code).toBe(StatusCode.UNAUTHORIZED);
    expect(first.command ?? null).toBeNull();
    t.send({ settings: producerSettings(['x']) });
    expect((await t.frame(1)).status?.code).toBe(StatusCode.UNAUTHORIZED);
    expect(h.server.clients.settingsOf(id)).toBeUndefined();
  });

  it('refuses an unsigned stream with UNAUTHORIZED', async () => {
    const t = open();
    expect((await t.frame(0)).status?.code).toBe(StatusCode.UNAUTHORIZED);
  });

  it('serves a correctly signed stream', async () => {
    const t = open({ credentials: user });
    t.send({ settings: producerSettings(['x']) });
    const reply = await t.frame(0);
    expect(reply.status?.code).toBe(StatusCode.OK);
    expect(reply.command).toBe('settings');
  });

  it("refuses with FORBIDDEN the Settings of a producer declaring a topic outside its user's allow list", async () => {
    const t = open({ credentials: limited });
    t.send({ settings: producerSettings(['pub-orders', 'secret-topic']) });
    t.send({ settings: producerSettings(['pub-orders']) });
    await t.frame(1);
    expect(t.frames[0]).toMatchObject({ status: { code: StatusCode.FORBIDDEN } });
    expect(t.frames[0]!.command ?? null).toBeNull();
    expect(t.frames[1]).toMatchObject({ status: { code: StatusCode.OK }, command: 'settings' });
  });

  it("refuses with FORBIDDEN the Settings of a consumer whose group is outside its user's allow list", async () => {
    const t = open({ credentials: limited });
    t.send({
      settings: consumerSettings(ClientType.PUSH_CONSUMER, 'other-group', [{ topic: 'pub-orders' }]),
    });
    t.send({
      settings: consumerSettings(ClientType.SIMPLE_CONSUMER, 'other-group', [{ topic: 'pub-orders' }]),
    });
    t.send({
      settings: consumerSettings(ClientType.PUSH_CONSUMER, 'sub-billing', [{ topic: 'pub-orders' }]),
    });
    await t.frame(2);
    expect(t.frames.map((f) => f.status?.code)).toEqual([
      StatusCode.FORBIDDEN,
      StatusCode.FORBIDDEN,
      StatusCode.OK,
    ]);
    expect(h.core.getGroup('other-group')).toBeUndefined(); // a refused consumer creates nothing
  });
});

describe('Telemetry: groups that must exist', () => {
  beforeAll(async () => {
    h = await startHarness({ core: { autoCreateGroups: false } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('refuses a push consumer of an unknown group with CONSUMER_GROUP_NOT_FOUND when groups are not auto-created', async () => {
    const t = open();
    t.send({ settings: consumerSettings(ClientType.PUSH_CONSUMER, 'unknown-group', [{ topic: 't' }]) });
    const reply = await t.frame(0);
    expect(reply.status?.code).toBe(StatusCode.CONSUMER_GROUP_NOT_FOUND);
    expect(reply.command ?? null).toBeNull();
  });
});

describe('Telemetry: a raised receive batch', () => {
  beforeAll(async () => {
    h = await startHarness({ core: { maxReceiveBatchSize: 128 } });
  });
  afterAll(async () => {
    await h.close();
  });

  it("tells push consumers the broker's configured maxReceiveBatchSize as receive_batch_size", async () => {
    const t = open();
    t.send({ settings: consumerSettings(ClientType.PUSH_CONSUMER, 'bulk', [{ topic: 't' }]) });
    const reply = await t.frame(0);
    expect(reply.status?.code).toBe(StatusCode.OK);
    expect(reply.settings?.subscription?.receive_batch_size).toBe(128);
  });
});

describe('Telemetry: orphaned transactions', () => {
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    h = await startHarness({ core: { clock }, server: { clock } });
  });
  afterEach(async () => {
    for (const probe of probes.splice(0)) probe.stream.cancel();
    await h.close();
  });

  async function sendHalf(topic: string, messageId: string): Promise<string> {
    const [result] = await h.core.send([
      {
        topic,
        body: Buffer.from(`order ${messageId}`),
        messageId,
        tag: 'created',
        keys: ['k-1'],
        userProperties: { region: 'eu' },
        transaction: {},
      },
    ]);
    if (!result?.ok || result.transactionId === undefined) throw new Error('no half message');
    return result.transactionId;
  }

  /** Advances the broker clock by `ms` and lets the check-back machinery and sockets run. */
  async function advance(ms: number): Promise<void> {
    await clock.advanceAsync(ms);
    await turns(20);
  }

  it('sends a recovery command with the full message to a live producer of the topic; its commit makes the message visible', async () => {
    const t = open();
    t.send({ settings: producerSettings(['tx-orders']) });
    await t.frame(0);
    const transactionId = await sendHalf('tx-orders', 'MSG-TX-1');

    await advance(6_000); // the first check-back (6 s)
    const command: TelemetryCommand = await t.frame(1);
    expect(command.command).toBe('recover_orphaned_transaction_command');
    const recover = command.recover_orphaned_transaction_command!;
    expect(recover.transaction_id).toBe(transactionId);
    const m = recover.message!;
    expect(m.topic).toEqual({ name: 'tx-orders', resource_namespace: '' });
    expect(m.body?.toString()).toBe('order MSG-TX-1');
    expect(m.user_properties).toEqual({ region: 'eu' });
    expect(m.system_properties).toMatchObject({
      message_id: 'MSG-TX-1',
      tag: 'created',
      keys: ['k-1'],
      message_type: ProtoMessageType.TRANSACTION,
      body_digest: { type: DigestType.CRC32, checksum: String(crc32(Buffer.from('order MSG-TX-1'))) },
      delivery_attempt: 1,
      store_host: `127.0.0.1:${h.port}`,
    });

    // The producer's checker answers through EndTransaction(SERVER_CHECK), as the official client does.
    const ended = await h.call<{ status: { code: number } }>('EndTransaction', {
      topic: m.topic,
      message_id: m.system_properties?.message_id,
      transaction_id: recover.transaction_id,
      resolution: TransactionResolution.COMMIT,
      source: TransactionSource.SERVER_CHECK,
    });
    expect(ended.status.code).toBe(StatusCode.OK);
    const got = h.core.receive({ group: 'g', topic: 'tx-orders', invisibleMs: 30_000 });
    expect(got.map((r) => r.message.messageId)).toEqual(['MSG-TX-1']);
  });

  it('sends nothing while no producer of the topic is connected, and the command once one connects', async () => {
    const other = open();
    other.send({ settings: producerSettings(['unrelated']) });
    await other.frame(0);
    const consumer = open({ clientId: 'consumer@1@1@c' });
    consumer.send({ settings: consumerSettings(ClientType.SIMPLE_CONSUMER, 'g', [{ topic: 'tx-late' }]) });
    await consumer.frame(0);
    const transactionId = await sendHalf('tx-late', 'MSG-TX-2');

    await advance(6_000);
    expect(other.frames).toHaveLength(1);
    expect(consumer.frames).toHaveLength(1);

    const producer = open({ clientId: 'producer@2@1@p' });
    producer.send({ settings: producerSettings(['tx-late']) });
    await producer.frame(0);
    await advance(30_000); // the next check interval
    const command = await producer.frame(1);
    expect(command.recover_orphaned_transaction_command?.transaction_id).toBe(transactionId);
  });

  it('sends the check-back to the producer that sent the half message when it is connected', async () => {
    const first = open({ clientId: 'producer-a@1@1@a' });
    const second = open({ clientId: 'producer-b@1@1@b' });
    first.send({ settings: producerSettings(['tx-shared']) });
    await first.frame(0);
    second.send({ settings: producerSettings(['tx-shared']) });
    await second.frame(0);
    // Producer A sends the half message through SendMessage, as the official client does.
    const sent = await h.call<{ status: { code: number }; entries: { transaction_id: string }[] }>(
      'SendMessage',
      {
        messages: [
          {
            topic: { name: 'tx-shared', resource_namespace: '' },
            body: Buffer.from('half'),
            system_properties: {
              message_id: 'MSG-TX-3',
              message_type: ProtoMessageType.TRANSACTION,
              body_encoding: 1,
              born_timestamp: { seconds: T0 / 1000, nanos: 0 },
              born_host: '127.0.0.1',
              queue_id: 0,
            },
          },
        ],
      },
      { clientId: 'producer-a@1@1@a' },
    );
    expect(sent.status.code).toBe(StatusCode.OK);
    const transactionId = sent.entries[0]!.transaction_id;
    // B is the producer of the topic heard from last: only the sender rule picks A.
    second.send({ settings: producerSettings(['tx-shared']) });
    await second.frame(1);

    await advance(6_000);
    const command = await first.frame(1);
    expect(command.recover_orphaned_transaction_command?.transaction_id).toBe(transactionId);
    expect(second.frames).toHaveLength(2);
  });
});

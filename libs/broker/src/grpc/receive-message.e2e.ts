/**
 * ReceiveMessage over a real socket: a raw grpc-js client (requests shaped as the official Simple
 * and Push consumers build them) against GrpcMessagingServer over a real BrokerCore.
 */
import { type SendRequest } from '../core/send-path.js';
import { ManualClock } from '../core/clock.js';
import { StatusCode } from '../status-code.js';
import { crc32 } from 'node:zlib';
import { ClientType, DigestType, ProtoMessageType, type Message } from './proto-types.js';
import {
  frameKinds,
  pushRequest,
  queueZero,
  receiveCall,
  simpleRequest,
  type ReceiveOutcome,
} from './receive-message-testing.js';
import { consumerSettings, openTelemetry, type TelemetryProbe } from './telemetry-testing.js';
import { startHarness, TEST_CLIENT_ID, type GrpcHarness } from './testing/grpc-harness.js';

const GRPC_OK = 0;
const MiB = 1024 * 1024;

let seq = 0;
function message(topic: string, overrides: Partial<SendRequest> = {}): SendRequest {
  const n = seq++;
  return { topic, body: Buffer.from(`body ${n}`), messageId: `MSG-${n}`, ...overrides };
}

function messagesOf(outcome: ReceiveOutcome): Message[] {
  return outcome.frames.filter((f) => f.content === 'message').map((f) => f.message!);
}

function bodiesOf(outcome: ReceiveOutcome): string[] {
  return messagesOf(outcome).map((m) => m.body!.toString());
}

function handleOf(m: Message): string {
  return m.system_properties!.receipt_handle!;
}

describe('ReceiveMessage: answers', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('delivers a message with its content in Java frame order: status OK, message, delivery timestamp', async () => {
    const body = Buffer.from('{"order":42}');
    await h.core.send([
      message('rx-happy', {
        body,
        messageId: 'MSG-HAPPY',
        tag: 'created',
        keys: ['order-42', 'customer-7'],
        userProperties: { region: 'eu', amount: '10' },
        bornHost: '10.0.0.9:5000',
      }),
    ]);
    const out = await receiveCall(h, simpleRequest('rx-g1', 'rx-happy'));

    expect(out.error).toBeUndefined();
    expect(out.status.code).toBe(GRPC_OK);
    expect(frameKinds(out.frames)).toEqual([`status:${StatusCode.OK}`, 'message', 'delivery_timestamp']);
    const [m] = messagesOf(out);
    expect(m!.topic).toEqual({ name: 'rx-happy', resource_namespace: '' });
    expect(m!.body).toEqual(body);
    expect(m!.user_properties).toEqual({ region: 'eu', amount: '10' });
    expect(m!.system_properties).toMatchObject({
      message_id: 'MSG-HAPPY',
      tag: 'created',
      keys: ['order-42', 'customer-7'],
      body_digest: { type: DigestType.CRC32, checksum: String(crc32(body)) },
      message_type: ProtoMessageType.NORMAL,
      born_host: '10.0.0.9:5000',
      store_host: `127.0.0.1:${h.port}`,
      delivery_attempt: 1,
      invisible_duration: { seconds: 15, nanos: 0 },
    });
    expect(handleOf(m!)).toMatch(/^[\x21-\x7e]+$/);
    // The handle acks the message: it is the live lease.
    expect(() => h.core.ack('rx-g1', handleOf(m!))).not.toThrow();
  });

  it('answers MESSAGE_NOT_FOUND then a delivery timestamp after the long poll when nothing arrives', async () => {
    const out = await receiveCall(
      h,
      simpleRequest('rx-g2', 'rx-empty', { long_polling_timeout: { seconds: 1 } }),
    );
    expect(out.status.code).toBe(GRPC_OK);
    expect(frameKinds(out.frames)).toEqual([`status:${StatusCode.MESSAGE_NOT_FOUND}`, 'delivery_timestamp']);
    expect(out.elapsedMs).toBeGreaterThanOrEqual(900);
  });

  it('wakes a long poll as soon as a message is sent', async () => {
    const pending = receiveCall(
      h,
      simpleRequest('rx-g3', 'rx-wake', { long_polling_timeout: { seconds: 8 } }),
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    await h.core.send([message('rx-wake', { body: Buffer.from('wake up') })]);
    const out = await pending;
    expect(bodiesOf(out)).toEqual(['wake up']);
    expect(out.elapsedMs).toBeLessThan(4_000);
  });

  it('ends a long poll 1 s before the call deadline with MESSAGE_NOT_FOUND, never DEADLINE_EXCEEDED', async () => {
    const out = await receiveCall(
      h,
      simpleRequest('rx-g4', 'rx-deadline', { long_polling_timeout: { seconds: 30 } }),
      {
        deadlineMs: 2_500,
      },
    );
    expect(out.error).toBeUndefined();
    expect(out.status.code).toBe(GRPC_OK);
    expect(frameKinds(out.frames)).toEqual([`status:${StatusCode.MESSAGE_NOT_FOUND}`, 'delivery_timestamp']);
    expect(out.elapsedMs).toBeGreaterThanOrEqual(1_200);
  });

  it('reads the whole topic for queue 0, −1 or any queue id', async () => {
    // Auto-created topics have 8 queues; sends spread over them.
    await h.core.send(Array.from({ length: 8 }, () => message('rx-queues')));
    for (const id of [0, -1, 5]) {
      const out = await receiveCall(
        h,
        simpleRequest(`rx-q${id}`, 'rx-queues', { message_queue: { ...queueZero('rx-queues'), id } }),
      );
      expect(messagesOf(out)).toHaveLength(8);
    }
  });

  it('clamps a batch of 100 to 32 messages', async () => {
    await h.core.send(Array.from({ length: 40 }, () => message('rx-batch')));
    const out = await receiveCall(h, simpleRequest('rx-g5', 'rx-batch', { batch_size: 100 }));
    expect(messagesOf(out)).toHaveLength(32);
  });

  it('filters by tag and by SQL92 over user properties', async () => {
    await h.core.send([
      message('rx-filter', { tag: 'a', userProperties: { n: '1' }, body: Buffer.from('a1') }),
      message('rx-filter', { tag: 'b', userProperties: { n: '5' }, body: Buffer.from('b5') }),
      message('rx-filter', { tag: 'a', userProperties: { n: '9' }, body: Buffer.from('a9') }),
    ]);
    const byTag = await receiveCall(
      h,
      simpleRequest('rx-tag', 'rx-filter', { filter_expression: { type: 1, expression: 'a' } }),
    );
    expect(bodiesOf(byTag).sort()).toEqual(['a1', 'a9']);
    const bySql = await receiveCall(
      h,
      simpleRequest('rx-sql', 'rx-filter', { filter_expression: { type: 2, expression: 'n > 3' } }),
    );
    expect(bodiesOf(bySql).sort()).toEqual(['a9', 'b5']);
  });

  it('splits a batch that would exceed 4 MiB: the rest comes with the next receive, no attempt counted', async () => {
    const big = (c: string): Buffer => Buffer.alloc(1.5 * MiB, c);
    await h.core.send([
      message('rx-big', { body: big('a'), messageGroup: undefined }),
      message('rx-big', { body: big('b') }),
      message('rx-big', { body: big('c') }),
    ]);
    const first = await receiveCall(h, simpleRequest('rx-g6', 'rx-big', { batch_size: 32 }));
    expect(first.error).toBeUndefined();
    expect(messagesOf(first)).toHaveLength(2);
    const second = await receiveCall(h, simpleRequest('rx-g6', 'rx-big', { batch_size: 32 }));
    const rest = messagesOf(second);
    expect(rest).toHaveLength(1);
    expect(rest[0]!.system_properties?.delivery_attempt).toBe(1);
    const firstBytes = messagesOf(first).map((m) => m.body![0]);
    expect([...firstBytes, rest[0]!.body![0]].map((b) => String.fromCharCode(b!)).sort()).toEqual([
      'a',
      'b',
      'c',
    ]);
  });

  it('does not lose a message sent after the client cancelled its long poll', async () => {
    const out = await receiveCall(
      h,
      simpleRequest('rx-g7', 'rx-cancel', { long_polling_timeout: { seconds: 8 } }),
      {
        onStart: (stream) => setTimeout(() => stream.cancel(), 300),
      },
    );
    expect(out.status.code).not.toBe(GRPC_OK);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await h.core.send([message('rx-cancel', { body: Buffer.from('after cancel') })]);
    expect(h.core.inFlightCount('rx-g7')).toBe(0);
    const next = await receiveCall(h, simpleRequest('rx-g7', 'rx-cancel'));
    expect(bodiesOf(next)).toEqual(['after cancel']);
    expect(messagesOf(next)[0]!.system_properties?.delivery_attempt).toBe(1);
  });

  describe('refuses bad requests with a single status frame and gRPC OK', () => {
    interface BadCase {
      readonly what: string;
      readonly request: () => Parameters<typeof receiveCall>[1];
      readonly code: number;
      readonly options?: Parameters<typeof receiveCall>[2];
    }
    const withoutInvisible = (): Parameters<typeof receiveCall>[1] => {
      const { invisible_duration: _omitted, ...rest } = simpleRequest('rx-gb', 'rx-bad');
      return rest;
    };
    const cases: BadCase[] = [
      {
        what: 'an illegal group',
        request: () => simpleRequest('bad group!', 'rx-bad'),
        code: StatusCode.ILLEGAL_CONSUMER_GROUP,
      },
      {
        what: 'a blank group',
        request: () => simpleRequest('', 'rx-bad'),
        code: StatusCode.ILLEGAL_CONSUMER_GROUP,
      },
      {
        what: 'no message queue',
        request: () => simpleRequest('rx-gb', 'x', { message_queue: null }),
        code: StatusCode.ILLEGAL_TOPIC,
      },
      {
        what: 'an illegal topic',
        request: () => simpleRequest('rx-gb', 'bad topic!'),
        code: StatusCode.ILLEGAL_TOPIC,
      },
      {
        what: 'broken SQL92',
        request: () =>
          simpleRequest('rx-gb', 'rx-bad', { filter_expression: { type: 2, expression: 'a >' } }),
        code: StatusCode.ILLEGAL_FILTER_EXPRESSION,
      },
      {
        what: 'an invisible duration under 10 s',
        request: () => simpleRequest('rx-gb', 'rx-bad', { invisible_duration: { seconds: 5 } }),
        code: StatusCode.ILLEGAL_INVISIBLE_TIME,
      },
      {
        what: 'an invisible duration over 12 h',
        request: () => simpleRequest('rx-gb', 'rx-bad', { invisible_duration: { seconds: 13 * 3600 } }),
        code: StatusCode.ILLEGAL_INVISIBLE_TIME,
      },
      {
        what: 'no invisible duration without auto-renew',
        request: withoutInvisible,
        code: StatusCode.ILLEGAL_INVISIBLE_TIME,
      },
      {
        what: 'a batch size of 0 (RELIABILITY.md §(d)11)',
        request: () => simpleRequest('rx-gb', 'rx-bad', { batch_size: 0 }),
        code: StatusCode.BAD_REQUEST,
      },
      {
        what: 'a negative batch size',
        request: () => simpleRequest('rx-gb', 'rx-bad', { batch_size: -3 }),
        code: StatusCode.BAD_REQUEST,
      },
      {
        what: 'no client id',
        request: () => simpleRequest('rx-gb', 'rx-bad'),
        code: StatusCode.CLIENT_ID_REQUIRED,
        options: { headers: { clientId: null } },
      },
    ];

    it.each(cases)('$what', async ({ request, code, options }) => {
      const out = await receiveCall(h, request(), options);
      expect(out.error).toBeUndefined();
      expect(out.status.code).toBe(GRPC_OK);
      expect(frameKinds(out.frames)).toEqual([`status:${code}`]);
    });
  });

  it('accepts an auto-renewed receive without an invisible duration (Push)', async () => {
    await h.core.send([message('rx-push', { body: Buffer.from('pushed') })]);
    const out = await receiveCall(h, pushRequest('rx-gp', 'rx-push', 'attempt-1'));
    expect(bodiesOf(out)).toEqual(['pushed']);
    expect(messagesOf(out)[0]!.system_properties?.invisible_duration).toEqual({ seconds: 60, nanos: 0 });
  });
});

describe('ReceiveMessage: topics and groups that must exist', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness({ core: { autoCreateTopics: false, autoCreateGroups: false } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers TOPIC_NOT_FOUND and CONSUMER_GROUP_NOT_FOUND when auto-creation is off', async () => {
    h.core.createGroup('known');
    const noTopic = await receiveCall(h, simpleRequest('known', 'nowhere'));
    expect(frameKinds(noTopic.frames)).toEqual([`status:${StatusCode.TOPIC_NOT_FOUND}`]);
    h.core.createTopic('somewhere');
    const noGroup = await receiveCall(h, simpleRequest('unknown', 'somewhere'));
    expect(frameKinds(noGroup.frames)).toEqual([`status:${StatusCode.CONSUMER_GROUP_NOT_FOUND}`]);
  });
});

describe('ReceiveMessage: server shutdown', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers a long poll under way with MESSAGE_NOT_FOUND and OK at once when the server shuts down', async () => {
    const pending = receiveCall(
      h,
      simpleRequest('rx-down', 'rx-down', { long_polling_timeout: { seconds: 20 } }),
      {
        deadlineMs: 25_000,
      },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    const closing = h.server.close(10_000);
    const out = await pending;
    await closing;
    expect(out.error).toBeUndefined();
    expect(out.status.code).toBe(GRPC_OK);
    expect(frameKinds(out.frames)).toEqual([`status:${StatusCode.MESSAGE_NOT_FOUND}`, 'delivery_timestamp']);
    expect(out.elapsedMs).toBeLessThan(5_000);
  });
});

describe('ReceiveMessage: leases of Push consumers', () => {
  let h: GrpcHarness;
  let clock: ManualClock;
  const probes: TelemetryProbe[] = [];

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2025, 0, 1));
    h = await startHarness({ core: { clock }, server: { clock } });
  });
  afterEach(async () => {
    for (const p of probes.splice(0)) p.stream.cancel();
    await h.close();
  });

  /** A Push consumer's telemetry stream, Settings answered. */
  async function pushConsumerOnline(group: string, topic: string): Promise<TelemetryProbe> {
    const t = openTelemetry(h);
    probes.push(t);
    t.send({ settings: consumerSettings(ClientType.PUSH_CONSUMER, group, [{ topic }]) });
    await t.frame(0);
    return t;
  }

  /** Moves broker time in 5 s steps (the registry's sweep period), letting I/O run between. */
  async function advance(ms: number): Promise<void> {
    for (let left = ms; left > 0; left -= 5_000) await clock.advanceAsync(Math.min(5_000, left));
  }

  /** A Push receive that does not wait (the manual clock would not move during a poll). */
  function push(group: string, topic: string, attemptId: string, batch = 32): Promise<ReceiveOutcome> {
    return receiveCall(
      h,
      pushRequest(group, topic, attemptId, { long_polling_timeout: { seconds: 0 }, batch_size: batch }),
    );
  }

  it('keeps renewing the lease of a live Push consumer: the message stays with it and its ack works after 10 min', async () => {
    await pushConsumerOnline('lease-g', 'lease-t');
    await h.core.send([message('lease-t', { body: Buffer.from('slow work') })]);
    const got = messagesOf(await push('lease-g', 'lease-t', 'a-1'));
    expect(got).toHaveLength(1);

    await advance(10 * 60_000);
    expect(messagesOf(await push('lease-g', 'lease-t', 'a-2'))).toEqual([]);
    expect(h.core.inFlightCount('lease-g')).toBe(1);
    expect(() => h.core.ack('lease-g', handleOf(got[0]!))).not.toThrow();
    expect(h.server.clients.trackedLeases(TEST_CLIENT_ID)).toBe(1); // dropped at its next renewal
    await advance(60_000);
    expect(h.server.clients.trackedLeases(TEST_CLIENT_ID)).toBe(0);
  });

  it('stops renewing after 3 h: the message then comes back with attempt 2', async () => {
    await pushConsumerOnline('cap-g', 'cap-t');
    await h.core.send([message('cap-t', { body: Buffer.from('stuck') })]);
    expect(messagesOf(await push('cap-g', 'cap-t', 'a-1'))).toHaveLength(1);
    await advance(3 * 3600_000 - 60_000);
    expect(messagesOf(await push('cap-g', 'cap-t', 'a-2'))).toEqual([]);
    await advance(2 * 60_000);
    // Standard groups redeliver through the retry topic after the group's first backoff (10 s).
    await advance(15_000);
    const again = messagesOf(await push('cap-g', 'cap-t', 'a-3'));
    expect(again.map((m) => m.body!.toString())).toEqual(['stuck']);
    expect(again[0]!.system_properties?.delivery_attempt).toBe(2);
  });

  it('hands the leases of a dead client back: no telemetry and no heartbeat for 60 s makes its messages visible again', async () => {
    const t = await pushConsumerOnline('dead-g', 'dead-t');
    await h.core.send([message('dead-t', { body: Buffer.from('orphan') })]);
    expect(messagesOf(await push('dead-g', 'dead-t', 'a-1'))).toHaveLength(1);
    t.halfClose();
    await t.closed();

    await advance(55_000);
    expect(h.core.inFlightCount('dead-g')).toBe(1); // still within 60 s of its last sign of life
    await advance(10_000);
    expect(h.core.inFlightCount('dead-g')).toBe(0);
    const other = await receiveCall(
      h,
      pushRequest('dead-g', 'dead-t', 'b-1', { long_polling_timeout: { seconds: 0 } }),
      { headers: { clientId: 'survivor@1@1@s' } },
    );
    const again = messagesOf(other);
    expect(again.map((m) => m.body!.toString())).toEqual(['orphan']);
    expect(again[0]!.system_properties?.delivery_attempt).toBe(1);
  });

  it("gives a standard group's repeated attempt id the messages of the failed receive again, same attempt, new handles", async () => {
    await pushConsumerOnline('retry-g', 'retry-t');
    await h.core.send([
      message('retry-t', { body: Buffer.from('m1') }),
      message('retry-t', { body: Buffer.from('m2') }),
    ]);
    const first = messagesOf(await push('retry-g', 'retry-t', 'attempt-X'));
    expect(first).toHaveLength(2);
    const again = messagesOf(await push('retry-g', 'retry-t', 'attempt-X'));
    expect(again.map((m) => m.body!.toString()).sort()).toEqual(['m1', 'm2']);
    expect(again.map((m) => m.system_properties?.delivery_attempt)).toEqual([1, 1]);
    expect(() => h.core.ack('retry-g', handleOf(first[0]!))).toThrow(
      expect.objectContaining({ code: StatusCode.INVALID_RECEIPT_HANDLE }),
    );
    for (const m of again) h.core.ack('retry-g', handleOf(m));
    // A new attempt id: the last receive arrived, nothing is handed back.
    expect(messagesOf(await push('retry-g', 'retry-t', 'attempt-Y'))).toEqual([]);
    expect(h.core.inFlightCount('retry-g')).toBe(0);
  });

  it("gives a FIFO group's repeated attempt id the same batch back: same messages, same attempts, new handles", async () => {
    h.core.createGroup('fifo-repop', { fifo: true });
    await pushConsumerOnline('fifo-repop', 'fifo-repop-t');
    for (const g of ['a', 'b']) {
      await h.core.send([message('fifo-repop-t', { messageGroup: g, body: Buffer.from(`${g}-0`) })]);
    }
    const bodies = (ms: Message[]): string[] => ms.map((m) => m.body!.toString()).sort();
    const first = messagesOf(await push('fifo-repop', 'fifo-repop-t', 'lost-answer'));
    expect(bodies(first)).toEqual(['a-0', 'b-0']);
    const again = messagesOf(await push('fifo-repop', 'fifo-repop-t', 'lost-answer'));
    expect(bodies(again)).toEqual(['a-0', 'b-0']);
    expect(again.map((m) => m.system_properties?.delivery_attempt)).toEqual([1, 1]);
    expect(again.map(handleOf)).not.toEqual(first.map(handleOf));
    expect(() => h.core.ack('fifo-repop', handleOf(first[0]!))).toThrow(
      expect.objectContaining({ code: StatusCode.INVALID_RECEIPT_HANDLE }),
    );
    for (const m of again) h.core.ack('fifo-repop', handleOf(m));
    expect(h.core.inFlightCount('fifo-repop')).toBe(0);
  });

  it("brings a Simple consumer's message back as soon as its lease ends, with attempt 2", async () => {
    await h.core.send([message('simple-lease-t', { body: Buffer.from('retry me') })]);
    const simple = (): Promise<ReceiveOutcome> =>
      receiveCall(
        h,
        simpleRequest('simple-lease-g', 'simple-lease-t', {
          long_polling_timeout: { seconds: 0 },
          invisible_duration: { seconds: 10 },
        }),
      );
    expect(messagesOf(await simple())).toHaveLength(1);
    await advance(5_000);
    expect(messagesOf(await simple())).toEqual([]);
    await advance(5_000);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the retry copy is stored
    const again = messagesOf(await simple());
    expect(again.map((m) => m.body!.toString())).toEqual(['retry me']);
    expect(again[0]!.system_properties?.delivery_attempt).toBe(2);
  });

  it('delivers FIFO message groups in order across receives, never two in flight of one group', async () => {
    h.core.createGroup('fifo-g', { fifo: true });
    await pushConsumerOnline('fifo-g', 'fifo-t');
    const groups = ['g1', 'g2', 'g3'];
    const sends: SendRequest[] = [];
    for (let i = 0; i < 4; i++) {
      for (const g of groups)
        sends.push(message('fifo-t', { messageGroup: g, body: Buffer.from(`${g}-${i}`) }));
    }
    for (const s of sends) await h.core.send([s]); // one by one: the store order is the send order

    const seen = new Map<string, string[]>(groups.map((g) => [g, []]));
    let attempt = 0;
    for (let round = 0; round < 20 && [...seen.values()].some((v) => v.length < 4); round++) {
      const got = messagesOf(await push('fifo-g', 'fifo-t', `fifo-${attempt++}`, 2));
      // Nothing more of a group while one of its messages is in flight: a second receive before
      // the acks gets none of the groups just delivered.
      const inFlight = new Set(got.map((m) => m.system_properties!.message_group!));
      const meanwhile = messagesOf(await push('fifo-g', 'fifo-t', `fifo-${attempt++}`, 32));
      for (const m of meanwhile) expect(inFlight.has(m.system_properties!.message_group!)).toBe(false);
      for (const m of [...got, ...meanwhile]) {
        seen.get(m.system_properties!.message_group!)!.push(m.body!.toString());
        h.core.ack('fifo-g', handleOf(m));
      }
    }
    for (const g of groups) expect(seen.get(g)).toEqual([0, 1, 2, 3].map((i) => `${g}-${i}`));
  });
});

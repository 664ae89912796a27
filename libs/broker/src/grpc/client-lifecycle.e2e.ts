import { StatusCode } from '../status-code.js';
import {
  ClientType,
  type HeartbeatResponse,
  type NotifyClientTerminationResponse,
  type SendMessageResponse,
} from './proto-types.js';
import {
  protoMessage,
  receiveFromCore,
  startHarness,
  TEST_CLIENT_ID,
  type GrpcHarness,
} from './testing/grpc-harness.js';

describe('Heartbeat', () => {
  let h: GrpcHarness;
  const heartbeat = (request: object) => h.call<HeartbeatResponse>('Heartbeat', request);

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers OK to a producer without any earlier Settings', async () => {
    expect((await heartbeat({ client_type: ClientType.PRODUCER })).status).toEqual({
      code: StatusCode.OK,
      message: 'OK',
    });
  });

  it.each([
    ['push', ClientType.PUSH_CONSUMER],
    ['simple', ClientType.SIMPLE_CONSUMER],
  ])('answers OK to a %s consumer with its group', async (_what, clientType) => {
    const res = await heartbeat({ client_type: clientType, group: { name: 'hb-group' } });
    expect(res.status!.code).toBe(StatusCode.OK);
  });

  it.each([
    ['unspecified', ClientType.UNSPECIFIED],
    ['a pull consumer', ClientType.PULL_CONSUMER],
    ['a lite push consumer', ClientType.LITE_PUSH_CONSUMER],
    ['an unknown number', 99],
  ])('answers UNRECOGNIZED_CLIENT_TYPE for %s', async (_what, clientType) => {
    expect((await heartbeat({ client_type: clientType })).status!.code).toBe(
      StatusCode.UNRECOGNIZED_CLIENT_TYPE,
    );
  });

  it.each([
    ['without a group', {}],
    ['with an illegal group', { group: { name: 'bad group' } }],
    ['with a system group', { group: { name: 'CID_RMQ_SYS_TRANS' } }],
  ])('answers ILLEGAL_CONSUMER_GROUP for a consumer %s', async (_what, extra) => {
    const res = await heartbeat({ client_type: ClientType.SIMPLE_CONSUMER, ...extra });
    expect(res.status!.code).toBe(StatusCode.ILLEGAL_CONSUMER_GROUP);
  });
});

describe('NotifyClientTermination', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it("makes the client's leased messages visible again at once", async () => {
    const sent = await h.call<SendMessageResponse>('SendMessage', {
      messages: [protoMessage({ topic: 'terminate-topic' })],
    });
    expect(sent.status!.code).toBe(StatusCode.OK);
    const request = { group: 'terminate-group', topic: 'terminate-topic', invisibleMs: 60_000 };
    const [leased] = await receiveFromCore(h.core, { ...request, clientId: TEST_CLIENT_ID });
    expect(leased).toBeDefined();
    expect(h.core.receive(request)).toEqual([]);

    const res = await h.call<NotifyClientTerminationResponse>('NotifyClientTermination', {
      group: { name: 'terminate-group' },
    });
    expect(res.status).toEqual({ code: StatusCode.OK, message: 'OK' });
    const again = await receiveFromCore(h.core, request);
    expect(again.map((m) => [m.message.messageId, m.deliveryAttempt])).toEqual([
      [leased!.message.messageId, 1],
    ]);
  });

  it('answers OK for a producer (no group)', async () => {
    expect((await h.call<NotifyClientTerminationResponse>('NotifyClientTermination', {})).status!.code).toBe(
      StatusCode.OK,
    );
  });

  it('answers ILLEGAL_CONSUMER_GROUP for an illegal group', async () => {
    const res = await h.call<NotifyClientTerminationResponse>('NotifyClientTermination', {
      group: { name: 'bad group' },
    });
    expect(res.status!.code).toBe(StatusCode.ILLEGAL_CONSUMER_GROUP);
  });
});

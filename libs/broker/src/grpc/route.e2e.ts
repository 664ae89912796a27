import { StatusCode } from '../status-code.js';
import {
  AddressScheme,
  Permission,
  ProtoMessageType,
  type QueryAssignmentResponse,
  type QueryRouteResponse,
} from './proto-types.js';
import { startHarness, type GrpcHarness } from './testing/grpc-harness.js';

const ALL_TYPES = [
  ProtoMessageType.NORMAL,
  ProtoMessageType.FIFO,
  ProtoMessageType.DELAY,
  ProtoMessageType.TRANSACTION,
];

describe('QueryRoute', () => {
  let h: GrpcHarness;
  const route = (topic: string, namespace?: string) =>
    h.call<QueryRouteResponse>(
      'QueryRoute',
      { topic: { name: topic }, endpoints: { scheme: 1, addresses: [{ host: '127.0.0.1', port: h.port }] } },
      namespace === undefined ? {} : { namespace },
    );

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('auto-creates an unknown topic and returns all its queues, queue 0 first, READ_WRITE, on this broker', async () => {
    const res = await route('route-auto');
    expect(res.status).toEqual({ code: StatusCode.OK, message: 'OK' });
    expect(h.core.getTopic('route-auto')?.queueCount).toBe(8);
    expect(res.message_queues!.map((q) => q.id)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    for (const q of res.message_queues!) {
      expect(q.topic).toEqual({ name: 'route-auto', resource_namespace: '' });
      expect(q.permission).toBe(Permission.READ_WRITE);
      expect(q.accept_message_types).toEqual(ALL_TYPES);
      expect(q.broker).toEqual({
        name: 'broker-0',
        id: 0,
        endpoints: { scheme: AddressScheme.IPv4, addresses: [{ host: '127.0.0.1', port: h.port }] },
      });
    }
  });

  it('returns identical endpoints on every refresh', async () => {
    const first = await route('route-stable');
    const second = await route('route-stable');
    expect(second.message_queues).toEqual(first.message_queues);
  });

  it("advertises the topic's own message types and queue count", async () => {
    h.core.createTopic('route-fifo-only', { queueCount: 3, messageTypes: ['FIFO'] });
    const res = await route('route-fifo-only');
    expect(res.message_queues!.map((q) => q.id)).toEqual([0, 1, 2]);
    expect(res.message_queues![0]!.accept_message_types).toEqual([ProtoMessageType.FIFO]);
  });

  it('applies the namespace header: the topic is created as <ns>%<topic> and shown without it', async () => {
    const res = await route('route-ns', 'tenant1');
    expect(res.status!.code).toBe(StatusCode.OK);
    expect(h.core.getTopic('tenant1%route-ns')).toBeDefined();
    expect(h.core.getTopic('route-ns')).toBeUndefined();
    expect(res.message_queues![0]!.topic).toEqual({ name: 'route-ns', resource_namespace: 'tenant1' });
  });

  it.each([
    ['a blank topic', ''],
    ['a whitespace topic', '   '],
    ['illegal characters', 'orders.created'],
    ['a topic of 128 characters', 'x'.repeat(128)],
    ['the system topic TBW102', 'TBW102'],
    ['an RMQ_SYS_ topic', 'RMQ_SYS_TRANS_HALF_TOPIC'],
    ['an rmq_sys_ topic', 'rmq_sys_wheel'],
    ['SCHEDULE_TOPIC_XXXX', 'SCHEDULE_TOPIC_XXXX'],
  ])('answers ILLEGAL_TOPIC for %s', async (_what, topic) => {
    const res = await route(topic);
    expect(res.status!.code).toBe(StatusCode.ILLEGAL_TOPIC);
    expect(res.message_queues).toEqual([]);
  });

  it('accepts a topic of exactly 127 characters', async () => {
    expect((await route('y'.repeat(127))).status!.code).toBe(StatusCode.OK);
  });

  it('answers ILLEGAL_TOPIC for a request without a topic', async () => {
    const res = await h.call<QueryRouteResponse>('QueryRoute', {});
    expect(res.status!.code).toBe(StatusCode.ILLEGAL_TOPIC);
  });
});

describe('QueryRoute without auto-creation', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness({ core: { autoCreateTopics: false, autoCreateGroups: false } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers TOPIC_NOT_FOUND (never OK with zero queues) for an unknown topic', async () => {
    const res = await h.call<QueryRouteResponse>('QueryRoute', { topic: { name: 'nowhere' } });
    expect(res.status!.code).toBe(StatusCode.TOPIC_NOT_FOUND);
    expect(res.message_queues).toEqual([]);
  });

  it('answers CONSUMER_GROUP_NOT_FOUND from QueryAssignment for an unknown group, creating no topic', async () => {
    const res = await h.call<QueryAssignmentResponse>('QueryAssignment', {
      topic: { name: 'nowhere-either' },
      group: { name: 'no-such-group' },
    });
    expect(res.status!.code).toBe(StatusCode.CONSUMER_GROUP_NOT_FOUND);
    expect(h.core.getTopic('nowhere-either')).toBeUndefined();
  });

  it('answers TOPIC_NOT_FOUND from QueryAssignment for an unknown topic of a known group', async () => {
    h.core.createGroup('known-group');
    const res = await h.call<QueryAssignmentResponse>('QueryAssignment', {
      topic: { name: 'nowhere' },
      group: { name: 'known-group' },
    });
    expect(res.status!.code).toBe(StatusCode.TOPIC_NOT_FOUND);
  });
});

describe('QueryRoute with an advertised endpoint', () => {
  let h: GrpcHarness;

  beforeAll(async () => {
    h = await startHarness({ server: { advertisedEndpoint: 'broker.example:9876' } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('names the configured host as a DOMAIN_NAME endpoint', async () => {
    const res = await h.call<QueryRouteResponse>('QueryRoute', { topic: { name: 'advertised' } });
    expect(res.message_queues![0]!.broker!.endpoints).toEqual({
      scheme: AddressScheme.DOMAIN_NAME,
      addresses: [{ host: 'broker.example', port: 9876 }],
    });
  });
});

describe('QueryAssignment', () => {
  let h: GrpcHarness;
  const assignment = (topic: string, group: string) =>
    h.call<QueryAssignmentResponse>('QueryAssignment', { topic: { name: topic }, group: { name: group } });

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('assigns the whole topic (queue -1) on this broker and creates group and topic', async () => {
    const res = await assignment('assigned', 'assigned-group');
    expect(res.status!.code).toBe(StatusCode.OK);
    expect(res.assignments).toEqual([
      {
        message_queue: {
          topic: { name: 'assigned', resource_namespace: '' },
          id: -1,
          permission: Permission.READ_WRITE,
          broker: {
            name: 'broker-0',
            id: 0,
            endpoints: { scheme: AddressScheme.IPv4, addresses: [{ host: '127.0.0.1', port: h.port }] },
          },
          accept_message_types: ALL_TYPES,
        },
      },
    ]);
    expect(h.core.getGroup('assigned-group')).toBeDefined();
    expect(await assignment('assigned', 'assigned-group')).toEqual(res);
  });

  it.each([
    ['a blank group', ''],
    ['illegal characters', 'group.one'],
    ['a group of 121 characters', 'g'.repeat(121)],
    ['a system group', 'CID_RMQ_SYS_TRANS'],
  ])('answers ILLEGAL_CONSUMER_GROUP for %s', async (_what, group) => {
    const res = await assignment('assigned', group);
    expect(res.status!.code).toBe(StatusCode.ILLEGAL_CONSUMER_GROUP);
    expect(res.assignments).toEqual([]);
  });

  it('answers ILLEGAL_TOPIC for an illegal topic', async () => {
    expect((await assignment('bad topic', 'g1')).status!.code).toBe(StatusCode.ILLEGAL_TOPIC);
  });
});

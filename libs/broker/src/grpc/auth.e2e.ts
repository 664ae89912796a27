import { formatDateTime } from './auth.js';
import { StatusCode } from '../status-code.js';
import {
  ClientType,
  type AckMessageResponse,
  type HeartbeatResponse,
  type QueryAssignmentResponse,
  type QueryRouteResponse,
  type SendMessageResponse,
  type Status,
} from './proto-types.js';
import { protoMessage, startHarness, type GrpcHarness, type HeaderOptions } from './testing/grpc-harness.js';

const PRODUCER = { accessKey: 'producer-ak', secretKey: 'producer-secret' };
const CONSUMER = { accessKey: 'consumer-ak', secretKey: 'consumer-secret' };
const ADMIN = { accessKey: 'admin-ak', secretKey: 'admin-secret' };

describe('authentication and allow lists', () => {
  let h: GrpcHarness;
  const send = (topic: string, headers: HeaderOptions) =>
    h.call<SendMessageResponse>('SendMessage', { messages: [protoMessage({ topic })] }, headers);
  const codeOf = (res: { status?: Status }) => res.status?.code;

  beforeAll(async () => {
    h = await startHarness({
      auth: {
        users: [
          { ...PRODUCER, topics: ['orders', 'payments-*'], groups: [] },
          { ...CONSUMER, topics: [], groups: ['billing'] },
          { ...ADMIN },
        ],
      },
    });
    h.core.createTopic('existing');
  });
  afterAll(async () => {
    await h.close();
  });

  it('serves a call signed with good credentials', async () => {
    const res = await send('orders', { credentials: PRODUCER });
    expect(codeOf(res)).toBe(StatusCode.OK);
    expect(res.entries).toHaveLength(1);
  });

  it('answers UNAUTHORIZED to a call signed with a wrong secret, storing nothing', async () => {
    const res = await send('orders', { credentials: { ...PRODUCER, secretKey: 'guess' } });
    expect(codeOf(res)).toBe(StatusCode.UNAUTHORIZED);
    expect(res.entries).toEqual([]);
  });

  it('answers UNAUTHORIZED to an unknown access key', async () => {
    expect(codeOf(await send('orders', { credentials: { accessKey: 'nobody', secretKey: 'x' } }))).toBe(
      StatusCode.UNAUTHORIZED,
    );
  });

  it('answers UNAUTHORIZED to a call signed 20 minutes ago (replay)', async () => {
    const dateTime = formatDateTime(Date.now() - 20 * 60_000);
    expect(codeOf(await send('orders', { credentials: PRODUCER, dateTime }))).toBe(StatusCode.UNAUTHORIZED);
  });

  it('answers UNAUTHORIZED to an unsigned call', async () => {
    expect(codeOf(await send('orders', {}))).toBe(StatusCode.UNAUTHORIZED);
  });

  it('answers UNAUTHORIZED to a malformed authorization header', async () => {
    expect(codeOf(await send('orders', { authorization: 'Basic dXNlcjpwYXNz' }))).toBe(
      StatusCode.UNAUTHORIZED,
    );
  });

  it('checks credentials before anything else, even on unsupported RPCs', async () => {
    expect(codeOf(await h.call('GetOffset', {}, {}))).toBe(StatusCode.UNAUTHORIZED);
  });

  it('answers FORBIDDEN to a publish outside the allow list', async () => {
    const res = await send('invoices', { credentials: PRODUCER });
    expect(codeOf(res)).toBe(StatusCode.FORBIDDEN);
    expect(h.core.getTopic('invoices')).toBeUndefined();
  });

  it('allows topics matching a prefix entry', async () => {
    expect(codeOf(await send('payments-eu', { credentials: PRODUCER }))).toBe(StatusCode.OK);
  });

  it('answers FORBIDDEN to a consumer publishing', async () => {
    expect(codeOf(await send('orders', { credentials: CONSUMER }))).toBe(StatusCode.FORBIDDEN);
  });

  it('answers FORBIDDEN to EndTransaction on a topic outside the allow list', async () => {
    const res = await h.call(
      'EndTransaction',
      { topic: { name: 'invoices' }, message_id: 'm', transaction_id: 't', resolution: 1, source: 1 },
      { credentials: PRODUCER },
    );
    expect(codeOf(res)).toBe(StatusCode.FORBIDDEN);
  });

  it('answers FORBIDDEN to an ack with a group outside the allow list', async () => {
    const res = await h.call<AckMessageResponse>(
      'AckMessage',
      { group: { name: 'shipping' }, topic: { name: 'orders' }, entries: [{ receipt_handle: 'x' }] },
      { credentials: CONSUMER },
    );
    expect(codeOf(res)).toBe(StatusCode.FORBIDDEN);
  });

  it('lets an allowed group through to the receipt check', async () => {
    const res = await h.call<AckMessageResponse>(
      'AckMessage',
      { group: { name: 'billing' }, topic: { name: 'orders' }, entries: [{ receipt_handle: 'x' }] },
      { credentials: CONSUMER },
    );
    expect(codeOf(res)).toBe(StatusCode.INVALID_RECEIPT_HANDLE);
  });

  it('answers FORBIDDEN to QueryAssignment and Heartbeat with a group outside the allow list', async () => {
    const assignment = await h.call<QueryAssignmentResponse>(
      'QueryAssignment',
      { topic: { name: 'orders' }, group: { name: 'shipping' } },
      { credentials: CONSUMER },
    );
    const heartbeat = await h.call<HeartbeatResponse>(
      'Heartbeat',
      { client_type: ClientType.PUSH_CONSUMER, group: { name: 'shipping' } },
      { credentials: CONSUMER },
    );
    expect([codeOf(assignment), codeOf(heartbeat)]).toEqual([StatusCode.FORBIDDEN, StatusCode.FORBIDDEN]);
  });

  it('routes an existing topic for any authenticated user', async () => {
    const res = await h.call<QueryRouteResponse>(
      'QueryRoute',
      { topic: { name: 'existing' } },
      { credentials: CONSUMER },
    );
    expect(codeOf(res)).toBe(StatusCode.OK);
  });

  it('creates a topic through QueryRoute only for a user who may publish to it', async () => {
    const consumer = await h.call<QueryRouteResponse>(
      'QueryRoute',
      { topic: { name: 'payments-us' } },
      { credentials: CONSUMER },
    );
    expect(codeOf(consumer)).toBe(StatusCode.TOPIC_NOT_FOUND);
    expect(h.core.getTopic('payments-us')).toBeUndefined();
    const producer = await h.call<QueryRouteResponse>(
      'QueryRoute',
      { topic: { name: 'payments-us' } },
      { credentials: PRODUCER },
    );
    expect(codeOf(producer)).toBe(StatusCode.OK);
  });

  it('lets a user without allow lists use every topic and group', async () => {
    expect(codeOf(await send('anything', { credentials: ADMIN }))).toBe(StatusCode.OK);
  });
});

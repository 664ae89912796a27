/**
 * ClientRegistry over a real BrokerCore on a ManualClock: liveness, death, lease renewal, check-back
 * routing, attempt-id retries, shutdown.
 */
import { CoreHarness, HOUR, MINUTE, SECOND } from '../core/broker-core-testing.js';
import {
  AUTO_RENEW_LEASE_MS,
  CLIENT_EXPIRY_MS,
  ClientRegistry,
  type TelemetryChannel,
} from './client-registry.js';
import { ClientType, type TelemetryCommand } from './proto-types.js';

class FakeChannel implements TelemetryChannel {
  readonly sent: TelemetryCommand[] = [];
  ended = 0;
  constructor(readonly namespace = '') {}
  send(command: TelemetryCommand): boolean {
    this.sent.push(command);
    return true;
  }
  end(): void {
    this.ended++;
  }
}

let h: CoreHarness;
let registry: ClientRegistry;

beforeEach(async () => {
  h = await CoreHarness.open();
  registry = new ClientRegistry({ core: h.core, clock: h.clock, logger: h.logger });
});
afterEach(async () => {
  registry.close();
  await h.close();
});

const settings = (clientType: number, topics: string[] = [], group?: string) => ({
  clientType,
  topics,
  ...(group === undefined ? {} : { group }),
  receivedAt: h.clock.now(),
});

/** Receives everything visible for `client` with a Push-style 60 s lease, tracked for renewal. */
function receiveAutoRenewed(client: string, group: string, topic: string) {
  const got = h.core.receive({ group, topic, invisibleMs: AUTO_RENEW_LEASE_MS, clientId: client });
  registry.trackAutoRenew(client, group, got);
  return got;
}

describe('ClientRegistry: liveness', () => {
  it('keeps a client heard from within 60 s alive and forgets it after', async () => {
    registry.touch('c1', ClientType.SIMPLE_CONSUMER, 'g');
    await h.advance(CLIENT_EXPIRY_MS - SECOND);
    expect(registry.isAlive('c1')).toBe(true);
    registry.touch('c1');
    await h.advance(CLIENT_EXPIRY_MS - SECOND);
    expect(registry.isAlive('c1')).toBe(true);
    await h.advance(10 * SECOND);
    expect(registry.isAlive('c1')).toBe(false);
    expect(registry.size).toBe(0);
  });

  it('keeps a client with an open telemetry stream alive however long it is silent', async () => {
    const detach = registry.attachChannel('c1', new FakeChannel());
    await h.advance(HOUR);
    expect(registry.isAlive('c1')).toBe(true);
    detach();
    await h.advance(CLIENT_EXPIRY_MS - SECOND);
    expect(registry.isAlive('c1')).toBe(true); // 60 s from the stream's end
    await h.advance(10 * SECOND);
    expect(registry.isAlive('c1')).toBe(false);
  });

  it("hands a dead client's leases back at once, without counting an attempt", async () => {
    await h.send('t');
    registry.touch('c1', ClientType.PUSH_CONSUMER, 'g');
    expect(receiveAutoRenewed('c1', 'g', 't')).toHaveLength(1);
    await h.advance(CLIENT_EXPIRY_MS + 5 * SECOND);
    expect(h.core.inFlightCount('g')).toBe(0);
    const [again] = h.receive('g', 't');
    expect(again?.deliveryAttempt).toBe(1);
    expect(h.logger.lines.some((l) => l.includes('c1 gone') && l.includes('1 leased'))).toBe(true);
  });

  it('terminate forgets the client and hands its leases back at once', async () => {
    await h.send('t');
    registry.updateSettings('c1', settings(ClientType.SIMPLE_CONSUMER, [], 'g'));
    h.core.receive({ group: 'g', topic: 't', invisibleMs: 30 * SECOND, clientId: 'c1' });
    registry.terminate('c1', 'g');
    expect(registry.settingsOf('c1')).toBeUndefined();
    expect(h.core.inFlightCount('g')).toBe(0);
    expect(h.receive('g', 't')).toHaveLength(1);
  });

  it('terminate of a client never seen does nothing and logs nothing', () => {
    registry.terminate('nobody');
    expect(h.logger.lines).toEqual([]);
  });
});

describe('ClientRegistry: lease renewal', () => {
  it('renews auto-renewed leases while the client lives, so the message is not redelivered', async () => {
    await h.send('t');
    registry.attachChannel('c1', new FakeChannel());
    const [m] = receiveAutoRenewed('c1', 'g', 't');
    await h.advance(30 * MINUTE);
    expect(h.receive('g', 't')).toEqual([]);
    expect(h.core.inFlightCount('g')).toBe(1);
    expect(() => h.core.ack('g', m!.receiptHandle)).not.toThrow();
  });

  it('drops a lease from renewal once it was acked', async () => {
    await h.send('t');
    registry.attachChannel('c1', new FakeChannel());
    const [m] = receiveAutoRenewed('c1', 'g', 't');
    h.core.ack('g', m!.receiptHandle);
    await h.advance(AUTO_RENEW_LEASE_MS);
    expect(registry.trackedLeases('c1')).toBe(0);
    expect(h.logger.lines.filter((l) => l.startsWith('warn'))).toEqual([]);
  });

  it('stops renewing 3 h after the receive: the lease runs out and the message comes back with attempt 2', async () => {
    await h.send('t');
    registry.attachChannel('c1', new FakeChannel());
    receiveAutoRenewed('c1', 'g', 't');
    await h.advance(3 * HOUR - MINUTE);
    expect(h.core.inFlightCount('g')).toBe(1);
    await h.advance(2 * MINUTE); // the last renewal ended exactly at 3 h
    expect(registry.trackedLeases('c1')).toBe(0);
    await h.advance(MINUTE); // the group's first retry backoff (10 s) passes
    const [again] = h.receive('g', 't');
    expect(again?.deliveryAttempt).toBe(2);
  });

  it('does not renew the leases of a client that died', async () => {
    await h.send('t');
    registry.touch('c1');
    receiveAutoRenewed('c1', 'g', 't');
    await h.advance(2 * MINUTE);
    expect(registry.trackedLeases('c1')).toBe(0);
    expect(h.receive('g', 't')[0]?.deliveryAttempt).toBe(1);
  });
});

describe('ClientRegistry: check-back routing', () => {
  it('picks the sender when it is connected, else a connected producer of the topic', () => {
    const a = new FakeChannel();
    const b = new FakeChannel();
    registry.attachChannel('a', a);
    registry.updateSettings('a', settings(ClientType.PRODUCER, ['orders']));
    h.clock.advance(SECOND);
    registry.attachChannel('b', b);
    registry.updateSettings('b', settings(ClientType.PRODUCER, ['orders']));
    expect(registry.producerChannelFor('orders')).toBe(b); // heard from last
    registry.noteTransactionSender('tx-1', 'a');
    expect(registry.producerChannelFor('orders', 'tx-1')).toBe(a);
    expect(registry.producerChannelFor('payments')).toBeUndefined();
  });

  it('never picks a consumer, a producer of other topics, or a producer whose stream closed', () => {
    const consumer = new FakeChannel();
    registry.attachChannel('c', consumer);
    registry.updateSettings('c', settings(ClientType.PUSH_CONSUMER, ['orders'], 'g'));
    const other = new FakeChannel();
    registry.attachChannel('o', other);
    registry.updateSettings('o', settings(ClientType.PRODUCER, ['payments']));
    const gone = new FakeChannel();
    const detach = registry.attachChannel('p', gone);
    registry.updateSettings('p', settings(ClientType.PRODUCER, ['orders']));
    detach();
    registry.noteTransactionSender('tx-2', 'p');
    expect(registry.producerChannelFor('orders', 'tx-2')).toBeUndefined();
  });
});

describe('ClientRegistry: close', () => {
  it('ends every stream once, also of terminated clients, and stops its timer', () => {
    const coreTimers = h.clock.pending;
    const a = new FakeChannel();
    const b = new FakeChannel();
    registry.attachChannel('a', a);
    registry.attachChannel('b', b);
    expect(h.clock.pending).toBe(coreTimers + 1); // the sweep
    registry.terminate('b');
    registry.close();
    registry.close();
    expect([a.ended, b.ended]).toEqual([1, 1]);
    expect(h.clock.pending).toBe(coreTimers);
    // A stream opening after close is ended at once.
    const late = new FakeChannel();
    registry.attachChannel('c', late);
    expect(late.ended).toBe(1);
  });
});

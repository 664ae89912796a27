/**
 * RocketMQServer serving @EventPattern handlers of a Nest microservice on a real built-in broker:
 * payloads and context, topic:tag routing, outcomes (ack, retry, DLQ, Reconsume), messages without
 * a handler or with a body that does not decode, status and lifecycle.
 */
import { Controller, Injectable } from '@nestjs/common';
import { Ctx, EventPattern, Payload } from '@nestjs/microservices';
import { ConsumeResult, Filter, Reconsume, type Consumer } from '../../client/index.js';
import { deadLetterIds, delay, waitFor } from '../../client/consumer/testing/consumer-testing.js';
import { RocketMQContext } from '../context/rocketmq-context.js';
import { PayloadDecodeError } from '../serialization/payload-codec.js';
import { RocketMQServer, type RocketMQServerInternals } from './rocketmq-server.js';
import { startApp, useTransportBroker, type TestApp } from './testing/transport-testing.js';
import { NoHandlerError } from './transport-errors.js';
import { RocketMQTransportStatus } from './transport-status.js';

/** What handlers saw, shared by the test and the controllers. */
@Injectable()
class Seen {
  readonly events: Array<{ handler: string; payload: unknown; ctx: RocketMQContext }> = [];
  behaviour: (payload: unknown, ctx: RocketMQContext) => unknown = () => undefined;
  record(handler: string, payload: unknown, ctx: RocketMQContext): unknown {
    this.events.push({ handler, payload, ctx });
    return this.behaviour(payload, ctx);
  }
  of(handler: string) {
    return this.events.filter((e) => e.handler === handler);
  }
}

const env = useTransportBroker();

async function start(
  controllers: Array<new (...args: never[]) => unknown>,
  server: Parameters<typeof startApp>[1]['server'],
): Promise<TestApp & { seen: Seen }> {
  const app = await startApp(env.fixture, { controllers, providers: [Seen], server });
  env.closeAfterTest(app);
  return Object.assign(app, { seen: app.get(Seen) });
}

@Controller()
class PayloadController {
  constructor(private readonly seen: Seen) {}
  @EventPattern<string>('srv-payload')
  handle(@Payload() payload: unknown, @Ctx() ctx: RocketMQContext) {
    return this.seen.record('payload', payload, ctx);
  }
}

it('an event handler receives the payload as sent and the RocketMQContext of its message', async () => {
  const { seen } = await start([PayloadController], { group: 'srv-payload-g' });
  const before = Date.now();
  const receipt = await env.sender.send(
    'srv-payload',
    { orderId: 7, items: ['a', 'b'] },
    { tag: 'created', keys: ['order-7'], properties: { tenant: 'acme' } },
  );
  await env.sender.send('srv-payload', 'plain text');
  await env.sender.send('srv-payload', Buffer.from([0, 1, 2, 255]));
  await waitFor(() => seen.events.length === 3, 'three events');
  const byPayload = (p: (x: unknown) => boolean) => seen.events.find((e) => p(e.payload))!;
  const json = byPayload((p) => typeof p === 'object' && p !== null && !Buffer.isBuffer(p));
  expect(json.payload).toEqual({ orderId: 7, items: ['a', 'b'] });
  expect(byPayload((p) => typeof p === 'string').payload).toBe('plain text');
  expect(byPayload((p) => Buffer.isBuffer(p)).payload).toEqual(Buffer.from([0, 1, 2, 255]));
  const ctx = json.ctx;
  expect(ctx).toBeInstanceOf(RocketMQContext);
  expect(ctx.getMessageId()).toBe(receipt.messageId);
  expect(ctx.getTopic()).toBe('srv-payload');
  expect(ctx.getTag()).toBe('created');
  expect(ctx.getKeys()).toEqual(['order-7']);
  expect(ctx.getProperties()['tenant']).toBe('acme');
  expect(ctx.getDeliveryAttempt()).toBe(1);
  expect(ctx.getBornTimestamp()).toBeGreaterThanOrEqual(before - 1_000);
  expect(ctx.getGroup()).toBe('srv-payload-g');
  expect(ctx.getPattern()).toBe('srv-payload');
  expect(ctx.getMessage().body.length).toBeGreaterThan(0);
  await waitFor(() => env.fixture.broker.core.lag('srv-payload-g', 'srv-payload').total === 0, 'all acked');
});

@Controller()
class RoutingController {
  constructor(private readonly seen: Seen) {}
  @EventPattern<string>('srv-orders:created')
  created(@Payload() p: unknown, @Ctx() ctx: RocketMQContext) {
    return this.seen.record('created', p, ctx);
  }
  @EventPattern<string>('srv-orders:paid')
  paid(@Payload() p: unknown, @Ctx() ctx: RocketMQContext) {
    return this.seen.record('paid', p, ctx);
  }
  @EventPattern<string>('srv-audit')
  audit(@Payload() p: unknown, @Ctx() ctx: RocketMQContext) {
    return this.seen.record('audit', p, ctx);
  }
  @EventPattern<string>('srv-audit:special')
  special(@Payload() p: unknown, @Ctx() ctx: RocketMQContext) {
    return this.seen.record('special', p, ctx);
  }
}

it('topic:tag patterns route by tag; a topic pattern takes the other tags; unhandled tags are not delivered', async () => {
  const { seen } = await start([RoutingController], { group: 'srv-routing-g' });
  await env.sender.send('srv-orders', 'c1', { tag: 'created' });
  await env.sender.send('srv-orders', 'p1', { tag: 'paid' });
  await env.sender.send('srv-orders', 'x1', { tag: 'cancelled' }); // no handler: filtered out by the server
  await env.sender.send('srv-orders', 'n1'); // no tag: filtered out too
  await env.sender.send('srv-audit', 'a1', { tag: 'anything' });
  await env.sender.send('srv-audit', 'a2');
  await env.sender.send('srv-audit', 's1', { tag: 'special' });
  await waitFor(() => seen.events.length >= 5, 'five events');
  await waitFor(
    () => env.fixture.broker.core.lag('srv-routing-g', 'srv-orders').total === 0,
    'orders consumed',
  );
  await delay(300);
  const by = (h: string) => seen.of(h).map((e) => e.payload);
  expect(by('created')).toEqual(['c1']);
  expect(by('paid')).toEqual(['p1']);
  expect(by('audit').sort()).toEqual(['a1', 'a2']);
  expect(by('special')).toEqual(['s1']);
  expect(seen.of('created')[0]!.ctx.getPattern()).toBe('srv-orders:created');
  expect(
    seen
      .of('audit')
      .find((e) => e.payload === 'a1')!
      .ctx.getPattern(),
  ).toBe('srv-audit');
  expect(seen.events).toHaveLength(5);
});

/** A controller whose one handler takes `topic` (a topic per test: a new group reads a topic from its start). */
function recordingController(topic: string) {
  @Controller()
  class Recording {
    constructor(private readonly seen: Seen) {}
    @EventPattern<string>(topic)
    handle(@Payload() p: unknown, @Ctx() ctx: RocketMQContext) {
      return this.seen.record('fail', p, ctx);
    }
  }
  return Recording;
}

it('a handler that throws gets its message again with attempt + 1, then it lands in the DLQ after the max attempts', async () => {
  env.fixture.broker.core.createGroup('srv-fail-g', { retryBackoffMs: [100], maxDeliveryAttempts: 3 });
  const { seen, server } = await start([recordingController('srv-fail')], { group: 'srv-fail-g' });
  const failures: unknown[] = [];
  server.on('message-failed', (error) => failures.push(error));
  seen.behaviour = (payload) => {
    if (payload === 'poison') throw new Error('cannot handle poison');
  };
  const poison = await env.sender.send('srv-fail', 'poison');
  const fine = await env.sender.send('srv-fail', 'fine');
  await waitFor(
    () => deadLetterIds(env.fixture.broker, 'srv-fail-g').includes(poison.messageId),
    'the dead letter',
  );
  await delay(300);
  const attempts = seen.events.filter((e) => e.payload === 'poison').map((e) => e.ctx.getDeliveryAttempt());
  expect(attempts).toEqual([1, 2, 3]);
  expect(seen.events.filter((e) => e.payload === 'fine')).toHaveLength(1);
  expect(deadLetterIds(env.fixture.broker, 'srv-fail-g')).not.toContain(fine.messageId);
  expect(failures).toHaveLength(3);
  expect(env.fixture.broker.core.inFlightCount('srv-fail-g')).toBe(0);
});

it('a handler that returns Reconsume.after(ms) gets the message again after ms, without a failure', async () => {
  env.fixture.broker.core.createGroup('srv-reconsume-g', {
    retryBackoffMs: [60_000],
    maxDeliveryAttempts: 5,
  });
  const { seen, server, logger } = await start([recordingController('srv-reconsume')], {
    group: 'srv-reconsume-g',
  });
  const failures: unknown[] = [];
  server.on('message-failed', (error) => failures.push(error));
  const at: number[] = [];
  seen.behaviour = (_p, ctx) => {
    at.push(Date.now());
    return ctx.getDeliveryAttempt() === 1 ? Reconsume.after(600) : undefined;
  };
  await env.sender.send('srv-reconsume', 'later');
  await waitFor(() => at.length === 2, 'the second delivery', 20_000);
  expect(at[1]! - at[0]!).toBeGreaterThanOrEqual(580);
  expect(at[1]! - at[0]!).toBeLessThan(30_000); // not the group's 60 s backoff
  expect(seen.events.map((e) => e.ctx.getDeliveryAttempt())).toEqual([1, 2]);
  expect(failures).toEqual([]);
  expect(logger.at('warn', 'error')).toEqual([]);
  await waitFor(() => env.fixture.broker.core.inFlightCount('srv-reconsume-g') === 0, 'acked');
});

it('a handler that returns ConsumeResult.FAILURE is retried as if it had thrown', async () => {
  env.fixture.broker.core.createGroup('srv-failure-g', { retryBackoffMs: [100], maxDeliveryAttempts: 5 });
  const { seen } = await start([recordingController('srv-failure')], { group: 'srv-failure-g' });
  seen.behaviour = (_p, ctx) => (ctx.getDeliveryAttempt() < 3 ? ConsumeResult.FAILURE : 'any value acks');
  await env.sender.send('srv-failure', 'x');
  await waitFor(() => seen.events.length === 3, 'three attempts');
  await waitFor(() => env.fixture.broker.core.inFlightCount('srv-failure-g') === 0, 'acked');
  await delay(300);
  expect(seen.events.map((e) => e.ctx.getDeliveryAttempt())).toEqual([1, 2, 3]);
});

@Controller()
class KnownTagController {
  constructor(private readonly seen: Seen) {}
  @EventPattern<string>('srv-nohandler:known')
  known(@Payload() p: unknown, @Ctx() ctx: RocketMQContext) {
    return this.seen.record('known', p, ctx);
  }
}

it('a message no handler matches is never acked silently: logged, delivered again, then dead-lettered', async () => {
  env.fixture.broker.core.createGroup('srv-nohandler-g', { retryBackoffMs: [100], maxDeliveryAttempts: 3 });
  // A topic filter wider than the handlers (here every tag) lets through messages nobody handles.
  const { seen, server, logger } = await start([KnownTagController], {
    group: 'srv-nohandler-g',
    filters: { 'srv-nohandler': Filter.ALL },
  });
  const failures: Array<{ error: unknown; attempt: number }> = [];
  server.on('message-failed', (error, message) => failures.push({ error, attempt: message.deliveryAttempt }));
  const orphan = await env.sender.send('srv-nohandler', 'nobody', { tag: 'unknown' });
  await env.sender.send('srv-nohandler', 'somebody', { tag: 'known' });
  await waitFor(
    () => deadLetterIds(env.fixture.broker, 'srv-nohandler-g').includes(orphan.messageId),
    'the dead letter',
  );
  expect(failures.map((f) => f.attempt)).toEqual([1, 2, 3]);
  expect(failures.every((f) => f.error instanceof NoHandlerError)).toBe(true);
  expect(
    logger.at('warn').filter((l) => l.includes(orphan.messageId) && l.includes('no handler')),
  ).toHaveLength(3);
  expect(seen.events.map((e) => e.payload)).toEqual(['somebody']);
});

it('a body that does not decode is never acked silently: retried, then dead-lettered; the handler never sees it', async () => {
  env.fixture.broker.core.createGroup('srv-decode-g', { retryBackoffMs: [100], maxDeliveryAttempts: 2 });
  const { seen, server } = await start([recordingController('srv-decode')], { group: 'srv-decode-g' });
  const failures: unknown[] = [];
  server.on('message-failed', (error) => failures.push(error));
  const bad = await env.sender.sendRaw('srv-decode', Buffer.from('{not json'), {
    'content-type': 'application/json',
  });
  await waitFor(
    () => deadLetterIds(env.fixture.broker, 'srv-decode-g').includes(bad.messageId),
    'the dead letter',
  );
  expect(failures).toHaveLength(2);
  expect(failures.every((f) => f instanceof PayloadDecodeError)).toBe(true);
  expect(seen.events).toEqual([]);
});

@Controller()
class FirstChained {
  constructor(private readonly seen: Seen) {}
  @EventPattern<string>('srv-chained')
  first(@Payload() p: unknown, @Ctx() ctx: RocketMQContext) {
    this.seen.record('first', p, ctx);
  }
}

@Controller()
class SecondChained {
  constructor(private readonly seen: Seen) {}
  @EventPattern<string>('srv-chained')
  second(@Payload() p: unknown, @Ctx() ctx: RocketMQContext) {
    return this.seen.record('second', p, ctx);
  }
}

it('several handlers of one pattern all run; the message is retried if any of them fails', async () => {
  env.fixture.broker.core.createGroup('srv-chained-g', { retryBackoffMs: [100], maxDeliveryAttempts: 5 });
  const { seen } = await start([FirstChained, SecondChained], { group: 'srv-chained-g' });
  seen.behaviour = (_p, ctx) => {
    if (ctx.getDeliveryAttempt() === 1) throw new Error('second fails once');
  };
  await env.sender.send('srv-chained', 'both');
  await waitFor(() => seen.events.length === 4, 'both handlers twice');
  await waitFor(() => env.fixture.broker.core.inFlightCount('srv-chained-g') === 0, 'acked');
  await delay(300);
  expect(seen.of('first').map((e) => e.ctx.getDeliveryAttempt())).toEqual([1, 2]);
  expect(seen.of('second').map((e) => e.ctx.getDeliveryAttempt())).toEqual([1, 2]);
});

it('status goes connecting → connected → draining → closed; unwrap gives the consumer; no producer without @MessagePattern', async () => {
  const app = await start([PayloadController], { group: 'srv-status-g' });
  const statuses: string[] = [];
  const subscription = app.server.status.subscribe((s) => statuses.push(s));
  const internals = app.server.unwrap<RocketMQServerInternals>();
  expect(internals.consumer).toBeDefined();
  expect((internals.consumer as Consumer).group).toBe('srv-status-g');
  expect(internals.producer).toBeUndefined();
  await app.close();
  subscription.unsubscribe();
  // The status is a replay of the latest: the subscription began at `connected`.
  expect(statuses).toEqual([
    RocketMQTransportStatus.CONNECTED,
    RocketMQTransportStatus.DRAINING,
    RocketMQTransportStatus.CLOSED,
  ]);
  expect(internals.consumer!.closed).toBe(true);
});

it('listen fails with a typed error for a pattern it cannot serve; status and the error event say so', async () => {
  @Controller()
  class BadPattern {
    @EventPattern<string>('srv-bad:a|b')
    handle() {}
  }
  const errors: unknown[] = [];
  const statuses: string[] = [];
  const server = new RocketMQServer({ endpoints: env.fixture.endpoint, group: 'srv-bad-g' });
  server.on('error', (e) => errors.push(e));
  server.status.subscribe((s) => statuses.push(s));
  const failed = await startApp(env.fixture, { controllers: [BadPattern], server }).catch((e: unknown) => e);
  expect(failed).toMatchObject({ code: 40000, pattern: 'srv-bad:a|b' });
  expect(errors).toEqual([failed]);
  expect(statuses).toEqual([RocketMQTransportStatus.CONNECTING, RocketMQTransportStatus.ERROR]);
  await server.close();
});

it('new RocketMQServer refuses options without endpoints or group', () => {
  expect(() => new RocketMQServer({ endpoints: '', group: 'g' })).toThrow(TypeError);
  expect(() => new RocketMQServer({ endpoints: '127.0.0.1:1', group: '' })).toThrow(TypeError);
});

/**
 * RocketMQClientProxy against RocketMQServer on a real built-in broker: request-reply through
 * `send` to @MessagePattern handlers (values, Observables, errors, timeouts, deadlines), `emit` to
 * @EventPattern handlers, ClientsModule registration, lazy connection and close.
 */
import { Controller, Inject, Injectable, Module } from '@nestjs/common';
import {
  type ClientProxy,
  ClientsModule,
  Ctx,
  EventPattern,
  MessagePattern,
  Payload,
  RpcException,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom, interval, lastValueFrom, map, of, take, toArray } from 'rxjs';
import { ClientClosedError, Filter, Reconsume, type SendReceipt } from '../../client/index.js';
import { startBroker, type BrokerFixture } from '../../client/testing/broker-fixture.js';
import { delay, waitFor } from '../../client/consumer/testing/consumer-testing.js';
import { type RocketMQContext } from '../context/rocketmq-context.js';
import { RemoteHandlerError, ReplyTimeoutError } from '../request-reply/reply-errors.js';
import { RocketMQClientProxy, type RocketMQClientProxyInternals } from './rocketmq-client-proxy.js';
import { RocketMQRecord } from './rocketmq-record.js';
import { startApp, type TestApp } from './testing/transport-testing.js';
import { RocketMQTransportStatus } from './transport-status.js';

@Injectable()
class Calls {
  readonly seen: Array<{ pattern: string; payload: unknown; ctx: RocketMQContext }> = [];
  record(pattern: string, payload: unknown, ctx: RocketMQContext): void {
    this.seen.push({ pattern, payload, ctx });
  }
  of(pattern: string) {
    return this.seen.filter((s) => s.pattern === pattern);
  }
}

@Controller()
class PricingController {
  constructor(private readonly calls: Calls) {}

  @MessagePattern('cp-pricing:quote')
  quote(@Payload() cart: { items: number[] }, @Ctx() ctx: RocketMQContext) {
    this.calls.record('quote', cart, ctx);
    return { total: cart.items.reduce((a, b) => a + b, 0) };
  }

  @MessagePattern('cp-pricing:async')
  async later(@Payload() n: number) {
    await delay(20);
    return n * 10;
  }

  @MessagePattern('cp-pricing:stream')
  stream(@Payload() n: number) {
    return interval(5).pipe(
      take(n),
      map((i) => `tick-${i}`),
    );
  }

  @MessagePattern('cp-pricing:empty')
  empty() {
    return of();
  }

  @MessagePattern('cp-pricing:fail')
  fail(@Payload() reason: string) {
    throw new RpcException({ status: 409, message: `refused: ${reason}`, name: 'QuoteRefused' });
  }

  @MessagePattern('cp-pricing:crash')
  crash() {
    throw new Error('secret internals');
  }

  @MessagePattern('cp-pricing:slow')
  async slow(@Payload() ms: number, @Ctx() ctx: RocketMQContext) {
    this.calls.record('slow', ms, ctx);
    await delay(ms);
    return 'finally';
  }

  @MessagePattern('cp-pricing:retry')
  retry(@Payload() p: unknown, @Ctx() ctx: RocketMQContext) {
    this.calls.record('retry', p, ctx);
    return ctx.getDeliveryAttempt() === 1
      ? Reconsume.after(300)
      : `answered at attempt ${ctx.getDeliveryAttempt()}`;
  }

  @EventPattern<string>('cp-events:created')
  created(@Payload() payload: unknown, @Ctx() ctx: RocketMQContext) {
    this.calls.record('created', payload, ctx);
  }

  @EventPattern<string>('cp-events:quote')
  quoteEvent(@Payload() payload: unknown, @Ctx() ctx: RocketMQContext) {
    this.calls.record('quote-event', payload, ctx);
    return 'ignored';
  }
}

let fixture: BrokerFixture;
let service: TestApp;
const clients: RocketMQClientProxy[] = [];

function client(
  options: Partial<ConstructorParameters<typeof RocketMQClientProxy>[0]> = {},
): RocketMQClientProxy {
  const c = new RocketMQClientProxy({ endpoints: fixture.endpoint, ...options });
  clients.push(c);
  return c;
}

beforeAll(async () => {
  fixture = await startBroker();
  service = await startApp(fixture, {
    controllers: [PricingController],
    providers: [Calls],
    server: { group: 'cp-service' },
  });
});

afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

afterAll(async () => {
  await service.close();
  await fixture.close();
  expect(fixture.problems).toEqual([]);
});

describe('send (request-reply)', () => {
  it('answers with the value a @MessagePattern handler returns, and the handler sees its context', async () => {
    const c = client();
    const answer = await firstValueFrom(c.send('cp-pricing:quote', { items: [1, 2, 39] }));
    expect(answer).toEqual({ total: 42 });
    const call = service.get(Calls).of('quote').at(-1)!;
    expect(call.ctx.getPattern()).toBe('cp-pricing:quote');
    expect(call.ctx.getTag()).toBe('quote');
    expect(call.ctx.getGroup()).toBe('cp-service');
  });

  it('answers with what an async handler resolves', async () => {
    await expect(firstValueFrom(client().send('cp-pricing:async', 4))).resolves.toBe(40);
  });

  it('answers with the last value of an Observable a handler returns, and completes', async () => {
    const values = await lastValueFrom(client().send('cp-pricing:stream', 3).pipe(toArray()));
    expect(values).toEqual(['tick-2']);
  });

  it('answers null when the handler returns an empty Observable', async () => {
    await expect(firstValueFrom(client().send('cp-pricing:empty', 1))).resolves.toBeNull();
  });

  it('errors with RemoteHandlerError carrying an RpcException’s message, name and status', async () => {
    const error = await firstValueFrom(client().send('cp-pricing:fail', 'no stock')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteHandlerError);
    expect(error).toMatchObject({
      message: 'refused: no stock',
      remoteName: 'QuoteRefused',
      remoteStatus: 409,
    });
  });

  it('errors with RemoteHandlerError saying only "Internal server error" for an unknown exception (Nest’s default filter)', async () => {
    const error = await firstValueFrom(client().send('cp-pricing:crash', 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteHandlerError);
    expect(error).toMatchObject({ message: 'Internal server error', remoteStatus: 'error' });
  });

  it('errors with ReplyTimeoutError when no reply comes in time; the handler still ran', async () => {
    const c = client({ replyTimeoutMs: 1_000 });
    const error = await firstValueFrom(c.send('cp-pricing:slow', 2_500)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ReplyTimeoutError);
    expect(error).toMatchObject({ code: 40800, timeoutMs: 1_000, destination: 'cp-pricing:slow' });
    await waitFor(() => service.get(Calls).of('slow').length === 1, 'the handler ran');
  });

  it('a request whose deadline passed before its turn is acknowledged without running the handler', async () => {
    // A service that is down while the request waits: its deadline passes before anyone handles it.
    await service.close();
    const c = client({ replyTimeoutMs: 500 });
    await expect(firstValueFrom(c.send('cp-pricing:slow', 1))).rejects.toBeInstanceOf(ReplyTimeoutError);
    await delay(200);
    service = await startApp(fixture, {
      controllers: [PricingController],
      providers: [Calls],
      server: { group: 'cp-service' },
    });
    await waitFor(
      () => fixture.broker.core.lag('cp-service', 'cp-pricing').total === 0,
      'the request consumed',
    );
    await waitFor(() => fixture.broker.core.inFlightCount('cp-service') === 0, 'the request acked');
    expect(service.get(Calls).of('slow').length).toBe(0); // a fresh app: the handler never ran for it
    expect(
      service.logger.at('warn').some((l) => l.includes('reached its deadline before it was handled')),
    ).toBe(true);
  });

  it('requests sent while the service is down are answered once it starts', async () => {
    await service.close();
    const c = client({ replyTimeoutMs: 30_000 });
    const answers = Promise.all(
      Array.from({ length: 5 }, (_, i) => firstValueFrom(c.send('cp-pricing:quote', { items: [i] }))),
    );
    await waitFor(
      () => fixture.broker.core.lag('cp-service', 'cp-pricing').total >= 5,
      'the requests stored',
    );
    service = await startApp(fixture, {
      controllers: [PricingController],
      providers: [Calls],
      server: { group: 'cp-service' },
    });
    await expect(answers).resolves.toEqual(Array.from({ length: 5 }, (_, i) => ({ total: i })));
  });

  it('a handler returning Reconsume.after(ms) is asked again later; the requester gets the later answer', async () => {
    const answer = await firstValueFrom(client().send('cp-pricing:retry', 'x'));
    expect(answer).toBe('answered at attempt 2');
    expect(
      service
        .get(Calls)
        .of('retry')
        .map((c) => c.ctx.getDeliveryAttempt()),
    ).toEqual([1, 2]);
  });

  it('a request to an @EventPattern handler runs it as an event: no reply, the requester times out', async () => {
    const c = client({ replyTimeoutMs: 1_500 });
    await expect(firstValueFrom(c.send('cp-events:quote', { q: 1 }))).rejects.toBeInstanceOf(
      ReplyTimeoutError,
    );
    expect(
      service
        .get(Calls)
        .of('quote-event')
        .map((s) => s.payload),
    ).toContainEqual({ q: 1 });
  });

  it('many concurrent requests from two clients each get their own answer', async () => {
    const [a, b] = [client(), client()];
    const results = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        firstValueFrom((i % 2 === 0 ? a : b).send('cp-pricing:quote', { items: [i, 1] })),
      ),
    );
    expect(results).toEqual(Array.from({ length: 30 }, (_, i) => ({ total: i + 1 })));
  });

  it('unsubscribing before the reply stops waiting without an error', async () => {
    const c = client();
    const got: unknown[] = [];
    const subscription = c.send('cp-pricing:slow', 300).subscribe({
      next: (v) => got.push(v),
      error: (e) => got.push(e),
    });
    await delay(50);
    subscription.unsubscribe();
    await delay(800);
    expect(got).toEqual([]);
  });
});

describe('emit', () => {
  it('sends an event to the @EventPattern handler; the Observable emits the send receipt', async () => {
    const c = client();
    const receipt = (await firstValueFrom(c.emit('cp-events:created', { id: 1 }))) as SendReceipt;
    expect(receipt.messageId).toMatch(/^[0-9A-F]{34}$/);
    await waitFor(
      () =>
        service
          .get(Calls)
          .of('created')
          .some((s) => s.ctx.getMessageId() === receipt.messageId),
      'the event',
    );
    const seen = service
      .get(Calls)
      .of('created')
      .find((s) => s.ctx.getMessageId() === receipt.messageId)!;
    expect(seen.payload).toEqual({ id: 1 });
    expect(seen.ctx.getTag()).toBe('created');
  });

  it('is hot: the event is sent even if nobody subscribes', async () => {
    const c = client();
    c.emit('cp-events:created', 'unobserved');
    await waitFor(
      () =>
        service
          .get(Calls)
          .of('created')
          .some((s) => s.payload === 'unobserved'),
      'the event',
    );
  });

  it('RocketMQRecord adds keys and user properties; dispatch-hook metadata travels as properties', async () => {
    const c = client();
    c.setOnDispatchHook((packet) => {
      packet.metadata = { traceparent: '00-abc-def-01' };
    });
    await firstValueFrom(
      c.emit(
        'cp-events:created',
        new RocketMQRecord('with options', { keys: ['k-1'], properties: { tenant: 'acme' } }),
      ),
    );
    await waitFor(
      () =>
        service
          .get(Calls)
          .of('created')
          .some((s) => s.payload === 'with options'),
      'the event',
    );
    const seen = service
      .get(Calls)
      .of('created')
      .find((s) => s.payload === 'with options')!;
    expect(seen.ctx.getKeys()).toEqual(['k-1']);
    expect(seen.ctx.getProperties()).toMatchObject({ tenant: 'acme', traceparent: '00-abc-def-01' });
  });

  it('a pattern that cannot be a destination errors the Observable with InvalidPatternError', async () => {
    const error = await firstValueFrom(client().emit('bad topic:x', 1)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 40000, pattern: 'bad topic:x' });
  });
});

describe('lifecycle', () => {
  it('connects lazily: nothing before the first use; status connecting → connected → draining → closed', async () => {
    const c = client();
    const statuses: string[] = [];
    c.status.subscribe((s) => statuses.push(s));
    expect(() => c.unwrap()).toThrow(/connect/);
    expect(statuses).toEqual([]);
    await firstValueFrom(c.emit('cp-events:created', 'first'));
    const internals = c.unwrap<RocketMQClientProxyInternals>();
    expect(internals.producer).toBeDefined();
    expect(internals.requester).toBeUndefined(); // no send yet: no reply consumer
    await firstValueFrom(c.send('cp-pricing:async', 1));
    expect(c.unwrap<RocketMQClientProxyInternals>().requester).toBeDefined();
    await c.close();
    expect(statuses).toEqual(['connecting', 'connected', 'draining', 'closed']);
  });

  it('close fails requests still waiting with ClientClosedError; the proxy connects again on next use', async () => {
    const c = client();
    const waiting = firstValueFrom(c.send('cp-pricing:slow', 1_500)).catch((e: unknown) => e);
    const pending = () => {
      try {
        return c.unwrap<RocketMQClientProxyInternals>().requester?.pendingCount ?? 0;
      } catch {
        return 0; // not connected yet
      }
    };
    await waitFor(() => pending() === 1, 'the request waiting');
    await c.close();
    expect(await waiting).toBeInstanceOf(ClientClosedError);
    await expect(firstValueFrom(c.send('cp-pricing:async', 2))).resolves.toBe(20);
  });

  it('a call under way when close() runs fails with ClientClosedError and opens nothing afterwards', async () => {
    const c = client();
    const sending = firstValueFrom(c.send('cp-pricing:async', 3)).catch((e: unknown) => e);
    const emitting = firstValueFrom(c.emit('cp-events:created', 'raced')).catch((e: unknown) => e);
    await c.close(); // while both are still connecting
    expect(await sending).toBeInstanceOf(ClientClosedError);
    expect(await emitting).toBeInstanceOf(ClientClosedError);
    await delay(200);
    expect(() => c.unwrap()).toThrow(/connect/); // nothing was started after the close
  });

  it('a failed connection errors the call and the error event, with status error; the next call tries again', async () => {
    const c = client({ endpoints: '127.0.0.1:1', startupTimeoutMs: 500 });
    const errors: unknown[] = [];
    c.on('error', (e) => errors.push(e));
    const statuses: string[] = [];
    c.status.subscribe((s) => statuses.push(s));
    const first = await firstValueFrom(c.emit('cp-events:created', 1)).catch((e: unknown) => e);
    expect(first).toMatchObject({ code: 40800 }); // StartupTimeoutError
    expect(errors).toEqual([first]);
    expect(statuses).toEqual([RocketMQTransportStatus.CONNECTING, RocketMQTransportStatus.ERROR]);
    await expect(firstValueFrom(c.send('cp-pricing:async', 1))).rejects.toMatchObject({ code: 40800 });
    expect(errors).toHaveLength(2);
  });

  it('refuses options without endpoints or with a bad reply timeout', () => {
    expect(() => new RocketMQClientProxy({ endpoints: '' })).toThrow(TypeError);
    expect(() => new RocketMQClientProxy({ endpoints: 'h:1', replyTimeoutMs: 0 })).toThrow(RangeError);
  });
});

describe('ClientsModule', () => {
  const ORDERS = Symbol('ORDERS');

  @Injectable()
  class Checkout {
    constructor(@Inject(ORDERS) readonly orders: ClientProxy) {}
  }

  @Module({ providers: [Checkout] })
  class CheckoutModule {}

  it('registers RocketMQClientProxy as a customClass; the injected client sends and emits; closed with the app', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        ClientsModule.register({
          clients: [
            { name: ORDERS, customClass: RocketMQClientProxy, options: { endpoints: fixture.endpoint } },
          ],
          isGlobal: true,
        }),
        CheckoutModule,
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const { orders } = app.get(Checkout);
    expect(orders).toBeInstanceOf(RocketMQClientProxy);
    await expect(firstValueFrom(orders.send('cp-pricing:quote', { items: [5] }))).resolves.toEqual({
      total: 5,
    });
    await firstValueFrom(orders.emit('cp-events:created', 'from ClientsModule'));
    await waitFor(
      () =>
        service
          .get(Calls)
          .of('created')
          .some((s) => s.payload === 'from ClientsModule'),
      'the event',
    );
    const internals = (orders as RocketMQClientProxy).unwrap<RocketMQClientProxyInternals>();
    await app.close();
    expect(internals.requester!.pendingCount).toBe(0);
    await expect(internals.producer.send({ topic: 'cp-events', body: 'x' })).rejects.toBeInstanceOf(
      ClientClosedError,
    );
  });
});

describe('no handler for a request', () => {
  @Controller()
  class OnlyKnown {
    @MessagePattern('cp-nohandler:known')
    known() {
      return 'ok';
    }
  }

  it('the requester learns at once (RemoteHandlerError naming NoHandlerError); the request is not acked silently', async () => {
    fixture.broker.core.createGroup('cp-nohandler-g', { retryBackoffMs: [100], maxDeliveryAttempts: 2 });
    const app = await startApp(fixture, {
      controllers: [OnlyKnown],
      server: { group: 'cp-nohandler-g', filters: { 'cp-nohandler': Filter.ALL } },
    });
    try {
      const error = await firstValueFrom(client().send('cp-nohandler:unknown', 1)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteHandlerError);
      expect(error).toMatchObject({ remoteName: 'NoHandlerError' });
      await waitFor(
        () => app.logger.at('warn').filter((l) => l.includes('no handler for message')).length >= 2,
        'two attempts, both refused',
      );
    } finally {
      await app.close();
    }
  });
});

/**
 * Nest's pipes, guards, interceptors and exception filters on handlers served by RocketMQServer,
 * on a real built-in broker: what a validation failure, a denied guard or a filter's answer means
 * for the message.
 */
import {
  BadRequestException,
  Catch,
  Controller,
  Injectable,
  UseFilters,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
  type RpcExceptionFilter,
} from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { IsInt, IsString, Min } from 'class-validator';
import { firstValueFrom, map, of, throwError, type Observable } from 'rxjs';
import { Reconsume } from '../../client/index.js';
import { startBroker, type BrokerFixture } from '../../client/testing/broker-fixture.js';
import { deadLetterIds, delay, waitFor } from '../../client/consumer/testing/consumer-testing.js';
import { type RocketMQContext } from '../context/rocketmq-context.js';
import { RemoteHandlerError } from '../request-reply/reply-errors.js';
import { RocketMQClientProxy } from './rocketmq-client-proxy.js';
import { RocketMQExceptionFilter } from './rocketmq-exception.filter.js';
import { startApp, TestSender, type TestApp } from './testing/transport-testing.js';

class CreateOrder {
  @IsString()
  sku!: string;

  @IsInt()
  @Min(1)
  quantity!: number;
}

/** What enhancers and handlers saw. */
@Injectable()
class Journal {
  readonly entries: string[] = [];
  readonly orders: CreateOrder[] = [];
  readonly filtered: Array<{ error: unknown; hostType: string; attempt: number }> = [];
  add(entry: string): void {
    this.entries.push(entry);
  }
}

@Injectable()
class TenantGuard implements CanActivate {
  constructor(private readonly journal: Journal) {}
  canActivate(context: ExecutionContext): boolean {
    const ctx = context.switchToRpc().getContext<RocketMQContext>();
    const allowed = ctx.getProperties()['tenant'] === 'acme';
    this.journal.add(`guard ${context.getType()} ${ctx.getPattern()} ${allowed ? 'allows' : 'denies'}`);
    return allowed;
  }
}

@Injectable()
class AuditInterceptor implements NestInterceptor {
  constructor(private readonly journal: Journal) {}
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const ctx = context.switchToRpc().getContext<RocketMQContext>();
    this.journal.add(`before ${ctx.getMessageId()}`);
    return next.handle().pipe(
      map((value: unknown) => {
        this.journal.add(`after ${ctx.getMessageId()}`);
        return typeof value === 'object' && value !== null ? { ...value, audited: true } : value;
      }),
    );
  }
}

class DuplicateOrder extends Error {}
class InventoryBusy extends Error {}

/** Decides what failures mean: duplicates are done, a busy inventory is retried soon, the rest rethrown. */
@Catch()
class OrderErrorsFilter implements RpcExceptionFilter<unknown> {
  static journal: Journal;
  catch(error: unknown, host: ArgumentsHost): Observable<unknown> {
    const ctx = host.switchToRpc().getContext<RocketMQContext>();
    OrderErrorsFilter.journal.filtered.push({
      error,
      hostType: host.getType(),
      attempt: ctx.getDeliveryAttempt(),
    });
    if (error instanceof DuplicateOrder) return of(undefined); // swallowed: acknowledged
    if (error instanceof InventoryBusy) return of(Reconsume.after(300)); // retried, not a failure
    return throwError(() => error);
  }
}

@Controller()
class OrdersController {
  constructor(private readonly journal: Journal) {}

  @EventPattern<string>('enh-orders:validated')
  validated(@Payload() order: CreateOrder) {
    this.journal.orders.push(order);
  }

  @UseFilters(RocketMQExceptionFilter)
  @EventPattern<string>('enh-orders:explained')
  explained(@Payload() order: CreateOrder) {
    this.journal.orders.push(order);
  }

  @UseGuards(TenantGuard)
  @EventPattern<string>('enh-orders:guarded')
  guarded(@Payload() payload: unknown, @Ctx() ctx: RocketMQContext) {
    this.journal.add(`handler ${ctx.getMessageId()} ${JSON.stringify(payload)}`);
  }

  @UseInterceptors(AuditInterceptor)
  @MessagePattern('enh-orders:quote')
  quote(@Payload() order: CreateOrder) {
    this.journal.add(`quote ${order.sku}`);
    return { sku: order.sku, price: order.quantity * 3 };
  }

  @UseFilters(RocketMQExceptionFilter)
  @MessagePattern('enh-orders:check')
  check(@Payload() order: CreateOrder) {
    return { ok: order.quantity };
  }

  @UseFilters(OrderErrorsFilter)
  @EventPattern<string>('enh-orders:filtered')
  filtered(@Payload() payload: { kind: string }, @Ctx() ctx: RocketMQContext) {
    this.journal.add(`filtered handler ${payload.kind} attempt ${ctx.getDeliveryAttempt()}`);
    if (payload.kind === 'duplicate') throw new DuplicateOrder('seen before');
    if (payload.kind === 'busy' && ctx.getDeliveryAttempt() === 1) throw new InventoryBusy('try later');
    if (payload.kind === 'broken') throw new BadRequestException('broken order');
  }
}

const GROUP = 'enh-service';
let fixture: BrokerFixture;
let sender: TestSender;
let service: TestApp;
let journal: Journal;
let failures: Array<{ error: unknown; messageId: string }>;
const clients: RocketMQClientProxy[] = [];

beforeAll(async () => {
  fixture = await startBroker();
  fixture.broker.core.createGroup(GROUP, { retryBackoffMs: [100], maxDeliveryAttempts: 3 });
  sender = await TestSender.start(fixture);
  service = await startApp(fixture, {
    controllers: [OrdersController],
    providers: [Journal, TenantGuard, AuditInterceptor],
    server: { group: GROUP },
    setup: (app) => app.useGlobalPipes(new ValidationPipe({ transform: true })),
  });
  journal = service.get(Journal);
  OrderErrorsFilter.journal = journal;
  failures = [];
  service.server.on('message-failed', (error, message) =>
    failures.push({ error, messageId: message.messageId }),
  );
});

afterAll(async () => {
  for (const c of clients) await c.close();
  await service.close();
  await sender.close();
  await fixture.close();
  expect(fixture.problems).toEqual([]);
});

function client(): RocketMQClientProxy {
  const c = new RocketMQClientProxy({ endpoints: fixture.endpoint });
  clients.push(c);
  return c;
}

const failuresOf = (messageId: string) => failures.filter((f) => f.messageId === messageId);

describe('ValidationPipe', () => {
  it('a valid payload reaches the handler as an instance of its DTO', async () => {
    await sender.send('enh-orders', { sku: 'A-1', quantity: 2 }, { tag: 'validated' });
    await waitFor(() => journal.orders.some((o) => o.sku === 'A-1'), 'the valid order');
    const order = journal.orders.find((o) => o.sku === 'A-1')!;
    expect(order).toBeInstanceOf(CreateOrder);
    expect(order.quantity).toBe(2);
  });

  it('an invalid payload never reaches the handler: it is retried, then dead-lettered, never acked silently', async () => {
    const bad = await sender.send('enh-orders', { sku: 7, quantity: 0 }, { tag: 'validated' });
    await waitFor(
      () => deadLetterIds(fixture.broker, GROUP).includes(bad.messageId),
      'the dead letter',
      20_000,
    );
    expect(failuresOf(bad.messageId)).toHaveLength(3); // every attempt refused by the pipe
    expect(journal.orders.some((o) => (o.sku as unknown) === 7)).toBe(false);
    // The validation error went through Nest's exception layer (its default filter logs it).
    // Nest 12's default filter hides an HttpException as "Internal server error" (and does not log it).
    const lines = service.logger.at('warn').filter((l) => l.includes(bad.messageId));
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.includes('Internal server error'))).toBe(true);
  });

  it('with RocketMQExceptionFilter the log of a refused message names what was invalid', async () => {
    const bad = await sender.send('enh-orders', { sku: 'C', quantity: 0 }, { tag: 'explained' });
    await waitFor(
      () => deadLetterIds(fixture.broker, GROUP).includes(bad.messageId),
      'the dead letter',
      20_000,
    );
    const lines = service.logger.at('warn').filter((l) => l.includes(bad.messageId));
    expect(lines).toHaveLength(3);
    expect(lines.every((l) => l.includes('quantity must not be less than 1') && l.includes('400'))).toBe(
      true,
    );
  });

  it('with RocketMQExceptionFilter a request with an invalid payload answers the requester with the validation messages', async () => {
    const error = await firstValueFrom(client().send('enh-orders:check', { sku: 'B', quantity: -1 })).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RemoteHandlerError);
    expect(error).toMatchObject({ remoteStatus: 400, message: 'quantity must not be less than 1' });
    await expect(
      firstValueFrom(client().send('enh-orders:check', { sku: 'B', quantity: 4 })),
    ).resolves.toEqual({
      ok: 4,
    });
  });
});

describe('guards', () => {
  it('a guard sees the RocketMQContext; an allowed message is handled', async () => {
    const ok = await sender.send('enh-orders', { n: 1 }, { tag: 'guarded', properties: { tenant: 'acme' } });
    await waitFor(() => journal.entries.includes(`handler ${ok.messageId} {"n":1}`), 'the handler');
    expect(journal.entries).toContain('guard rpc enh-orders:guarded allows');
  });

  it('a denied message is not handled nor acked: retried, then dead-lettered', async () => {
    const denied = await sender.send(
      'enh-orders',
      { n: 2 },
      { tag: 'guarded', properties: { tenant: 'evil' } },
    );
    await waitFor(
      () => deadLetterIds(fixture.broker, GROUP).includes(denied.messageId),
      'the dead letter',
      20_000,
    );
    expect(journal.entries.filter((e) => e === 'guard rpc enh-orders:guarded denies')).toHaveLength(3);
    expect(journal.entries.some((e) => e.startsWith(`handler ${denied.messageId}`))).toBe(false);
    expect(failuresOf(denied.messageId)).toHaveLength(3);
  });
});

describe('interceptors', () => {
  it('an interceptor runs around the handler and can change the reply', async () => {
    const answer = await firstValueFrom(client().send('enh-orders:quote', { sku: 'Q', quantity: 5 }));
    expect(answer).toEqual({ sku: 'Q', price: 15, audited: true });
    const before = journal.entries.findIndex((e) => e.startsWith('before '));
    const handler = journal.entries.indexOf('quote Q');
    const after = journal.entries.findIndex((e) => e.startsWith('after '));
    expect(before).toBeGreaterThanOrEqual(0);
    expect(handler).toBeGreaterThan(before);
    expect(after).toBeGreaterThan(handler);
  });
});

describe('exception filters', () => {
  it('a filter receives the error in an rpc host; swallowing it acknowledges the message after one attempt', async () => {
    const dup = await sender.send('enh-orders', { kind: 'duplicate' }, { tag: 'filtered' });
    await waitFor(() => journal.filtered.some((f) => f.error instanceof DuplicateOrder), 'the filter');
    await waitFor(() => fixture.broker.core.inFlightCount(GROUP, 'enh-orders') === 0, 'acked');
    await delay(500);
    const seen = journal.filtered.filter((f) => f.error instanceof DuplicateOrder);
    expect(seen).toEqual([{ error: expect.any(DuplicateOrder), hostType: 'rpc', attempt: 1 }]);
    expect(failuresOf(dup.messageId)).toEqual([]);
    expect(deadLetterIds(fixture.broker, GROUP)).not.toContain(dup.messageId);
  });

  it('a filter answering Reconsume.after(ms) retries the message without a failure', async () => {
    const busy = await sender.send('enh-orders', { kind: 'busy' }, { tag: 'filtered' });
    await waitFor(() => journal.entries.includes('filtered handler busy attempt 2'), 'the second attempt');
    await waitFor(() => fixture.broker.core.inFlightCount(GROUP, 'enh-orders') === 0, 'acked');
    expect(failuresOf(busy.messageId)).toEqual([]);
  });

  it('a filter that rethrows leaves the message to be retried, then dead-lettered', async () => {
    const broken = await sender.send('enh-orders', { kind: 'broken' }, { tag: 'filtered' });
    await waitFor(
      () => deadLetterIds(fixture.broker, GROUP).includes(broken.messageId),
      'the dead letter',
      20_000,
    );
    expect(
      journal.filtered.filter((f) => f.error instanceof BadRequestException).map((f) => f.attempt),
    ).toEqual([1, 2, 3]);
    expect(failuresOf(broken.messageId)).toHaveLength(3);
  });
});

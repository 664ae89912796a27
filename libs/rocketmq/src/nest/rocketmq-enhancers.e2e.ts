/**
 * Nest's enhancers on `@RocketListener` methods: ValidationPipe on `@Payload()`, guards,
 * interceptors and exception filters, with the `rpc` context and the RocketMQContext they see.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type ArgumentsHost,
  type CallHandler,
  type CanActivate,
  Catch,
  type ExceptionFilter,
  type ExecutionContext,
  Inject,
  Injectable,
  type INestApplicationContext,
  type NestInterceptor,
  UseFilters,
  UseGuards,
  UseInterceptors,
  ValidationPipe,
} from '@nestjs/common';
import { Ctx, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { IsInt, IsString, Min } from 'class-validator';
import { type Observable, tap } from 'rxjs';
import { ConsumeResult } from '../client/index.js';
import { type RocketMQContext } from './context/rocketmq-context.js';
import { RocketListener } from './decorators/rocket-listener.decorator.js';
import { RocketMQModule } from './module/rocketmq.module.js';
import { RocketTemplate } from './template/rocket-template.js';
import { Recorder, until } from './testing/recorder.js';

class OrderDto {
  @IsString()
  id!: string;

  @IsInt()
  @Min(1)
  qty!: number;
}

@Injectable()
class TenantGuard implements CanActivate {
  constructor(@Inject(Recorder) private readonly recorder: Recorder) {}

  canActivate(context: ExecutionContext): boolean {
    const ctx = context.switchToRpc().getContext<RocketMQContext>();
    this.recorder.record('guard', { type: context.getType(), tenant: ctx.getProperties()['tenant'] });
    return ctx.getProperties()['tenant'] !== 'blocked';
  }
}

@Injectable()
class AuditInterceptor implements NestInterceptor {
  constructor(@Inject(Recorder) private readonly recorder: Recorder) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const data = context.switchToRpc().getData<unknown>();
    const messageId = context.switchToRpc().getContext<RocketMQContext>().getMessageId();
    this.recorder.record('before', { data, messageId });
    return next.handle().pipe(tap(() => this.recorder.record('after', messageId)));
  }
}

class KnownPoisonError extends Error {}

@Injectable()
@Catch(KnownPoisonError)
class PoisonFilter implements ExceptionFilter {
  constructor(@Inject(Recorder) private readonly recorder: Recorder) {}

  catch(error: KnownPoisonError, host: ArgumentsHost): string {
    this.recorder.record('filtered', { error: error.message, type: host.getType() });
    return ConsumeResult.SUCCESS; // handled: acknowledge instead of retrying
  }
}

@Injectable()
class GuardedListeners {
  constructor(@Inject(Recorder) private readonly recorder: Recorder) {}

  @RocketListener({ topic: 'enh-orders', group: 'enh-orders-g', maxReconsumeTimes: 0 })
  @UseGuards(TenantGuard)
  @UseInterceptors(AuditInterceptor)
  created(
    @Payload(new ValidationPipe({ transform: true })) order: OrderDto,
    @Ctx() ctx: RocketMQContext,
  ): void {
    this.recorder.record('handled', { order, isDto: order instanceof OrderDto, tag: ctx.getTag() });
  }

  @RocketListener({ topic: '%DLQ%enh-orders-g', group: 'enh-orders-dlq' })
  dead(payload: unknown): void {
    this.recorder.record('dlq', payload);
  }

  @RocketListener({ topic: 'enh-poison', group: 'enh-poison-g' })
  @UseFilters(PoisonFilter)
  poison(payload: { id: string }, ctx: RocketMQContext): void {
    this.recorder.record('poison', ctx.getDeliveryAttempt());
    throw new KnownPoisonError(`cannot process ${payload.id}`);
  }
}

describe('@RocketListener with Nest enhancers', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-nest-enh-'));
  let app: INestApplicationContext;
  let rocket: RocketTemplate;
  let recorder: Recorder;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [RocketMQModule.forRoot({ embedded: { dataDir, port: 0 }, consumer: { backoff: [100] } })],
      providers: [Recorder, GuardedListeners],
    }).compile();
    app = await moduleRef.init();
    rocket = app.get(RocketTemplate);
    recorder = app.get(Recorder);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('validates and transforms the payload with ValidationPipe, and runs guards and interceptors around the method', async () => {
    const sent = await rocket.send(
      'enh-orders:created',
      { id: 'o-1', qty: 2 },
      { properties: { tenant: 'acme' } },
    );
    const [handled] = await recorder.waitFor<{ order: OrderDto; isDto: boolean; tag: string }>('handled', 1);
    expect(handled).toEqual({ order: { id: 'o-1', qty: 2 }, isDto: true, tag: 'created' });
    expect(recorder.get('guard')).toContainEqual({ type: 'rpc', tenant: 'acme' });
    expect(recorder.get('before')).toContainEqual({ data: { id: 'o-1', qty: 2 }, messageId: sent.messageId });
    await until(() => recorder.get('after').includes(sent.messageId), 'the interceptor after the method');
  });

  it('never acknowledges a payload the ValidationPipe refuses: the method is not called, the message is dead-lettered', async () => {
    await rocket.send('enh-orders', { id: 'o-bad', qty: 0 }, { properties: { tenant: 'acme' } });
    const dead = await recorder.waitFor('dlq', 1);
    expect(dead).toEqual([{ id: 'o-bad', qty: 0 }]);
    expect(recorder.get<{ order: OrderDto }>('handled').map((h) => h.order.id)).not.toContain('o-bad');
  });

  it('dead-letters a message a guard refuses, without calling the method', async () => {
    await rocket.send('enh-orders', { id: 'o-blocked', qty: 1 }, { properties: { tenant: 'blocked' } });
    await until(
      () => recorder.get<{ id: string }>('dlq').some((d) => d.id === 'o-blocked'),
      'the refused message in the DLQ',
    );
    expect(recorder.get<{ order: OrderDto }>('handled').map((h) => h.order.id)).not.toContain('o-blocked');
  });

  it('lets an exception filter handle an error and acknowledge the message (no retry)', async () => {
    await rocket.send('enh-poison', { id: 'p-1' });
    const [filtered] = await recorder.waitFor<{ error: string; type: string }>('filtered', 1);
    expect(filtered).toEqual({ error: 'cannot process p-1', type: 'rpc' });
    // A later message on the same listener is handled: once it is, the first had every chance to come back.
    await rocket.send('enh-poison', { id: 'p-2' });
    await recorder.waitFor('filtered', 2);
    expect(recorder.get('poison')).toEqual([1, 1]);
  });
});

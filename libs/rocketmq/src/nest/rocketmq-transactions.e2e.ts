/**
 * Several `@TransactionChecker`s routed by topic (with a default), check-backs that roll back,
 * a bootstrap refused for two checkers of one topic, and `RocketTemplate.request` answered
 * through the request-reply machinery.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Inject, Injectable, type INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { type TransactionCheckMessage } from '../client/index.js';
import { type RocketMQContext } from './context/rocketmq-context.js';
import { RocketListener } from './decorators/rocket-listener.decorator.js';
import { TransactionChecker } from './decorators/transaction-checker.decorator.js';
import { RocketMQConnection } from './module/rocketmq-connection.js';
import { RocketMQModule } from './module/rocketmq.module.js';
import { ROCKETMQ_PRODUCER } from './module/rocketmq.tokens.js';
import { replyAddressOf } from './request-reply/reply-envelope.js';
import { ReplyTimeoutError } from './request-reply/reply-errors.js';
import { ReplyResponder } from './request-reply/reply-responder.js';
import { JsonPayloadCodec } from './serialization/payload-codec.js';
import { RocketTemplate } from './template/rocket-template.js';
import { Recorder, until } from './testing/recorder.js';

interface Payment {
  readonly id: string;
  readonly paid: boolean;
}

@Injectable()
class PaymentCheckers {
  constructor(@Inject(Recorder) private readonly recorder: Recorder) {}

  @TransactionChecker({ topic: 'tx-payments' })
  payments(payment: Payment, message: TransactionCheckMessage): 'COMMIT' | 'ROLLBACK' {
    this.recorder.record('payments-checker', { id: payment.id, topic: message.topic });
    return payment.paid ? 'COMMIT' : 'ROLLBACK';
  }
}

@Injectable()
class FallbackChecker {
  constructor(@Inject(Recorder) private readonly recorder: Recorder) {}

  @TransactionChecker()
  anyTopic(payload: { id: string }, message: TransactionCheckMessage): 'COMMIT' {
    this.recorder.record('default-checker', { id: payload.id, topic: message.topic });
    return 'COMMIT';
  }
}

@Injectable()
class TxListeners {
  constructor(@Inject(Recorder) private readonly recorder: Recorder) {}

  @RocketListener({ topic: 'tx-payments', group: 'tx-payments-g' })
  payment(payment: Payment): void {
    this.recorder.record('payment', payment.id);
  }

  @RocketListener({ topic: 'tx-shipments', group: 'tx-shipments-g' })
  shipment(payload: { id: string }): void {
    this.recorder.record('shipment', payload.id);
  }
}

/** Answers requests as a `@MessagePattern` handler served by RocketMQServer would. */
@Injectable()
class PricingResponder {
  #responder: ReplyResponder | undefined;

  constructor(
    @Inject(ROCKETMQ_PRODUCER)
    private readonly producer: ConstructorParameters<typeof ReplyResponder>[0]['producer'],
  ) {}

  @RocketListener({ topic: 'tx-pricing', group: 'tx-pricing-g' })
  async quote(cart: { items: number[] }, ctx: RocketMQContext): Promise<void> {
    const address = replyAddressOf(ctx.getMessage());
    if (address === undefined || cart.items.includes(-1)) return; // no answer: the requester times out
    this.#responder ??= new ReplyResponder({ producer: this.producer, codec: new JsonPayloadCodec() });
    await this.#responder.respond(address, {
      ok: true,
      value: { total: cart.items.reduce((a, b) => a + b, 0) },
    });
  }
}

describe('@TransactionChecker and request-reply', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-nest-tx-'));
  let app: INestApplicationContext;
  let rocket: RocketTemplate;
  let recorder: Recorder;

  beforeAll(async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        RocketMQModule.forRoot({
          embedded: {
            dataDir,
            port: 0,
            broker: { core: { transaction: { firstCheckMs: 300, checkIntervalMs: 500 } } },
          },
        }),
      ],
      providers: [Recorder, PaymentCheckers, FallbackChecker, TxListeners, PricingResponder],
    }).compile();
    app = await moduleRef.init();
    rocket = app.get(RocketTemplate);
    recorder = app.get(Recorder);
  });

  afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('routes check-backs by topic: the payments checker rolls back an unpaid payment and commits a paid one', async () => {
    const core = app.get(RocketMQConnection).broker!.core;
    await rocket.sendInTransaction('tx-payments', { id: 'unpaid', paid: false }, () => 'UNKNOWN');
    await rocket.sendInTransaction('tx-payments', { id: 'paid', paid: true }, () => 'UNKNOWN');
    await until(() => recorder.get('payment').includes('paid'), 'the payment committed by the check-back');
    await until(() => core.pendingTransactions === 0, 'no transaction left unresolved');
    const checked = recorder.get<{ id: string; topic: string }>('payments-checker');
    expect(checked).toEqual(
      expect.arrayContaining([
        { id: 'unpaid', topic: 'tx-payments' },
        { id: 'paid', topic: 'tx-payments' },
      ]),
    );
    // Rolled back: resolved, and never delivered.
    await rocket.send('tx-payments', { id: 'later', paid: true });
    await until(() => recorder.get('payment').includes('later'), 'a later message');
    expect(recorder.get('payment')).not.toContain('unpaid');
    expect(recorder.get('default-checker')).toEqual([]);
  });

  it('sends check-backs of a topic without its own checker to the default checker', async () => {
    await rocket.sendInTransaction('tx-shipments', { id: 'ship-1' }, () => 'UNKNOWN');
    await until(
      () => recorder.get('shipment').includes('ship-1'),
      'the shipment committed by the default checker',
    );
    expect(recorder.get('default-checker')).toContainEqual({ id: 'ship-1', topic: 'tx-shipments' });
  });

  it('leaves a transaction to the checker when the local transaction throws', async () => {
    await expect(
      rocket.sendInTransaction('tx-payments', { id: 'threw', paid: true }, () => {
        throw new Error('local database down');
      }),
    ).rejects.toThrow('local database down');
    await until(() => recorder.get('payment').includes('threw'), 'the payment committed by the check-back');
  });

  it('answers RocketTemplate.request with the reply to its correlation id, and times out without one', async () => {
    const [a, b] = await Promise.all([
      rocket.request<{ total: number }>('tx-pricing', { items: [1, 2, 3] }, { timeout: 20_000 }),
      rocket.request<{ total: number }>('tx-pricing', { items: [10] }, { timeout: 20_000 }),
    ]);
    expect(a).toEqual({ total: 6 });
    expect(b).toEqual({ total: 10 });
    await expect(rocket.request('tx-pricing', { items: [-1] }, { timeout: 500 })).rejects.toThrow(
      ReplyTimeoutError,
    );
  });
});

describe('@TransactionChecker conflicts', () => {
  @Injectable()
  class Duplicate {
    @TransactionChecker({ topic: 'tx-payments' })
    again(): 'COMMIT' {
      return 'COMMIT';
    }
  }

  it('refuses to bootstrap with two checkers for one topic', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-nest-tx-dup-'));
    const moduleRef = await Test.createTestingModule({
      imports: [RocketMQModule.forRoot({ embedded: { dataDir, port: 0 } })],
      providers: [Recorder, PaymentCheckers, Duplicate],
    }).compile();
    try {
      await expect(moduleRef.init()).rejects.toThrow(/PaymentCheckers.payments|Duplicate.again/);
    } finally {
      await moduleRef.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * The documented way to serve patterns next to the module: a hybrid app with
 * `RocketMQModule.forRoot` (its embedded broker) and `app.connectMicroservice({ strategy })` on
 * `RocketMQConnection.endpoints`; RocketTemplate's requests and RocketMQClientProxy's events reach
 * the app's @MessagePattern / @EventPattern handlers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Controller, Injectable, type INestApplication } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { waitFor } from '../../client/consumer/testing/consumer-testing.js';
import { type RocketMQContext } from '../context/rocketmq-context.js';
import { RocketMQConnection } from '../module/rocketmq-connection.js';
import { RocketMQModule } from '../module/rocketmq.module.js';
import { RemoteHandlerError } from '../request-reply/reply-errors.js';
import { RocketTemplate } from '../template/rocket-template.js';
import { RocketMQClientProxy } from './rocketmq-client-proxy.js';
import { RocketMQServer } from './rocketmq-server.js';
import { CapturingLogger } from './testing/transport-testing.js';
import { RocketMQTransportStatus } from './transport-status.js';

@Injectable()
class Inbox {
  readonly events: Array<{ payload: unknown; tag: string | undefined }> = [];
}

@Controller()
class PricingController {
  constructor(private readonly inbox: Inbox) {}

  @MessagePattern('hy-pricing:quote')
  quote(@Payload() cart: { qty: number }) {
    if (cart.qty < 0) throw new Error('negative quantity');
    return { price: cart.qty * 2 };
  }

  @EventPattern<string>('hy-events')
  event(@Payload() payload: unknown, @Ctx() ctx: RocketMQContext) {
    this.inbox.events.push({ payload, tag: ctx.getTag() });
  }
}

let dataDir: string;
let app: INestApplication;
let server: RocketMQServer;
const logger = new CapturingLogger();

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-hybrid-'));
  const moduleRef = await Test.createTestingModule({
    imports: [RocketMQModule.forRoot({ embedded: { dataDir, port: 0 } })],
    controllers: [PricingController],
    providers: [Inbox],
  }).compile();
  app = moduleRef.createNestApplication({ logger });
  await app.init();
  server = new RocketMQServer({ endpoints: app.get(RocketMQConnection).endpoints, group: 'hy-service' });
  app.connectMicroservice({ strategy: server }, { inheritAppConfig: true });
  await app.startAllMicroservices();
});

afterAll(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

it('RocketTemplate.request is answered by a @MessagePattern handler of the connected RocketMQServer', async () => {
  const template = app.get(RocketTemplate);
  await expect(template.request('hy-pricing:quote', { qty: 21 }, { timeout: 20_000 })).resolves.toEqual({
    price: 42,
  });
  await expect(template.request('hy-pricing:quote', { qty: -1 }, { timeout: 20_000 })).rejects.toBeInstanceOf(
    RemoteHandlerError,
  );
});

it('RocketTemplate.send and RocketMQClientProxy.emit reach an @EventPattern handler', async () => {
  await app.get(RocketTemplate).send('hy-events:from-template', { n: 1 });
  const client = new RocketMQClientProxy({ endpoints: app.get(RocketMQConnection).endpoints });
  try {
    await firstValueFrom(client.emit('hy-events:from-proxy', { n: 2 }));
  } finally {
    await client.close();
  }
  const inbox = app.get(Inbox);
  await waitFor(() => inbox.events.length >= 2, 'both events', 20_000);
  expect(inbox.events).toEqual(
    expect.arrayContaining([
      { payload: { n: 1 }, tag: 'from-template' },
      { payload: { n: 2 }, tag: 'from-proxy' },
    ]),
  );
});

it('closing the app drains the server before the embedded broker goes', async () => {
  const statuses: string[] = [];
  server.status.subscribe((s) => statuses.push(s));
  await app.close();
  expect(statuses).toEqual([
    RocketMQTransportStatus.CONNECTED,
    RocketMQTransportStatus.DRAINING,
    RocketMQTransportStatus.CLOSED,
  ]);
  // Had the broker gone first, the consumer's last acks and its goodbye would have failed, saying so.
  // (The one error line is the handler failure of the first test, logged by Nest's filter.)
  expect(logger.at('warn', 'error').filter((l) => !l.includes('negative quantity'))).toEqual([]);
});

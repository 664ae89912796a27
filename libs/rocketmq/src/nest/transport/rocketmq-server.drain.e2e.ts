/**
 * Graceful close of RocketMQServer on a real built-in broker: an app closed in the middle of a
 * stream finishes what it started, acknowledges it, and leaves the rest to the next instance of
 * its group: nothing is lost, nothing is handled to completion twice.
 */
import { Controller, Injectable } from '@nestjs/common';
import { Ctx, EventPattern, MessagePattern, Payload } from '@nestjs/microservices';
import { firstValueFrom } from 'rxjs';
import { deadLetterIds, delay, waitFor } from '../../client/consumer/testing/consumer-testing.js';
import { type RocketMQContext } from '../context/rocketmq-context.js';
import { RocketMQClientProxy } from './rocketmq-client-proxy.js';
import { startApp, useTransportBroker } from './testing/transport-testing.js';
import { RocketMQTransportStatus } from './transport-status.js';

/** Per app instance: the messages whose handler started, and those whose handler finished. */
@Injectable()
class Work {
  readonly started = new Set<string>();
  readonly done = new Set<string>();
  handlerMs = (): number => 5 + Math.floor(Math.random() * 25);
}

/** Handlers on `topic` (a topic per test: a new group reads a topic from its start). */
function streamController(topic: string) {
  @Controller()
  class StreamController {
    constructor(private readonly work: Work) {}

    @EventPattern<string>(topic)
    async handle(@Payload() _payload: unknown, @Ctx() ctx: RocketMQContext) {
      this.work.started.add(ctx.getMessageId());
      await delay(this.work.handlerMs());
      this.work.done.add(ctx.getMessageId());
    }

    @MessagePattern(`${topic}:rpc`)
    async answer(@Payload() ms: number, @Ctx() ctx: RocketMQContext) {
      this.work.started.add(ctx.getMessageId());
      await delay(ms);
      this.work.done.add(ctx.getMessageId());
      return `answered after ${ms} ms`;
    }
  }
  return StreamController;
}

const env = useTransportBroker();

async function instance(
  topic: string,
  group: string,
  tuning: { maxInFlight?: number; maxConcurrency?: number } = {},
) {
  const app = await startApp(env.fixture, {
    controllers: [streamController(topic)],
    providers: [Work],
    server: { group, ...tuning },
  });
  env.closeAfterTest(app);
  return { app, work: app.get(Work) };
}

it('closing an app mid-stream loses nothing and handles nothing twice: the next instance takes the rest', async () => {
  const group = 'drain-stream-g';
  const TOTAL = 300;
  const ids = new Set<string>();
  for (let i = 0; i < TOTAL; i++) ids.add((await env.sender.send('drain-stream', { i })).messageId);

  const first = await instance('drain-stream', group, { maxInFlight: 32, maxConcurrency: 8 });
  const statuses: string[] = [];
  first.app.server.status.subscribe((s) => statuses.push(s));
  await waitFor(() => first.work.done.size >= 60, 'the first instance in the middle of the stream', 30_000);
  const closing = first.app.close();
  await delay(0);
  expect(statuses.at(-1)).toBe(RocketMQTransportStatus.DRAINING);
  await closing;
  expect(statuses.at(-1)).toBe(RocketMQTransportStatus.CLOSED);
  // Every handler that started finished before close() resolved.
  expect([...first.work.started].filter((id) => !first.work.done.has(id))).toEqual([]);
  const doneByFirst = new Set(first.work.done);
  expect(doneByFirst.size).toBeLessThan(TOTAL); // it really was mid-stream

  const second = await instance('drain-stream', group);
  await waitFor(
    () => doneByFirst.size + second.work.done.size >= TOTAL,
    'the rest by the second instance',
    60_000,
  );
  await waitFor(() => env.fixture.broker.core.inFlightCount(group) === 0, 'every message settled');
  await delay(500); // anything redelivered would show up now

  const handledTwice = [...second.work.done].filter((id) => doneByFirst.has(id));
  expect(handledTwice).toEqual([]);
  const all = new Set([...doneByFirst, ...second.work.done]);
  expect([...ids].filter((id) => !all.has(id))).toEqual([]); // nothing lost
  expect(all.size).toBe(TOTAL);
  expect(env.fixture.broker.core.lag(group, 'drain-stream').total).toBe(0);
  expect(deadLetterIds(env.fixture.broker, group)).toEqual([]);
  for (const app of [first.app, second.app]) expect(app.logger.at('warn', 'error')).toEqual([]);
});

it('a long handler running at close finishes, and its message is acknowledged, not delivered again', async () => {
  const group = 'drain-long-g';
  const first = await instance('drain-long', group);
  first.work.handlerMs = () => 1_500;
  const { messageId } = await env.sender.send('drain-long', 'long job');
  await waitFor(() => first.work.started.has(messageId), 'the handler started');
  await first.app.close();
  expect(first.work.done.has(messageId)).toBe(true);

  const second = await instance('drain-long', group);
  await waitFor(() => env.fixture.broker.core.inFlightCount(group) === 0, 'nothing held');
  await delay(1_000);
  expect(second.work.started.has(messageId)).toBe(false);
  expect(env.fixture.broker.core.lag(group, 'drain-long').total).toBe(0);
});

it('a request being handled at close is still answered: replies go out before the producer closes', async () => {
  const group = 'drain-rpc-g';
  const service = await instance('drain-rpc', group);
  const client = new RocketMQClientProxy({ endpoints: env.fixture.endpoint });
  try {
    const answer = firstValueFrom(client.send('drain-rpc:rpc', 800));
    await waitFor(() => service.work.started.size === 1, 'the request being handled', 20_000);
    await service.app.close();
    await expect(answer).resolves.toBe('answered after 800 ms');
  } finally {
    await client.close();
  }
});

/**
 * Bench child: one side of the Nest-level comparison (nest-case.ts). Builds the Nest app, warms it
 * up on the same topic or queue (those messages are counted apart), then sends N payloads with a
 * window of 256 and measures until the handler has seen every one.
 */
import 'reflect-metadata';
import { Controller, Injectable, Module, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import {
  ClientProxyFactory,
  Ctx,
  EventPattern,
  Payload,
  Transport,
  type ClientProxy,
  type MicroserviceOptions,
  type RmqContext,
} from '@nestjs/microservices';
import { connect } from 'amqplib';
import { lastValueFrom } from 'rxjs';
import { RocketListener, RocketMQModule, RocketTemplate } from '@rocketnest/rocketmq/nest/index.js';
import { answerAndExit } from '../common/child-process.js';
import { nowMs, percentile, runWindowed, waitUntil } from '../common/measure.js';
import {
  NEST_MARKER,
  NEST_PAD_CHARS,
  NEST_PATTERN,
  type NestBenchPayload,
  type NestCaseInput,
  type NestMeasure,
} from './nest-case.js';
import { CONSUMER_PREFETCH, PUBLISH_WINDOW } from './target.js';

type OnPayload = (payload: NestBenchPayload) => void;

interface NestSideApp {
  send(payload: NestBenchPayload): Promise<unknown>;
  close(): Promise<void>;
}

/** A RocketMQModule app with one @RocketListener on `topic`. */
async function oursApp(endpoint: string, topic: string, onPayload: OnPayload): Promise<NestSideApp> {
  @Injectable()
  class BenchListener {
    @RocketListener({ topic, group: `GID_${topic}`, maxInFlight: CONSUMER_PREFETCH })
    handle(payload: NestBenchPayload): void {
      onPayload(payload);
    }
  }
  @Module({
    imports: [RocketMQModule.forRoot({ endpoints: endpoint, producer: { topics: [topic] } })],
    providers: [BenchListener],
  })
  class BenchModule {}
  const app: INestApplicationContext = await NestFactory.createApplicationContext(BenchModule, {
    logger: false,
  });
  await app.init();
  const template = app.get(RocketTemplate);
  return { send: (payload) => template.send(topic, payload), close: () => app.close() };
}

/** A Transport.RMQ microservice (noAck: false, the handler acks) and a ClientRMQ emitting to it. */
async function rmqApp(url: string, queue: string, onPayload: OnPayload): Promise<NestSideApp> {
  @Controller()
  class BenchController {
    @EventPattern<string>(NEST_PATTERN)
    handle(@Payload() payload: NestBenchPayload, @Ctx() context: RmqContext): void {
      onPayload(payload);
      (context.getChannelRef() as { ack(message: unknown): void }).ack(context.getMessage());
    }
  }
  @Module({ controllers: [BenchController] })
  class BenchModule {}
  const queueOptions = { durable: true };
  const server = await NestFactory.createMicroservice<MicroserviceOptions>(BenchModule, {
    transport: Transport.RMQ,
    options: { urls: [url], queue, queueOptions, noAck: false, prefetchCount: CONSUMER_PREFETCH },
    logger: false,
  });
  await server.listen();
  const client: ClientProxy = ClientProxyFactory.create({
    transport: Transport.RMQ,
    options: { urls: [url], queue, queueOptions, persistent: true },
  });
  await client.connect();
  return {
    // Resolves on the broker's publisher confirm (ClientRMQ publishes on a confirm channel).
    send: (payload) => lastValueFrom(client.emit(NEST_PATTERN, payload), { defaultValue: undefined }),
    async close() {
      await client.close();
      await server.close();
      const connection = await connect(url);
      const channel = await connection.createChannel();
      await channel.deleteQueue(queue);
      await connection.close();
    },
  };
}

async function run(input: NestCaseInput): Promise<NestMeasure> {
  const n = input.messages;
  const pad = 'a'.repeat(NEST_PAD_CHARS);
  const seen = new Uint8Array(n);
  const latencies = new Float64Array(n);
  let distinct = 0;
  let deliveries = 0;
  let warm = 0;
  let lastAt = 0;
  // Warm-up payloads carry negative indices: counted apart, never as measured messages.
  const onPayload: OnPayload = (payload) => {
    if (payload.i < 0) {
      warm++;
      return;
    }
    deliveries++;
    if (payload.i >= n || seen[payload.i]) return;
    seen[payload.i] = 1;
    latencies[payload.i] = nowMs() - payload.t;
    distinct++;
    lastAt = nowMs();
  };
  const app =
    input.side === 'ours'
      ? await oursApp(input.address, input.name, onPayload)
      : await rmqApp(input.address, input.name, onPayload);
  try {
    const w = input.warmupMessages;
    await runWindowed(w, PUBLISH_WINDOW, (i) => app.send({ i: -1 - i, t: nowMs(), pad }));
    await waitUntil(
      () => `${w} warm-up messages (${warm} so far)`,
      () => warm >= w,
      input.consumeTimeoutMs,
    );
    const sent = await runWindowed(n, PUBLISH_WINDOW, (i) => app.send({ i, t: nowMs(), pad }));
    await waitUntil(
      () => `${n} messages through the handler (${distinct} so far)`,
      () => distinct >= n,
      input.consumeTimeoutMs,
    );
    return {
      side: input.side,
      messages: n,
      msgsPerSecond: n / ((lastAt - sent.startedAt) / 1000),
      pubMsgsPerSecond: n / ((sent.endedAt - sent.startedAt) / 1000),
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      consumed: distinct,
      deliveries,
    };
  } finally {
    await app.close();
  }
}

const raw = process.argv[2];
if (raw === undefined) {
  process.stderr.write('usage: nest-child <NestCaseInput JSON>\n');
  process.exit(2);
}
answerAndExit(NEST_MARKER, () => run(JSON.parse(raw) as NestCaseInput));

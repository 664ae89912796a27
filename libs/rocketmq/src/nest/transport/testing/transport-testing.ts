/**
 * Test support for the transport: a Nest microservice on RocketMQServer over a real built-in
 * broker, a logger that keeps what Nest logs, and messages sent the way any producer would.
 */
import { type INestMicroservice, type LoggerService, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { Producer, silentLogger, type SendReceipt } from '../../../client/index.js';
import { startBroker, type BrokerFixture } from '../../../client/testing/broker-fixture.js';
import { JsonPayloadCodec } from '../../serialization/payload-codec.js';
import { RocketMQServer } from '../rocketmq-server.js';
import { type RocketMQServerOptions } from '../rocketmq-server-options.js';

/** Keeps every line Nest logs (tests assert on warnings), prints nothing. */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown, context?: string): void {
    this.#push('log', message, context);
  }
  error(message: unknown, ...rest: unknown[]): void {
    this.#push('error', message, typeof rest.at(-1) === 'string' ? (rest.at(-1) as string) : undefined);
  }
  warn(message: unknown, context?: string): void {
    this.#push('warn', message, context);
  }
  debug(message: unknown, context?: string): void {
    this.#push('debug', message, context);
  }
  verbose(message: unknown, context?: string): void {
    this.#push('verbose', message, context);
  }
  /** Lines of these levels. */
  at(...levels: string[]): string[] {
    return this.lines.filter((line) => levels.some((level) => line.startsWith(`${level} `)));
  }
  #push(level: string, message: unknown, context: string | undefined): void {
    const text = message instanceof Error ? `${message.name}: ${message.message}` : String(message);
    this.lines.push(`${level} [${context ?? '-'}] ${text}`);
  }
}

export interface TestApp {
  readonly app: INestMicroservice;
  readonly server: RocketMQServer;
  readonly logger: CapturingLogger;
  get<T>(type: Type<T>): T;
  close(): Promise<void>;
}

/**
 * A microservice with `controllers` (and `providers`) served by a RocketMQServer on the fixture's
 * broker; `setup` runs before listen (global pipes, filters…).
 */
export async function startApp(
  fixture: BrokerFixture,
  options: {
    readonly controllers?: Type[];
    readonly providers?: Type[];
    readonly server: (Omit<RocketMQServerOptions, 'endpoints'> & { endpoints?: string }) | RocketMQServer;
    readonly setup?: (app: INestMicroservice) => void;
  },
): Promise<TestApp> {
  const moduleRef = await Test.createTestingModule({
    controllers: options.controllers ?? [],
    providers: options.providers ?? [],
  }).compile();
  const logger = new CapturingLogger();
  const server =
    options.server instanceof RocketMQServer
      ? options.server
      : new RocketMQServer({ endpoints: fixture.endpoint, ...options.server });
  const app = moduleRef.createNestMicroservice({ strategy: server, logger });
  options.setup?.(app);
  await app.listen();
  let closed: Promise<void> | undefined;
  return {
    app,
    server,
    logger,
    get: <T>(type: Type<T>) => app.get(type),
    close: () => (closed ??= app.close()),
  };
}

/** Sends payloads the way another service would (our producer, the default codec). */
export class TestSender {
  readonly #codec = new JsonPayloadCodec();
  private constructor(private readonly producer: Producer) {}

  static async start(fixture: BrokerFixture): Promise<TestSender> {
    return new TestSender(await Producer.start({ endpoints: fixture.endpoint, logger: silentLogger }));
  }

  send(
    topic: string,
    payload: unknown,
    extra: { tag?: string; keys?: string[]; properties?: Record<string, string> } = {},
  ): Promise<SendReceipt> {
    const encoded = this.#codec.serialize(payload);
    return this.producer.send({
      topic,
      body: encoded.body,
      ...(extra.tag === undefined ? {} : { tag: extra.tag }),
      ...(extra.keys === undefined ? {} : { keys: extra.keys }),
      properties: { ...extra.properties, ...encoded.properties },
    });
  }

  /** A raw body with the given properties (no codec). */
  sendRaw(
    topic: string,
    body: Buffer,
    properties: Record<string, string>,
    tag?: string,
  ): Promise<SendReceipt> {
    return this.producer.send({ topic, body, properties, ...(tag === undefined ? {} : { tag }) });
  }

  close(): Promise<void> {
    return this.producer.close();
  }
}

/** What `useTransportBroker` gives a test file (read inside tests: set in `beforeAll`). */
export interface TransportBroker {
  readonly fixture: BrokerFixture;
  readonly sender: TestSender;
  /** Closes `app` after the current test. */
  closeAfterTest<T extends TestApp>(app: T): T;
}

/**
 * The hooks a transport test file shares: one built-in broker and one sender for the file, the
 * apps of a test closed after it, and at the end no problem the broker noticed (an ack of an
 * unknown or stale receipt, anything else odd).
 */
export function useTransportBroker(): TransportBroker {
  let fixture: BrokerFixture | undefined;
  let sender: TestSender | undefined;
  const apps: TestApp[] = [];
  beforeAll(async () => {
    fixture = await startBroker();
    sender = await TestSender.start(fixture);
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });
  afterAll(async () => {
    await sender?.close();
    await fixture?.close();
    expect(fixture?.problems).toEqual([]);
  });
  return {
    get fixture() {
      if (!fixture) throw new Error('the broker starts in beforeAll');
      return fixture;
    },
    get sender() {
      if (!sender) throw new Error('the sender starts in beforeAll');
      return sender;
    },
    closeAfterTest(app) {
      apps.push(app);
      return app;
    },
  };
}

import { status as GrpcStatus } from '@grpc/grpc-js';
import { type SendMessageRequest } from '@rocketnest/broker/grpc/proto-types.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import {
  BadRequestError,
  InternalServerError,
  RequestTimeoutError,
  StartupTimeoutError,
  TooManyRequestsError,
  UnavailableError,
} from '../errors.js';
import { silentLogger } from '../logger.js';
import { MemoryLogger } from '../testing/broker-fixture.js';
import {
  okEntries,
  refusal,
  startFakeMessagingServer,
  type FakeMessagingServer,
} from '../testing/fake-messaging-server.js';
import { Producer } from './producer.js';
import { type ProducerOptions } from './producer-options.js';

describe('Producer retries (scripted server)', () => {
  let server: FakeMessagingServer;
  const producers: Producer[] = [];
  const start = async (options: Partial<ProducerOptions> = {}) => {
    const producer = await Producer.start({
      endpoints: server.endpoint,
      logger: silentLogger,
      retryBackoff: { initialMs: 5, maxMs: 20, multiplier: 2 },
      ...options,
    });
    producers.push(producer);
    return producer;
  };
  const sentIds = (callIndex: number): string[] => {
    const sends = server.calls.filter((c) => c.method === 'SendMessage');
    return ((sends[callIndex]!.request as SendMessageRequest).messages ?? []).map(
      (m) => m.system_properties?.message_id ?? '',
    );
  };

  beforeEach(async () => {
    server = await startFakeMessagingServer();
  });
  afterEach(async () => {
    await Promise.all(producers.splice(0).map((p) => p.close()));
    await server.close();
  });

  it('retries 42900 with backoff and succeeds on the third attempt, same message id each time', async () => {
    server.script = {
      sendMessage: (req, i) => (i < 2 ? refusal(StatusCode.TOO_MANY_REQUESTS) : okEntries(req)),
    };
    const producer = await start();
    const receipt = await producer.send({ topic: 't', body: 'x' });
    expect(server.count('SendMessage')).toBe(3);
    expect(sentIds(0)).toEqual([receipt.messageId]);
    expect(sentIds(2)).toEqual([receipt.messageId]);
    expect(producer.stats).toMatchObject({ sent: 1, failed: 0, retries: 2, sendCalls: 3 });
  });

  it('gives up after maxAttempts with the last typed error (retryable, with the request id)', async () => {
    server.script = { sendMessage: () => refusal(StatusCode.TOO_MANY_REQUESTS, 'slow down') };
    const producer = await start({ maxAttempts: 4 });
    const err = await producer.send({ topic: 't', body: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TooManyRequestsError);
    expect((err as TooManyRequestsError).retryable).toBe(true);
    expect((err as TooManyRequestsError).requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(server.count('SendMessage')).toBe(4);
    expect(producer.stats.failed).toBe(1);
  });

  it('retries a transport failure (gRPC UNAVAILABLE) and an internal error (50000)', async () => {
    server.script = {
      sendMessage: (req, i) =>
        i === 0
          ? { grpcError: GrpcStatus.UNAVAILABLE, details: 'gone' }
          : i === 1
            ? refusal(StatusCode.INTERNAL_ERROR)
            : okEntries(req),
    };
    const producer = await start();
    await producer.send({ topic: 't', body: 'x' });
    expect(server.count('SendMessage')).toBe(3);
  });

  it('maps exhausted UNAVAILABLE to UnavailableError carrying the gRPC code', async () => {
    server.script = { sendMessage: () => ({ grpcError: GrpcStatus.UNAVAILABLE, details: 'down' }) };
    const producer = await start({ maxAttempts: 2 });
    const err = await producer.send({ topic: 't', body: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnavailableError);
    expect((err as UnavailableError).grpcCode).toBe(GrpcStatus.UNAVAILABLE);
    expect(server.count('SendMessage')).toBe(2);
  });

  it('does not retry a non-retryable refusal', async () => {
    server.script = { sendMessage: () => refusal(StatusCode.ILLEGAL_TOPIC, 'no') };
    const producer = await start();
    const err = await producer.send({ topic: 't', body: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).code).toBe(StatusCode.ILLEGAL_TOPIC);
    expect(server.count('SendMessage')).toBe(1);
  });

  it('times out a silent SendMessage per attempt with RequestTimeoutError', async () => {
    server.script = { sendMessage: () => 'silent' };
    const producer = await start({ requestTimeoutMs: 200, maxAttempts: 2 });
    const started = Date.now();
    const err = await producer.send({ topic: 't', body: 'x' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(server.count('SendMessage')).toBe(2);
    expect(Date.now() - started).toBeLessThan(5_000); // not the default 3 s deadline per attempt
  });

  it('maps per-entry statuses of a batch back to each caller and retries only the failed entry', async () => {
    const failedOnce = new Set<string>();
    server.script = {
      sendMessage: (req) => {
        const res = okEntries(req);
        res.entries = res.entries!.map((e) => {
          if (e.message_id && bodyOf(req, e.message_id) === 'flaky' && !failedOnce.has(e.message_id)) {
            failedOnce.add(e.message_id);
            return { ...e, status: { code: StatusCode.TOO_MANY_REQUESTS, message: 'later' } };
          }
          if (e.message_id && bodyOf(req, e.message_id) === 'bad') {
            return { ...e, status: { code: StatusCode.MESSAGE_CORRUPTED, message: 'corrupt' } };
          }
          return e;
        });
        res.status = { code: StatusCode.MULTIPLE_RESULTS, message: 'mixed' };
        return res;
      },
    };
    const producer = await start();
    const results = await Promise.allSettled([
      producer.send({ topic: 't', body: 'good' }),
      producer.send({ topic: 't', body: 'flaky' }),
      producer.send({ topic: 't', body: 'bad' }),
    ]);
    expect(server.count('SendMessage')).toBe(2);
    expect(sentIds(0)).toHaveLength(3);
    expect(sentIds(1)).toHaveLength(1);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'rejected']);
    const bad = (results[2] as PromiseRejectedResult).reason as BadRequestError;
    expect(bad.code).toBe(StatusCode.MESSAGE_CORRUPTED);
  });

  it('re-sends a batch refused as a whole one message per call, so only the faulty message fails', async () => {
    server.script = {
      sendMessage: (req) =>
        (req.messages ?? []).some((m) => m.body?.toString() === 'poison')
          ? refusal(StatusCode.ILLEGAL_MESSAGE_PROPERTY_KEY, 'a server-only rule')
          : okEntries(req),
    };
    const producer = await start();
    const results = await Promise.allSettled(
      ['a', 'poison', 'b', 'c'].map((body) => producer.send({ topic: 't', body })),
    );
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(((results[1] as PromiseRejectedResult).reason as BadRequestError).code).toBe(
      StatusCode.ILLEGAL_MESSAGE_PROPERTY_KEY,
    );
    expect(server.count('SendMessage')).toBe(5);
  });

  it('never retries a transactional half message', async () => {
    server.script = { sendMessage: () => refusal(StatusCode.INTERNAL_ERROR, 'oops') };
    const producer = await start();
    let ran = false;
    const err = await producer
      .sendInTransaction({ topic: 't', body: 'tx' }, () => {
        ran = true;
        return 'COMMIT';
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InternalServerError);
    expect(server.count('SendMessage')).toBe(1);
    expect(server.count('EndTransaction')).toBe(0);
    expect(ran).toBe(false);
  });

  it('ends a committed transaction with EndTransaction COMMIT from the client', async () => {
    const producer = await start();
    const result = await producer.sendInTransaction({ topic: 't', body: 'tx' }, () => 'COMMIT');
    expect(result.receipt.transactionId).toBe('tx-0');
    const end = server.calls.find((c) => c.method === 'EndTransaction')!.request as Record<string, unknown>;
    expect(end).toMatchObject({
      message_id: result.receipt.messageId,
      transaction_id: 'tx-0',
      resolution: 1,
      source: 1,
      topic: { name: 't', resource_namespace: '' },
    });
    const half = server.calls.find((c) => c.method === 'SendMessage')!.request as SendMessageRequest;
    expect(half.messages![0]!.system_properties!.message_type).toBe(4);
  });

  it('answers a check-back with the checker’s resolution as EndTransaction SERVER_CHECK', async () => {
    const producer = await start({
      namespace: 'ns1',
      checker: (m) => (m.body.toString() === 'keep' ? 'COMMIT' : 'ROLLBACK'),
    });
    await producer.send({ topic: 't', body: 'x' });
    const recover = (transactionId: string, body: string) => ({
      recover_orphaned_transaction_command: {
        transaction_id: transactionId,
        message: {
          topic: { resource_namespace: 'ns1', name: 't' },
          system_properties: { message_id: `id-${transactionId}`, body_digest: { type: 2, checksum: 'x' } },
          body: Buffer.from(body),
        },
      },
    });
    for (const stream of server.telemetryStreams) {
      stream.write(recover('tx-a', 'keep'));
      stream.write(recover('tx-b', 'drop'));
    }
    await waitFor(() => server.count('EndTransaction') === 2);
    const ends = server.calls
      .filter((c) => c.method === 'EndTransaction')
      .map((c) => c.request as Record<string, unknown>)
      .sort((a, b) => String(a['transaction_id']).localeCompare(String(b['transaction_id'])));
    expect(ends).toMatchObject([
      { transaction_id: 'tx-a', message_id: 'id-tx-a', resolution: 1, source: 2, topic: { name: 't' } },
      { transaction_id: 'tx-b', message_id: 'id-tx-b', resolution: 2, source: 2, topic: { name: 't' } },
    ]);
  });

  it('bounds the FIFO calls of a topic to maxFifoInFlight, one call per group at a time', async () => {
    let inFlight = 0;
    let peak = 0;
    const perGroup = new Map<string, number>();
    let groupOverlap = false;
    server.script = {
      sendMessage: async (req) => {
        const group = req.messages?.[0]?.system_properties?.message_group ?? '';
        inFlight++;
        peak = Math.max(peak, inFlight);
        perGroup.set(group, (perGroup.get(group) ?? 0) + 1);
        if (perGroup.get(group)! > 1) groupOverlap = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        perGroup.set(group, perGroup.get(group)! - 1);
        return okEntries(req);
      },
    };
    const producer = await start({ batching: { maxFifoInFlight: 4 } });
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        producer.send({ topic: 't', body: `${i}`, messageGroup: `g${i % 12}` }),
      ),
    );
    expect(peak).toBe(4);
    expect(groupOverlap).toBe(false);
    // One message per call by default (Apache's proxy would scatter a batched group).
    expect(server.count('SendMessage')).toBe(60);
    for (const call of server.calls.filter((c) => c.method === 'SendMessage')) {
      expect((call.request as SendMessageRequest).messages).toHaveLength(1);
    }
  });

  it('reports a sendAsync callback that throws through the logger and carries on', async () => {
    const logger = new MemoryLogger();
    const producer = await start({ logger });
    await new Promise<void>((resolve) =>
      producer.sendAsync({ topic: 't', body: 'x' }, () => {
        setImmediate(resolve);
        throw new Error('callback bug');
      }),
    );
    expect(logger.at('error').join()).toMatch(/sendAsync callback threw: Error: callback bug/);
    await expect(producer.send({ topic: 't', body: 'y' })).resolves.toBeDefined();
  });

  it('sends the official metadata on every call, signed when credentials are given', async () => {
    const producer = await start({ credentials: { accessKey: 'ak', secretKey: 'sk' }, namespace: 'ns1' });
    await producer.send({ topic: 't', body: 'x' });
    const send = server.calls.find((c) => c.method === 'SendMessage')!;
    const header = (name: string) => String(send.metadata.get(name)[0] ?? '');
    expect(header('x-mq-language')).toBe('HTTP');
    expect(header('x-mq-protocol')).toBe('v2');
    expect(header('x-mq-client-id')).toBe(producer.clientId);
    expect(header('x-mq-namespace')).toBe('ns1');
    expect(header('x-mq-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    expect(header('x-mq-date-time')).toMatch(/^\d{8}T\d{6}Z$/);
    expect(header('authorization')).toMatch(
      /^MQv2-HMAC-SHA1 Credential=ak, SignedHeaders=x-mq-date-time, Signature=[0-9A-F]{40}$/,
    );
    const message = (send.request as SendMessageRequest).messages![0]!;
    expect(message.topic).toEqual({ resource_namespace: 'ns1', name: 't' });
  });
});

describe('Producer startup against a server that never answers Settings', () => {
  it('fails with StartupTimeoutError within the startup timeout and releases everything', async () => {
    const server = await startFakeMessagingServer({ telemetry: 'silent' });
    try {
      const started = Date.now();
      const err = await Producer.start({
        endpoints: server.endpoint,
        startupTimeoutMs: 800,
        logger: silentLogger,
      }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StartupTimeoutError);
      expect((err as Error).message).toMatch(/did not answer the client's settings within \d+ ms/);
      expect(Date.now() - started).toBeLessThan(2_000);
      // The half-open telemetry stream was cancelled by the failed start.
      await waitFor(() => server.telemetryStreams.size === 0);
    } finally {
      await server.close();
    }
  });
});

function bodyOf(req: SendMessageRequest, messageId: string): string | undefined {
  return req.messages?.find((m) => m.system_properties?.message_id === messageId)?.body?.toString();
}

async function waitFor(predicate: () => boolean, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

import { Metadata, type ServerUnaryCall, type sendUnaryData } from '@grpc/grpc-js';
import { systemClock } from '../core/clock.js';
import { IllegalTopicError } from '../core/errors.js';
import { StatusCode } from '../status-code.js';
import { CallContext, type CallLike } from './call-context.js';
import { type ClientRegistry } from './client-registry.js';
import { UnauthorizedError } from './errors.js';
import { type HandlerDeps } from './handler-deps.js';
import { type Status } from './proto-types.js';
import { MemoryLogger } from './testing/grpc-harness.js';
import { unary } from './unary.js';

interface Res {
  status?: Status;
  value?: number;
}

function fakeDeps(authenticate?: (call: CallLike) => CallContext) {
  const logger = new MemoryLogger();
  const touched: string[] = [];
  const deps = {
    core: undefined as never,
    clients: { touch: (id: string) => touched.push(id) } as unknown as ClientRegistry,
    endpoint: () => ({ host: '127.0.0.1', port: 8081 }),
    authenticate: authenticate ?? ((call: CallLike) => CallContext.fromCall(call)),
    logger,
    clock: systemClock,
    shutdown: new AbortController().signal,
  } satisfies HandlerDeps;
  return { deps, logger, touched };
}

function fakeCall(clientId?: string): ServerUnaryCall<object, Res> {
  const metadata = new Metadata();
  if (clientId !== undefined) metadata.set('x-mq-client-id', clientId);
  return { request: {}, metadata, getPeer: () => 'ipv4:10.0.0.1:5000' } as unknown as ServerUnaryCall<
    object,
    Res
  >;
}

function invoke(
  handler: ReturnType<typeof unary<object, Res>>,
  call: ServerUnaryCall<object, Res>,
): Promise<Res> {
  return new Promise((resolve, reject) => {
    const callback: sendUnaryData<Res> = (err, res) => (err ? reject(err) : resolve(res as Res));
    handler(call, callback);
  });
}

describe('unary()', () => {
  it('answers the handler response and marks the client alive', async () => {
    const { deps, touched } = fakeDeps();
    const handler = unary<object, Res>(deps, 'Test', (_req, ctx) => {
      expect(ctx.peer).toBe('10.0.0.1:5000');
      return { status: { code: StatusCode.OK }, value: 7 };
    });
    expect(await invoke(handler, fakeCall('c1'))).toEqual({ status: { code: StatusCode.OK }, value: 7 });
    expect(touched).toEqual(['c1']);
  });

  it("turns a RocketError into a status response with the error's code", async () => {
    const { deps, logger } = fakeDeps();
    const handler = unary<object, Res>(deps, 'Test', () => {
      throw new IllegalTopicError('x y', 'bad');
    });
    const res = await invoke(handler, fakeCall('c1'));
    expect(res.status!.code).toBe(StatusCode.ILLEGAL_TOPIC);
    expect(logger.errors()).toEqual([]);
  });

  it('turns an unexpected throw into INTERNAL_ERROR and logs its stack, sending no details', async () => {
    const { deps, logger } = fakeDeps();
    const handler = unary<object, Res>(deps, 'Test', () => {
      throw new TypeError('secret internals');
    });
    const res = await invoke(handler, fakeCall('c1'));
    expect(res).toEqual({ status: { code: StatusCode.INTERNAL_ERROR, message: 'internal error' } });
    expect(logger.errors()[0]).toContain('TypeError: secret internals');
  });

  it('turns a rejected promise into a status response', async () => {
    const { deps } = fakeDeps();
    const handler = unary<object, Res>(deps, 'Test', () => Promise.reject(new Error('late')));
    expect((await invoke(handler, fakeCall('c1'))).status!.code).toBe(StatusCode.INTERNAL_ERROR);
  });

  it('answers CLIENT_ID_REQUIRED before running the handler', async () => {
    const { deps } = fakeDeps();
    let ran = false;
    const handler = unary<object, Res>(deps, 'Test', () => {
      ran = true;
      return {};
    });
    expect((await invoke(handler, fakeCall())).status!.code).toBe(StatusCode.CLIENT_ID_REQUIRED);
    expect(ran).toBe(false);
  });

  it('answers an authentication failure before the client id check', async () => {
    const { deps } = fakeDeps(() => {
      throw new UnauthorizedError('no');
    });
    const handler = unary<object, Res>(deps, 'Test', () => ({}));
    expect((await invoke(handler, fakeCall())).status!.code).toBe(StatusCode.UNAUTHORIZED);
  });
});

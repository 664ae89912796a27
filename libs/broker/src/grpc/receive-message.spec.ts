/**
 * ReceiveMessage's revert on cancel, driven through a stand-in for grpc-js's server call so that the
 * cancellation lands exactly where a real one only sometimes does: after the core handed messages
 * out and before or while the answer is written. Real BrokerCore on a ManualClock.
 */
import { EventEmitter } from 'node:events';
import { Metadata } from '@grpc/grpc-js';
import { CoreHarness, SECOND } from '../core/broker-core-testing.js';
import { MAX_BODY_SIZE } from '../core/limits.js';
import { StatusCode } from '../status-code.js';
import { CallContext } from './call-context.js';
import { ClientRegistry } from './client-registry.js';
import { type HandlerDeps } from './handler-deps.js';
import { type ReceiveMessageRequest, type ReceiveMessageResponse } from './proto-types.js';
import { receiveMessageHandler } from './receive-message.js';
import { simpleRequest } from './receive-message-testing.js';

const CLIENT = 'unit-host@1@1@u';

/** The parts of a grpc-js ServerWritableStream the handler uses. */
class FakeCall extends EventEmitter {
  readonly metadata = new Metadata();
  readonly written: ReceiveMessageResponse[] = [];
  cancelled = false;
  ended = false;
  /** Cancel the call when this frame (0-based) is written. */
  cancelAtWrite: number | undefined;
  /** Throw from this write (0-based). */
  throwAtWrite: number | undefined;

  constructor(readonly request: ReceiveMessageRequest) {
    super();
    this.metadata.set('x-mq-client-id', CLIENT);
  }
  getPeer(): string {
    return '127.0.0.1:40000';
  }
  getDeadline(): number {
    return Date.now() + 10_000;
  }
  write(frame: ReceiveMessageResponse): boolean {
    const index = this.written.length;
    if (index === this.throwAtWrite) throw new Error('socket gone');
    this.written.push(frame);
    if (index === this.cancelAtWrite) this.cancel();
    return true;
  }
  end(): void {
    this.ended = true;
    setImmediate(() => this.emit('finish'));
  }
  cancel(): void {
    this.cancelled = true;
    this.emit('cancelled', 'cancelled');
  }
}

let h: CoreHarness;
let deps: HandlerDeps;
let serve: (call: FakeCall) => void;

async function setup(options: Parameters<typeof CoreHarness.open>[0] = {}): Promise<void> {
  h = await CoreHarness.open(options);
  deps = {
    core: h.core,
    clients: new ClientRegistry({ core: h.core, clock: h.clock, logger: h.logger }),
    endpoint: () => ({ host: '127.0.0.1', port: 8081 }),
    authenticate: (call) => CallContext.fromCall(call),
    logger: h.logger,
    clock: h.clock,
    shutdown: new AbortController().signal,
  };
  const handler = receiveMessageHandler(deps);
  serve = (call) => handler(call as never);
}

beforeEach(async () => {
  await setup();
});
afterEach(async () => {
  deps.clients.close();
  await h.close();
});

/** Serves `call` and waits until it ended, was cancelled, or nothing more happens. */
async function run(call: FakeCall): Promise<void> {
  serve(call);
  for (let i = 0; i < 50 && !call.ended; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('ReceiveMessage: revert on cancel', () => {
  it('hands the messages back when the call is cancelled while the answer is written', async () => {
    await h.send('t');
    await h.send('t');
    const call = new FakeCall(simpleRequest('g', 't'));
    call.cancelAtWrite = 1; // after the status frame and the first message
    await run(call);

    expect(h.core.inFlightCount('g')).toBe(0);
    const again = h.receive('g', 't');
    expect(again).toHaveLength(2);
    expect(again.map((m) => m.deliveryAttempt)).toEqual([1, 1]); // no attempt counted
  });

  it('hands the messages back when the call was cancelled before the answer began', async () => {
    await h.send('t');
    const call = new FakeCall(simpleRequest('g', 't'));
    call.cancelled = true; // gone before the handler looked (grpc-js emits nothing then)
    await run(call);
    expect(call.written).toEqual([]);
    expect(h.receive('g', 't').map((m) => m.deliveryAttempt)).toEqual([1]);
  });

  it('hands the messages back and fails the call when a write throws', async () => {
    await h.send('t');
    const call = new FakeCall(simpleRequest('g', 't'));
    call.throwAtWrite = 1;
    const errors: Error[] = [];
    call.on('error', (err: Error) => errors.push(err));
    await run(call);
    expect(errors.map((e) => e.message)).toEqual(['socket gone']);
    expect(h.receive('g', 't').map((m) => m.deliveryAttempt)).toEqual([1]);
  });

  it('keeps the leases of a complete answer, also when grpc-js reports the finished call as cancelled', async () => {
    await h.send('t');
    const call = new FakeCall(simpleRequest('g', 't'));
    await run(call);
    expect(call.written.map((f) => Object.keys(f)[0])).toEqual(['status', 'message', 'delivery_timestamp']);
    await new Promise((resolve) => setImmediate(resolve));
    call.cancel(); // grpc-js signals 'cancelled' after the trailers of every call
    expect(h.core.inFlightCount('g')).toBe(1);
    // The Simple consumer's 15 s lease runs out: the message is visible again at once, attempt 2.
    await h.advance(16 * SECOND);
    expect(h.receive('g', 't').map((m) => m.deliveryAttempt)).toEqual([2]);
  });

  it('stops a long poll at once when the call is cancelled, taking nothing', async () => {
    const call = new FakeCall(simpleRequest('g', 't', { long_polling_timeout: { seconds: 20 } }));
    serve(call);
    await new Promise((resolve) => setImmediate(resolve));
    call.cancel();
    await h.send('t');
    await new Promise((resolve) => setImmediate(resolve));
    expect(call.written).toEqual([]);
    expect(h.core.inFlightCount('g')).toBe(0);
  });

  it('answers the error status alone when the core refuses the request', async () => {
    const call = new FakeCall(simpleRequest('g', 't', { invisible_duration: { seconds: 1 } }));
    await run(call);
    expect(call.written).toEqual([
      { status: expect.objectContaining({ code: StatusCode.ILLEGAL_INVISIBLE_TIME }) },
    ]);
    expect(call.ended).toBe(true);
  });
});

describe('ReceiveMessage: answer size', () => {
  it('never sends a message too large for the client: it keeps its lease (attempts count) and the rest is handed back', async () => {
    deps.clients.close();
    await h.close();
    await setup({ maxBodySize: MAX_BODY_SIZE });
    // One message group: one queue, so the big one comes first in the batch.
    await h.send('t', { body: Buffer.alloc(MAX_BODY_SIZE, 'x'), messageGroup: 'one-queue' });
    await h.send('t', { body: Buffer.from('small'), messageGroup: 'one-queue' });
    const call = new FakeCall(simpleRequest('g', 't'));
    await run(call);
    expect(call.written.map((f) => Object.keys(f)[0])).toEqual(['status', 'delivery_timestamp']);
    expect(call.written[0]?.status?.code).toBe(StatusCode.MESSAGE_NOT_FOUND);
    expect(
      h.logger.lines.some((l) => l.startsWith('error') && l.includes('larger than a client can receive')),
    ).toBe(true);
    // The big one stays leased; the small one behind it was handed back.
    expect(h.core.inFlightCount('g')).toBe(1);
    expect(h.receive('g', 't').map((m) => m.message.body.toString())).toEqual(['small']);
  });
});

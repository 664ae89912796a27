import { connect, type ClientHttp2Session } from 'node:http2';
import { type ServerInterceptingCallInterface, type ServerMethodDefinition } from '@grpc/grpc-js';
import { EagerWriteCall, eagerStreamWrites } from './eager-stream-writes.js';
import { decodeReceiveFrame, encoderOf } from './proto-codec.js';
import { type ReceiveMessageRequest, type ReceiveMessageResponse } from './proto-types.js';
import { simpleRequest } from './receive-message-testing.js';
import { clientMetadata, startHarness, type GrpcHarness } from './testing/grpc-harness.js';

const RECEIVE_PATH = '/apache.rocketmq.v2.MessagingService/ReceiveMessage';

/** A next call that records what it is given and completes a message only when told to. */
function recordingCall(): {
  call: ServerInterceptingCallInterface;
  sent: unknown[];
  completions: (() => void)[];
} {
  const sent: unknown[] = [];
  const completions: (() => void)[] = [];
  const call = {
    start: () => undefined,
    sendMetadata: () => undefined,
    sendMessage: (m: unknown, done: () => void) => {
      sent.push(m);
      completions.push(done);
    },
    sendStatus: () => undefined,
    startRead: () => undefined,
  } as unknown as ServerInterceptingCallInterface;
  return { call, sent, completions };
}

const methodAt = (path: string) => ({ path }) as ServerMethodDefinition<unknown, unknown>;

describe('eager stream writes: each frame is acknowledged once handed on', () => {
  it('passes a message on unchanged and acknowledges it before the write under it completes', () => {
    const next = recordingCall();
    const eager = new EagerWriteCall(next.call);
    const acked: number[] = [];
    eager.sendMessage({ n: 1 }, () => acked.push(1));
    eager.sendMessage({ n: 2 }, () => acked.push(2));
    expect(next.sent).toEqual([{ n: 1 }, { n: 2 }]);
    expect(acked).toEqual([1, 2]);
    next.completions.forEach((complete) => complete()); // a late completion acknowledges nothing twice
    expect(acked).toEqual([1, 2]);
  });

  it('leaves the methods it was not given as they are: a frame is acknowledged when its write completes', () => {
    const next = recordingCall();
    const call = eagerStreamWrites([RECEIVE_PATH])(
      methodAt('/apache.rocketmq.v2.MessagingService/Telemetry'),
      next.call,
    );
    expect(call).not.toBeInstanceOf(EagerWriteCall);
    expect(call).toBe(next.call);
    const acked: number[] = [];
    call.sendMessage({ n: 1 }, () => acked.push(1));
    expect(acked).toEqual([]);
    next.completions[0]!();
    expect(acked).toEqual([1]);
    expect(eagerStreamWrites([RECEIVE_PATH])(methodAt(RECEIVE_PATH), next.call)).toBeInstanceOf(
      EagerWriteCall,
    );
  });
});

describe('ReceiveMessage: an answer reaches HTTP/2 in one go', () => {
  let h: GrpcHarness;
  let session: ClientHttp2Session;

  beforeAll(async () => {
    h = await startHarness();
    session = connect(`http://127.0.0.1:${h.port}`);
    await new Promise((resolve, reject) => session.once('connect', resolve).once('error', reject));
  });
  afterAll(async () => {
    session.close();
    await h.close();
  });

  it('sends 32 messages of 1 KiB in a few DATA frames instead of one per message, all intact', async () => {
    const bodies = Array.from({ length: 32 }, (_, i) => Buffer.alloc(1024, 97 + (i % 26)));
    await h.core.send(bodies.map((body, i) => ({ topic: 'eager-rx', body, messageId: `EAGER-${i}` })));

    const request: ReceiveMessageRequest = simpleRequest('eager-g', 'eager-rx', { batch_size: 32 });
    const payload = encoderOf<ReceiveMessageRequest>('ReceiveMessageRequest')(request);
    const prefix = Buffer.alloc(5);
    prefix.writeUInt32BE(payload.length, 1);
    const stream = session.request({
      ':method': 'POST',
      ':path': RECEIVE_PATH,
      'content-type': 'application/grpc',
      te: 'trailers',
      ...clientMetadata().toHttp2Headers(),
    });
    stream.end(Buffer.concat([prefix, payload]));
    const chunks: Buffer[] = [];
    const trailers = new Promise<Record<string, unknown>>((resolve) => stream.once('trailers', resolve));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise((resolve) => stream.once('end', resolve));

    expect((await trailers)['grpc-status']).toBe('0');
    const frames: ReceiveMessageResponse[] = [];
    const all = Buffer.concat(chunks);
    for (let at = 0; at < all.length;) {
      const length = all.readUInt32BE(at + 1);
      frames.push(decodeReceiveFrame(all.subarray(at + 5, at + 5 + length)));
      at += 5 + length;
    }
    // Status, 32 messages, delivery timestamp: 34 frames. One HTTP/2 write each gave 34 chunks.
    expect(frames).toHaveLength(34);
    const received = frames.slice(1, 33).map((f) => Buffer.from(f.message!.body!).toString('latin1'));
    expect(received.sort()).toEqual(bodies.map((b) => b.toString('latin1')).sort());
    expect(chunks.length).toBeLessThanOrEqual(8);
  });
});

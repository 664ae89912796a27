import {
  Client,
  Metadata,
  Server,
  ServerCredentials,
  credentials,
  status as GrpcStatus,
  type MethodDefinition,
  type ServerWritableStream,
  type ServiceError,
} from '@grpc/grpc-js';
import { openServerStream } from './server-stream.js';

/** A server-streaming method whose frames are raw bytes both ways (the test decides the codec). */
const RAW: MethodDefinition<Buffer, Buffer> = {
  path: '/test.Raw/Stream',
  requestStream: false,
  responseStream: true,
  requestSerialize: (b) => b,
  requestDeserialize: (b) => b,
  responseSerialize: (b) => b,
  responseDeserialize: (b) => b,
};

describe('openServerStream (direct channel call)', () => {
  let server: Server;
  let client: Client;
  let frames: Buffer[];

  beforeAll(async () => {
    server = new Server();
    server.addService(
      { Stream: RAW },
      {
        Stream: (call: ServerWritableStream<Buffer, Buffer>) => {
          for (const frame of frames) call.write(frame);
          call.end();
        },
      },
    );
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
    client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  });
  afterAll(() => {
    client.close();
    server.forceShutdown();
  });

  const run = (deserialize: (b: Buffer) => string) =>
    new Promise<{ got: string[]; err: ServiceError | undefined }>((resolve) => {
      const got: string[] = [];
      openServerStream(
        {
          client,
          definition: {
            ...RAW,
            responseSerialize: (text: string) => Buffer.from(text),
            responseDeserialize: deserialize,
          },
          request: Buffer.from('go'),
          metadata: new Metadata(),
          deadline: Date.now() + 5_000,
          intercepted: false,
        },
        { onFrame: (f) => got.push(f), onEnd: (err) => resolve({ got, err }) },
      );
    });

  it('hands over every frame in order, then ends once without an error', async () => {
    frames = Array.from({ length: 50 }, (_, i) => Buffer.from(`frame-${i}`));
    const { got, err } = await run((b) => b.toString());
    expect(err).toBeUndefined();
    expect(got).toEqual(frames.map((f) => f.toString()));
  });

  it('ends with INTERNAL, and hands over nothing more, when a frame cannot be decoded', async () => {
    frames = [Buffer.from('good'), Buffer.from('bad'), Buffer.from('never')];
    const { got, err } = await run((b) => {
      if (b.toString() === 'bad') throw new Error('garbage');
      return b.toString();
    });
    expect(got).toEqual(['good']);
    expect(err?.code).toBe(GrpcStatus.INTERNAL);
    expect(err?.details).toContain('garbage');
  });
});

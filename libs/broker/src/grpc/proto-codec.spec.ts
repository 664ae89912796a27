import fc from 'fast-check';
import { decodeReceiveFrame, decoderOf, encodeReceiveFrame, encoderOf } from './proto-codec.js';
import {
  DigestType,
  Encoding,
  ProtoMessageType,
  type AckMessageRequest,
  type AckMessageResponse,
  type ReceiveMessageResponse,
  type SendMessageRequest,
} from './proto-types.js';
import { messagingServiceDefinition } from './proto.js';

const service = messagingServiceDefinition();
const loaderSerialize = <T>(method: string, side: 'request' | 'response'): ((value: T) => Buffer) => {
  const definition = service[method]!;
  return (side === 'request' ? definition.requestSerialize : definition.responseSerialize) as (
    value: T,
  ) => Buffer;
};
const loaderDeserialize = service.ReceiveMessage!.responseDeserialize as (
  bytes: Buffer,
) => ReceiveMessageResponse;

const text = fc.string({ unit: 'binary', maxLength: 40 });
const frames = fc
  .record({
    topic: text,
    body: fc.uint8Array({ maxLength: 2048 }),
    tag: fc.option(text, { nil: undefined }),
    group: fc.option(text, { nil: undefined }),
    keys: fc.array(text, { maxLength: 4 }),
    properties: fc.dictionary(text, text, { maxKeys: 8 }),
    offset: fc.integer({ min: 0, max: 2 ** 52 }),
    attempt: fc.integer({ min: 1, max: 1000 }),
    bornMs: fc.integer({ min: 0, max: 2 ** 45 }),
    invisibleMs: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
  })
  .map((m): ReceiveMessageResponse => {
    const seconds = (ms: number) => ({ seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 });
    return {
      message: {
        topic: { name: m.topic, resource_namespace: '' },
        user_properties: m.properties,
        body: Buffer.from(m.body),
        system_properties: {
          ...(m.tag === undefined ? {} : { tag: m.tag }),
          ...(m.group === undefined ? {} : { message_group: m.group }),
          keys: m.keys,
          message_id: '01ABCDEF',
          body_digest: { type: DigestType.CRC32, checksum: '12345' },
          body_encoding: Encoding.IDENTITY,
          message_type: ProtoMessageType.NORMAL,
          queue_id: 3,
          queue_offset: m.offset,
          delivery_attempt: m.attempt,
          receipt_handle: 'handle',
          born_timestamp: seconds(m.bornMs),
          born_host: 'host',
          store_timestamp: seconds(m.bornMs + 1),
          ...(m.invisibleMs === undefined ? {} : { invisible_duration: seconds(m.invisibleMs) }),
        },
      },
    };
  });

describe('proto-codec', () => {
  it('encodes a ReceiveMessage frame to the same bytes as the proto loader', () => {
    const serialize = loaderSerialize<ReceiveMessageResponse>('ReceiveMessage', 'response');
    fc.assert(
      fc.property(frames, (frame) => {
        expect(encodeReceiveFrame(frame).equals(serialize(frame))).toBe(true);
      }),
      { seed: 20261122, numRuns: 200 },
    );
    const status: ReceiveMessageResponse = { status: { code: 20000, message: 'OK' } };
    expect(encodeReceiveFrame(status).equals(serialize(status))).toBe(true);
  });

  it('decodes a frame to the values the proto loader gives, int64 fields as numbers', () => {
    fc.assert(
      fc.property(frames, (frame) => {
        const bytes = encodeReceiveFrame(frame);
        const lean = decodeReceiveFrame(bytes).message!;
        const loader = loaderDeserialize(bytes).message!;
        const a = lean.system_properties!;
        const b = loader.system_properties!;
        expect(Buffer.compare(lean.body as Buffer, loader.body as Buffer)).toBe(0);
        expect(lean.topic?.name).toBe(loader.topic?.name);
        expect({ ...lean.user_properties }).toEqual(loader.user_properties);
        expect([...(a.keys ?? [])]).toEqual(b.keys);
        for (const field of [
          'tag',
          'message_group',
          'message_id',
          'receipt_handle',
          'born_host',
          'queue_id',
          'queue_offset',
          'delivery_attempt',
          'message_type',
          'body_encoding',
        ] as const) {
          expect([field, a[field] ?? undefined]).toEqual([field, b[field] ?? undefined]);
        }
        expect(typeof a.queue_offset).toBe('number');
        for (const field of ['born_timestamp', 'store_timestamp', 'invisible_duration'] as const) {
          const left = a[field];
          const right = b[field];
          expect([field, left ? { seconds: left.seconds, nanos: left.nanos } : null]).toEqual([
            field,
            right ? { seconds: right.seconds, nanos: right.nanos } : null,
          ]);
        }
        expect({ ...a.body_digest }).toEqual(b.body_digest);
      }),
      { seed: 20261122, numRuns: 200 },
    );
    const tail = decodeReceiveFrame(
      encodeReceiveFrame({ delivery_timestamp: { seconds: 1_700_000_000, nanos: 5 } }),
    );
    expect(tail.delivery_timestamp).toMatchObject({ seconds: 1_700_000_000, nanos: 5 });
    expect(tail.message ?? undefined).toBeUndefined();
  });

  it('encodes the requests the client sends per batch to the same bytes as the proto loader', () => {
    const send: SendMessageRequest = {
      messages: [
        {
          topic: { name: 't', resource_namespace: 'ns' },
          user_properties: { k: 'v' },
          body: Buffer.from('body'),
          system_properties: {
            message_id: '01AB',
            tag: 'TagA',
            keys: ['k1', 'k2'],
            body_encoding: Encoding.IDENTITY,
            message_type: ProtoMessageType.FIFO,
            message_group: 'g',
            born_timestamp: { seconds: 1_700_000_000, nanos: 1 },
            born_host: 'h',
            queue_id: 0,
            delivery_timestamp: { seconds: 1_700_000_100, nanos: 0 },
          },
        },
      ],
    };
    expect(encoderOf<SendMessageRequest>('SendMessageRequest')(send)).toEqual(
      loaderSerialize<SendMessageRequest>('SendMessage', 'request')(send),
    );
    const ack: AckMessageRequest = {
      group: { name: 'g', resource_namespace: '' },
      topic: { name: 't', resource_namespace: '' },
      entries: [
        { message_id: 'a', receipt_handle: 'h1' },
        { message_id: 'b', receipt_handle: 'h2' },
      ],
    };
    expect(encoderOf<AckMessageRequest>('AckMessageRequest')(ack)).toEqual(
      loaderSerialize<AckMessageRequest>('AckMessage', 'request')(ack),
    );
  });

  it('decodes an AckMessage answer to the statuses the proto loader gives', () => {
    const response: AckMessageResponse = {
      status: { code: 30000, message: 'multiple results' },
      entries: [
        { message_id: 'a', receipt_handle: 'h1', status: { code: 20000, message: 'OK' } },
        { message_id: 'b', receipt_handle: 'h2', status: { code: 40012, message: 'invalid receipt handle' } },
        { message_id: 'c', receipt_handle: 'h3' },
      ],
    };
    const bytes = loaderSerialize<AckMessageResponse>('AckMessage', 'response')(response);
    const lean = decoderOf<AckMessageResponse>('AckMessageResponse')(bytes);
    const loader = (service.AckMessage!.responseDeserialize as (b: Buffer) => AckMessageResponse)(bytes);
    const view = (r: AckMessageResponse) => ({
      status: r.status ? { code: r.status.code, message: r.status.message } : null,
      entries: (r.entries ?? []).map((e) => ({
        id: e.message_id,
        handle: e.receipt_handle,
        status: e.status ? { code: e.status.code, message: e.status.message } : null,
      })),
    });
    expect(view(lean)).toEqual(view(loader));
    expect(view(lean).entries[2]!.status).toBeNull();
  });

  it('refuses bytes that are not a frame', () => {
    expect(() => decodeReceiveFrame(Buffer.from([0x0a, 0xff, 0xff, 0xff, 0x0f]))).toThrow();
  });
});

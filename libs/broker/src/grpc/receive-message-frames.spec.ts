import fc from 'fast-check';
import { ProtoMessageType, type ReceiveMessageResponse } from './proto-types.js';
import { messagingServiceDefinition } from './proto.js';
import { encodedSizeBound } from './receive-message-frames.js';

const serialize = messagingServiceDefinition().ReceiveMessage!.responseSerialize as (
  frame: ReceiveMessageResponse,
) => Buffer;

const text = fc.string({ unit: 'binary', maxLength: 40 });

describe('encodedSizeBound', () => {
  it('is never below the serialized size of a delivered-message frame', () => {
    fc.assert(
      fc.property(
        fc.record({
          topic: text,
          body: fc.uint8Array({ maxLength: 2048 }),
          tag: text,
          keys: fc.array(text, { maxLength: 4 }),
          properties: fc.dictionary(text, text, { maxKeys: 8 }),
          offset: fc.integer({ min: 0, max: 2 ** 52 }),
          attempt: fc.integer({ min: 1, max: 1000 }),
        }),
        (m) => {
          const frame: ReceiveMessageResponse = {
            message: {
              topic: { name: m.topic, resource_namespace: '' },
              user_properties: m.properties,
              body: Buffer.from(m.body),
              system_properties: {
                tag: m.tag,
                keys: m.keys,
                message_id: '01ABCDEF',
                message_type: ProtoMessageType.NORMAL,
                queue_offset: m.offset,
                delivery_attempt: m.attempt,
                receipt_handle: 'handle',
                born_timestamp: { seconds: 1_700_000_000, nanos: 999_999_999 },
              },
            },
          };
          expect(encodedSizeBound(frame)).toBeGreaterThanOrEqual(serialize(frame).length);
        },
      ),
      { seed: 20261121, numRuns: 300 },
    );
  });
});

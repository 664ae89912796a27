import { DELAY_LEVELS_MS } from '@rocketnest/broker/core/limits.js';
import { ProtoMessageType } from '@rocketnest/broker/grpc/proto-types.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { RocketMQClientError } from '../errors.js';
import { deliveryTimestampOf, groupOfHashKey, prepareMessage } from './message.js';

const options = { namespace: 'ns', maxBodySize: 1024 };
const now = 1_750_000_000_000;

describe('prepareMessage', () => {
  it('builds the proto message with the namespace, type and system properties', () => {
    const p = prepareMessage(
      { topic: 't', body: 'hi', tag: 'a', keys: 'k', properties: { x: 'y' } },
      { ...options, now },
    );
    expect(p.type).toBe('NORMAL');
    expect(p.proto.topic).toEqual({ resource_namespace: 'ns', name: 't' });
    expect(p.proto.user_properties).toEqual({ x: 'y' });
    expect(p.proto.system_properties).toMatchObject({
      tag: 'a',
      keys: ['k'],
      message_id: p.messageId,
      message_type: ProtoMessageType.NORMAL,
      body_encoding: 1,
      born_timestamp: { seconds: now / 1000, nanos: 0 },
    });
    expect(p.proto.body?.toString()).toBe('hi');
    expect(p.size).toBeGreaterThan(2);
  });

  it('types FIFO, DELAY and TRANSACTION messages', () => {
    expect(prepareMessage({ topic: 't', body: 'x', messageGroup: 'g' }, options).type).toBe('FIFO');
    const delayed = prepareMessage({ topic: 't', body: 'x', delayLevel: 3 }, { ...options, now });
    expect(delayed.type).toBe('DELAY');
    expect(delayed.proto.system_properties?.delivery_timestamp).toEqual({
      seconds: (now + 10_000) / 1000,
      nanos: 0,
    });
    expect(prepareMessage({ topic: 't', body: 'x' }, { ...options, transaction: true }).type).toBe(
      'TRANSACTION',
    );
  });

  it('refuses a transactional message with a group or a delay (40014)', () => {
    for (const extra of [{ messageGroup: 'g' }, { delayMs: 5 }]) {
      const err = catchError(() =>
        prepareMessage({ topic: 't', body: 'x', ...extra }, { ...options, transaction: true }),
      );
      expect(err.code).toBe(StatusCode.MESSAGE_PROPERTY_CONFLICT_WITH_TYPE);
    }
  });

  it('refuses a body over the server’s advertised limit (41301) and a non-bytes body', () => {
    expect(catchError(() => prepareMessage({ topic: 't', body: Buffer.alloc(1025) }, options)).code).toBe(
      StatusCode.MESSAGE_BODY_TOO_LARGE,
    );
    expect(
      catchError(() => prepareMessage({ topic: 't', body: 42 as unknown as string }, options)).code,
    ).toBe(StatusCode.MESSAGE_CORRUPTED);
  });
});

describe('delays', () => {
  it('maps the 18 RocketMQ levels to 1s … 2h', () => {
    expect(DELAY_LEVELS_MS).toHaveLength(18);
    expect(deliveryTimestampOf({ topic: 't', body: 'x', delayLevel: 1 }, now)).toBe(now + 1_000);
    expect(deliveryTimestampOf({ topic: 't', body: 'x', delayLevel: 5 }, now)).toBe(now + 60_000);
    expect(deliveryTimestampOf({ topic: 't', body: 'x', delayLevel: 18 }, now)).toBe(now + 7_200_000);
  });
  it('takes a past deliverAt as now, and refuses two delay fields at once', () => {
    expect(deliveryTimestampOf({ topic: 't', body: 'x', deliverAt: new Date(now - 5) }, now)).toBe(now);
    expect(() => deliveryTimestampOf({ topic: 't', body: 'x', delayMs: 1, delayLevel: 1 }, now)).toThrow(
      RocketMQClientError,
    );
  });
  it.each([0, 19, 1.5, Number.NaN])('refuses delay level %p with 40012', (delayLevel) => {
    expect(catchError(() => deliveryTimestampOf({ topic: 't', body: 'x', delayLevel }, now)).code).toBe(
      StatusCode.ILLEGAL_DELIVERY_TIME,
    );
  });
});

describe('hash keys', () => {
  it('use a legal key as the group, hash the others, and bucket when asked', () => {
    expect(groupOfHashKey('order-7')).toBe('order-7');
    expect(groupOfHashKey(42)).toBe('42');
    expect(groupOfHashKey('a\u0001b')).toMatch(/^hk-[0-9a-f]{32}$/);
    const buckets = new Set(Array.from({ length: 200 }, (_, i) => groupOfHashKey(`k${i}`, 4)));
    expect([...buckets].sort()).toEqual(['hk-0', 'hk-1', 'hk-2', 'hk-3']);
    expect(groupOfHashKey('same', 4)).toBe(groupOfHashKey('same', 4));
  });
});

function catchError(fn: () => unknown): RocketMQClientError {
  try {
    fn();
  } catch (err) {
    if (err instanceof RocketMQClientError) return err;
    throw err;
  }
  throw new Error('no error thrown');
}

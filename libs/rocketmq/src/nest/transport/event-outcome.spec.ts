/** What an event handler's result means for its message, and the options' codec composition. */
import { ConsumeResult, isRetryAfter, Reconsume, type ReceivedMessageView } from '../../client/index.js';
import { type PayloadCodec } from '../serialization/payload-codec.js';
import { eventOutcomeOf } from './event-outcome.js';
import { codecOf, tuningOf } from './rocketmq-server-options.js';

test('nothing or any value acknowledges; FAILURE and Reconsume retry', () => {
  for (const value of [undefined, null, 0, 'done', { ok: true }, [1], ConsumeResult.SUCCESS]) {
    expect(eventOutcomeOf(value, false)).toBeUndefined();
  }
  expect(eventOutcomeOf(ConsumeResult.FAILURE, false)).toBe(ConsumeResult.FAILURE);
  expect(eventOutcomeOf(Reconsume.after(250), false)).toEqual(Reconsume.after(250));
});

test('only a well-formed Reconsume counts as one', () => {
  expect(isRetryAfter(Reconsume.after(0))).toBe(true);
  expect(isRetryAfter({ kind: 'retry-after', delayMs: -1 })).toBe(false);
  expect(isRetryAfter({ kind: 'retry-after', delayMs: Number.NaN })).toBe(false);
  expect(isRetryAfter({ kind: 'other', delayMs: 5 })).toBe(false);
  expect(isRetryAfter('retry-after')).toBe(false);
});

test('chained handlers ({ current, next }): a FAILURE wins, else the longest Reconsume, else ack', () => {
  const join = (current: unknown, next: unknown) => ({ current, next });
  expect(eventOutcomeOf(join(undefined, 'x'), true)).toBeUndefined();
  expect(eventOutcomeOf(join(Reconsume.after(100), undefined), true)).toEqual(Reconsume.after(100));
  expect(eventOutcomeOf(join(Reconsume.after(100), Reconsume.after(900)), true)).toEqual(
    Reconsume.after(900),
  );
  expect(eventOutcomeOf(join(Reconsume.after(100), ConsumeResult.FAILURE), true)).toBe(ConsumeResult.FAILURE);
  // Three handlers: Nest nests the joins in `next`.
  expect(eventOutcomeOf(join(undefined, join(undefined, Reconsume.after(50))), true)).toEqual(
    Reconsume.after(50),
  );
  // A lone handler that happens to return such an object is not a join.
  expect(eventOutcomeOf(join(ConsumeResult.FAILURE, undefined), false)).toBeUndefined();
});

test('serializer and deserializer options replace their half of the codec; the default codec is JSON', () => {
  const message = { body: Buffer.from('{"a":1}'), properties: {} } as unknown as ReceivedMessageView;
  expect(codecOf({}).deserialize(message)).toEqual({ a: 1 });
  const upper: PayloadCodec = {
    serialize: (p) => ({
      body: Buffer.from(String(p).toUpperCase()),
      properties: { 'content-type': 'x-upper' },
    }),
    deserialize: (m) => m.body.toString().toUpperCase(),
  };
  const mixed = codecOf({ serializer: upper });
  expect(mixed.serialize('abc').body.toString()).toBe('ABC');
  expect(mixed.deserialize(message)).toEqual({ a: 1 });
  const reading = codecOf({ codec: upper, deserializer: { deserialize: () => 'mine' } });
  expect(reading.deserialize(message)).toBe('mine');
  expect(reading.serialize('q').body.toString()).toBe('Q');
});

test('only the consumer settings given are passed on', () => {
  expect(tuningOf({ maxInFlight: 8, shutdownTimeoutMs: 0 })).toEqual({
    maxInFlight: 8,
    shutdownTimeoutMs: 0,
  });
  expect(tuningOf({})).toEqual({});
});

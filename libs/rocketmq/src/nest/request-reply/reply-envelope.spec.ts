/** The request-reply convention on the wire: request properties, reply encoding, error bodies. */
import { BadRequestException } from '@nestjs/common';
import { RpcException } from '@nestjs/microservices';
import { isReservedPropertyKey } from '@rocketnest/broker/core/validation.js';
import { of, throwError } from 'rxjs';
import { type ReceivedMessageView } from '../../client/index.js';
import { JsonPayloadCodec, PayloadDecodeError } from '../serialization/payload-codec.js';
import { RemoteHandlerError } from './reply-errors.js';
import {
  MAX_REPLY_ERROR_MESSAGE_LENGTH,
  decodeReply,
  encodeReply,
  isExpired,
  remoteErrorBodyOf,
  replyAddressOf,
  requestProperties,
} from './reply-envelope.js';
import * as names from './reply-properties.js';
import { outcomeOf } from './reply-responder.js';

const codec = new JsonPayloadCodec();

function received(body: Buffer, properties: Record<string, string>): ReceivedMessageView {
  return {
    messageId: '01ABCDEF',
    topic: 'rocketnest-reply',
    body,
    keys: [],
    properties,
    messageType: 'NORMAL',
    deliveryAttempt: 1,
    bornTimestamp: 0,
    bornHost: 'h',
    queueId: 0,
    queueOffset: 0,
  };
}

test('no request-reply property is one RocketMQ reserves (the server would refuse the message)', () => {
  const keys = [
    names.CORRELATION_ID_PROPERTY,
    names.REPLY_TOPIC_PROPERTY,
    names.REPLY_TO_CLIENT_PROPERTY,
    names.REQUEST_DEADLINE_PROPERTY,
    names.REPLY_ERROR_PROPERTY,
  ];
  expect(keys.filter((k) => isReservedPropertyKey(k))).toEqual([]);
});

test('a request carries its address; the responder reads it back', () => {
  const properties = requestProperties({
    correlationId: 'c-1',
    replyTopic: 'replies',
    replyToClient: 'host@1@0@x#0',
    deadline: 1_700_000_000_000,
  });
  expect(replyAddressOf(received(Buffer.from('1'), { other: 'x', ...properties }))).toEqual({
    correlationId: 'c-1',
    replyTopic: 'replies',
    replyToClient: 'host@1@0@x#0',
    deadline: 1_700_000_000_000,
  });
});

test('a message missing any of correlation id, reply topic or requester is not a request', () => {
  const full = requestProperties({ correlationId: 'c', replyTopic: 't', replyToClient: 'r', deadline: 1 });
  for (const key of [
    names.CORRELATION_ID_PROPERTY,
    names.REPLY_TOPIC_PROPERTY,
    names.REPLY_TO_CLIENT_PROPERTY,
  ]) {
    const properties: Record<string, string> = { ...full };
    delete properties[key];
    expect(replyAddressOf(received(Buffer.from('1'), properties))).toBeUndefined();
  }
});

test('a deadline is passed only after it; a request without a (readable) deadline never expires', () => {
  const address = { correlationId: 'c', replyTopic: 't', replyToClient: 'r', deadline: 1_000 };
  expect(isExpired(address, 1_000)).toBe(false);
  expect(isExpired(address, 1_001)).toBe(true);
  const props = requestProperties({ ...address, deadline: undefined });
  expect(props[names.REQUEST_DEADLINE_PROPERTY]).toBeUndefined();
  const garbled = replyAddressOf(
    received(Buffer.from('1'), { ...props, [names.REQUEST_DEADLINE_PROPERTY]: 'soon' }),
  );
  expect(garbled?.deadline).toBeUndefined();
  expect(isExpired(garbled!, Number.MAX_SAFE_INTEGER)).toBe(false);
});

test('a value reply decodes to the value, whatever its kind', () => {
  for (const value of [{ total: 42, items: ['a'] }, 'text', 7, null, Buffer.from([1, 2, 3])]) {
    const encoded = encodeReply({ ok: true, value }, codec);
    expect(encoded.properties[names.REPLY_ERROR_PROPERTY]).toBeUndefined();
    expect(decodeReply(received(encoded.body, { ...encoded.properties }), codec)).toEqual({
      ok: true,
      value,
    });
  }
});

test('an undefined value is answered as null, an empty string or buffer as "" (RocketMQ refuses empty bodies)', () => {
  for (const [value, expected] of [
    [undefined, null],
    ['', ''],
    [Buffer.alloc(0), ''],
  ] as const) {
    const encoded = encodeReply({ ok: true, value }, codec);
    expect(encoded.body.length).toBeGreaterThan(0);
    expect(decodeReply(received(encoded.body, { ...encoded.properties }), codec)).toEqual({
      ok: true,
      value: expected,
    });
  }
});

test('an error reply becomes a RemoteHandlerError with the remote message, name and status', () => {
  const encoded = encodeReply(
    { ok: false, error: { status: 'error', message: 'Internal server error' } },
    codec,
  );
  expect(encoded.properties[names.REPLY_ERROR_PROPERTY]).toBeTruthy();
  const outcome = decodeReply(
    received(encoded.body, { ...encoded.properties, [names.CORRELATION_ID_PROPERTY]: 'c-9' }),
    codec,
  );
  expect(outcome.ok).toBe(false);
  const error = (outcome as { error: unknown }).error;
  expect(error).toBeInstanceOf(RemoteHandlerError);
  expect(error).toMatchObject({
    message: 'Internal server error',
    remoteName: 'Error',
    remoteStatus: 'error',
    correlationId: 'c-9',
    code: 50000,
  });
});

test('a reply whose body does not decode is the codec error', () => {
  expect(() =>
    decodeReply(received(Buffer.from('{oops'), { 'content-type': 'application/json' }), codec),
  ).toThrow(PayloadDecodeError);
});

test('error bodies: Errors keep name and HTTP status, RpcException objects their fields, lists are joined, long texts cut', () => {
  expect(remoteErrorBodyOf(new TypeError('bad'))).toEqual({ message: 'bad', name: 'TypeError' });
  expect(remoteErrorBodyOf(new BadRequestException('nope'))).toEqual({
    message: 'nope',
    name: 'BadRequestException',
    status: 400,
  });
  expect(
    remoteErrorBodyOf(new BadRequestException(['sku must be a string', 'quantity must be an integer'])),
  ).toEqual({
    message: 'sku must be a string; quantity must be an integer',
    name: 'BadRequestException',
    status: 400,
  });
  expect(remoteErrorBodyOf(new RpcException('plain').getError())).toEqual({
    message: 'plain',
    name: 'Error',
  });
  expect(remoteErrorBodyOf({ status: 422, message: ['name must be a string', 'qty must be > 0'] })).toEqual({
    message: 'name must be a string; qty must be > 0',
    name: 'Error',
    status: 422,
  });
  expect(remoteErrorBodyOf('just text')).toEqual({ message: 'just text', name: 'Error' });
  expect(remoteErrorBodyOf(42)).toEqual({ message: '42', name: 'Error' });
  expect(remoteErrorBodyOf({ code: 7 })).toEqual({ message: '{"code":7}', name: 'Error' });
  const long = remoteErrorBodyOf(new Error('x'.repeat(MAX_REPLY_ERROR_MESSAGE_LENGTH + 10)));
  expect(long.message.length).toBe(MAX_REPLY_ERROR_MESSAGE_LENGTH + 1);
});

test("a handler's result is settled to its last value: values, promises, Observables, empty streams, errors", async () => {
  expect(await outcomeOf(5)).toEqual({ ok: true, value: 5 });
  expect(await outcomeOf(Promise.resolve('p'))).toEqual({ ok: true, value: 'p' });
  expect(await outcomeOf(of(1, 2, 3))).toEqual({ ok: true, value: 3 });
  expect(await outcomeOf(Promise.resolve(of('a', 'b')))).toEqual({ ok: true, value: 'b' });
  expect(await outcomeOf(of())).toEqual({ ok: true, value: undefined });
  const boom = new Error('boom');
  expect(await outcomeOf(Promise.reject(boom))).toEqual({ ok: false, error: boom });
  expect(await outcomeOf(throwError(() => boom))).toEqual({ ok: false, error: boom });
});

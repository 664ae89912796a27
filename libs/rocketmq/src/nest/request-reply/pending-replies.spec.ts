/** The requester's correlation table: each request settles once, by its own reply, timeout or cancel. */
import { jest } from '@jest/globals';
import { RequestTimeoutError, StatusCode } from '../../client/index.js';
import { PendingReplies } from './pending-replies.js';
import { RemoteHandlerError, ReplyTimeoutError } from './reply-errors.js';

afterEach(() => {
  jest.useRealTimers();
});

test('a reply settles the request with its id, and only that one', async () => {
  const pending = new PendingReplies();
  const a = pending.expect('a', 10_000, 'orders');
  const b = pending.expect('b', 10_000, 'orders');
  expect(pending.settle('b', { ok: true, value: 'for b' })).toBe(true);
  expect(pending.settle('a', { ok: true, value: { n: 1 } })).toBe(true);
  await expect(a).resolves.toEqual({ n: 1 });
  await expect(b).resolves.toBe('for b');
  expect(pending.size).toBe(0);
});

test('an error reply rejects with the error it carries', async () => {
  const pending = new PendingReplies();
  const a = pending.expect('a', 10_000, 'orders');
  const error = new RemoteHandlerError('a', { message: 'no stock', name: 'RpcException', status: 409 });
  pending.settle('a', { ok: false, error });
  await expect(a).rejects.toBe(error);
});

test('a second reply for the same id, or one for an unknown id, is refused', async () => {
  const pending = new PendingReplies();
  const a = pending.expect('a', 10_000, 'orders');
  expect(pending.settle('a', { ok: true, value: 1 })).toBe(true);
  expect(pending.settle('a', { ok: true, value: 2 })).toBe(false);
  expect(pending.settle('nobody', { ok: true, value: 3 })).toBe(false);
  await expect(a).resolves.toBe(1);
});

test('no reply within the timeout rejects with a ReplyTimeoutError (40800); the late reply is refused', async () => {
  jest.useFakeTimers();
  const pending = new PendingReplies();
  const a = pending.expect('a', 5_000, 'orders:quote');
  const settled = jest.fn();
  a.catch(settled);
  jest.advanceTimersByTime(4_999);
  await Promise.resolve();
  expect(settled).not.toHaveBeenCalled();
  jest.advanceTimersByTime(1);
  const error = await a.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ReplyTimeoutError);
  expect(error).toBeInstanceOf(RequestTimeoutError);
  expect(error).toMatchObject({
    code: StatusCode.REQUEST_TIMEOUT,
    correlationId: 'a',
    destination: 'orders:quote',
    timeoutMs: 5_000,
  });
  expect(pending.has('a')).toBe(false);
  expect(pending.settle('a', { ok: true, value: 'late' })).toBe(false);
});

test('a settled request does not time out afterwards (its timer is cleared)', async () => {
  jest.useFakeTimers();
  const pending = new PendingReplies();
  const a = pending.expect('a', 1_000, 'orders');
  pending.settle('a', { ok: true, value: 'ok' });
  jest.advanceTimersByTime(5_000);
  await expect(a).resolves.toBe('ok');
  expect(jest.getTimerCount()).toBe(0);
});

test('cancel fails one request; cancelAll fails every request still waiting and counts them', async () => {
  const pending = new PendingReplies();
  const a = pending.expect('a', 10_000, 'orders');
  const b = pending.expect('b', 10_000, 'orders');
  const c = pending.expect('c', 10_000, 'orders');
  const sendFailed = new Error('send failed');
  expect(pending.cancel('a', sendFailed)).toBe(true);
  await expect(a).rejects.toBe(sendFailed);
  const closed = new Error('closed');
  expect(pending.cancelAll(closed)).toBe(2);
  await expect(b).rejects.toBe(closed);
  await expect(c).rejects.toBe(closed);
  expect(pending.size).toBe(0);
  expect(pending.cancel('a', sendFailed)).toBe(false);
});

test('an id already waiting, or a timeout that is not a positive number, is refused', () => {
  const pending = new PendingReplies();
  void pending.expect('a', 10_000, 'orders').catch(() => undefined);
  expect(() => pending.expect('a', 10_000, 'orders')).toThrow(RangeError);
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
    expect(() => pending.expect('x', bad, 'orders')).toThrow(RangeError);
  }
  pending.cancelAll(new Error('cleanup'));
});

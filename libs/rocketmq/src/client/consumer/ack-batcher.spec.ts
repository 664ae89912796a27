import { StatusCode } from '@rocketnest/broker/status-code.js';
import { AckBatcher, type AckRequest } from './ack-batcher.js';
import { RecordingLogger } from './testing/consumer-testing.js';
import { FakeTransport, OK_STATUS } from './testing/fake-transport.js';

function request(i: number, topic = 'topic', port = 1): AckRequest {
  return {
    topic,
    messageId: `M${i}`,
    receiptHandle: `H${i}`,
    endpoints: { addresses: [{ host: '127.0.0.1', port }] },
  };
}

function setup(options: { maxEntries?: number; maxCallsInFlight?: number } = {}) {
  const transport = new FakeTransport();
  const logger = new RecordingLogger();
  const batcher = new AckBatcher({ transport, group: 'g', logger, ...options });
  return { transport, logger, batcher };
}

test('acks of one event-loop turn leave in one AckMessage, one per broker and topic', async () => {
  const { transport, batcher } = setup();
  const outcomes = await Promise.all([
    ...Array.from({ length: 40 }, (_, i) => batcher.ack(request(i))),
    batcher.ack(request(100, 'other-topic')),
    batcher.ack(request(101, 'topic', 2)),
  ]);
  expect(outcomes.every((o) => o === 'acked')).toBe(true);
  expect(transport.acks).toHaveLength(3);
  const main = transport.acks.find((a) => a.topic?.name === 'topic' && a.entries!.length === 40)!;
  expect(main.group).toEqual({ name: 'g' });
  expect(main.entries!.map((e) => e.receipt_handle)).toEqual(Array.from({ length: 40 }, (_, i) => `H${i}`));
  expect(batcher.outstanding).toBe(0);
});

test('a batch never exceeds maxEntries, and calls in flight are bounded: later acks wait and leave together', async () => {
  const { transport, batcher } = setup({ maxEntries: 10, maxCallsInFlight: 1 });
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const base = transport.onAck;
  transport.onAck = async (req) => {
    await gate;
    return base(req);
  };
  const first = Array.from({ length: 25 }, (_, i) => batcher.ack(request(i)));
  await new Promise((resolve) => setImmediate(resolve));
  expect(transport.acks.map((a) => a.entries!.length)).toEqual([10]); // one call in flight
  release();
  await Promise.all(first);
  expect(transport.acks.map((a) => a.entries!.length)).toEqual([10, 10, 5]);
});

test('per-entry statuses: INVALID_RECEIPT_HANDLE is given up and logged, a transient error is retried until OK', async () => {
  const { transport, batcher, logger } = setup();
  let failuresLeft = 2;
  transport.onAck = (req) => ({
    status: { code: StatusCode.MULTIPLE_RESULTS, message: 'mixed' },
    entries: (req.entries ?? []).map((e) => {
      if (e.receipt_handle === 'H1')
        return { ...e, status: { code: StatusCode.INVALID_RECEIPT_HANDLE, message: 'stale' } };
      if (e.receipt_handle === 'H2' && failuresLeft-- > 0) {
        return { ...e, status: { code: StatusCode.INTERNAL_SERVER_ERROR, message: 'try again' } };
      }
      return { ...e, status: OK_STATUS };
    }),
  });
  const outcomes = await Promise.all([
    batcher.ack(request(0)),
    batcher.ack(request(1)),
    batcher.ack(request(2)),
  ]);
  expect(outcomes).toEqual(['acked', 'invalid', 'acked']);
  // H2 went three times (two failures), H1 once, H0 once.
  const sent = transport.acks.flatMap((a) => a.entries!.map((e) => e.receipt_handle));
  expect(sent.filter((h) => h === 'H2')).toHaveLength(3);
  expect(sent.filter((h) => h === 'H1')).toHaveLength(1);
  expect(logger.problems().join('\n')).toMatch(/M1 .*INVALID_RECEIPT_HANDLE/);
});

test('a failed call and an answer without a status are retried; nothing is dropped', async () => {
  const { transport, batcher } = setup();
  let calls = 0;
  const base = transport.onAck;
  transport.onAck = (req) => {
    calls++;
    if (calls === 1) throw new Error('UNAVAILABLE');
    if (calls === 2) return {}; // no status at all
    return base(req);
  };
  expect(await batcher.ack(request(0))).toBe('acked');
  expect(calls).toBe(3);
});

test('entries are matched by receipt handle even when the server answers in another order', async () => {
  const { transport, batcher } = setup();
  transport.onAck = (req) => ({
    status: OK_STATUS,
    entries: [...(req.entries ?? [])].reverse().map((e) => ({
      ...e,
      status:
        e.receipt_handle === 'H0' ? { code: StatusCode.INVALID_RECEIPT_HANDLE, message: 'x' } : OK_STATUS,
    })),
  });
  const outcomes = await Promise.all([batcher.ack(request(0)), batcher.ack(request(1))]);
  expect(outcomes).toEqual(['invalid', 'acked']);
});

test('drain gives up at its deadline and names every unacknowledged message; no timer is left', async () => {
  const { transport, batcher, logger } = setup();
  transport.onAck = () => ({ status: { code: StatusCode.INTERNAL_SERVER_ERROR, message: 'down' } });
  const pending = [batcher.ack(request(7)), batcher.ack(request(8))];
  await new Promise((resolve) => setTimeout(resolve, 30));
  const began = Date.now();
  await batcher.drain(Date.now() + 250);
  expect(Date.now() - began).toBeLessThan(600);
  expect(await Promise.all(pending)).toEqual(['abandoned', 'abandoned']);
  expect(logger.problems().join('\n')).toMatch(/2 acknowledgement\(s\) could not be delivered .*M7, M8/);
  const calls = transport.acks.length;
  await new Promise((resolve) => setTimeout(resolve, 400));
  expect(transport.acks.length).toBe(calls); // retries stopped
});

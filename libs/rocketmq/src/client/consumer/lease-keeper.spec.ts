import { StatusCode } from '@rocketnest/broker/status-code.js';
import { millisOfDuration } from '@rocketnest/broker/grpc/proto-time.js';
import { Delivery } from './delivery.js';
import { LeaseKeeper } from './lease-keeper.js';
import { decodeDelivery } from './received-message.js';
import { Settler } from './settler.js';
import { delay, RecordingLogger, waitFor } from './testing/consumer-testing.js';
import { deliveredMessage, FakeTransport } from './testing/fake-transport.js';

function delivery(invisibleMs: number): Delivery {
  return new Delivery(decodeDelivery(deliveredMessage()), null, Date.now(), invisibleMs);
}

function setup(invisibleMs = 300) {
  const transport = new FakeTransport();
  const logger = new RecordingLogger();
  const keeper = new LeaseKeeper({ transport, group: 'g', invisibleMs, logger });
  return { transport, logger, keeper };
}

test('a lease about to end is renewed for another invisible duration, and the new handle is kept', async () => {
  const { transport, keeper } = setup(300);
  const d = delivery(300);
  const firstHandle = d.receiptHandle;
  keeper.hold(d);
  await waitFor(() => transport.changes.length >= 2, 'two renewals', 2_000);
  keeper.stop();
  expect(transport.changes[0]).toMatchObject({
    group: { name: 'g' },
    receipt_handle: firstHandle,
    message_id: d.messageId,
  });
  expect(millisOfDuration(transport.changes[0]!.invisible_duration)).toBe(300);
  expect(transport.changes[1]!.receipt_handle).toBe(`${firstHandle}+`); // the renewed handle is used next
  expect(d.receiptHandle).toBe(`${firstHandle}++`);
  expect(d.leaseEndsAt).toBeGreaterThan(Date.now());
});

test('a renewal refused with INVALID_RECEIPT_HANDLE marks the delivery lost: it is not acknowledged', async () => {
  const { transport, keeper, logger } = setup(300);
  transport.onChange = () => ({ status: { code: StatusCode.INVALID_RECEIPT_HANDLE, message: 'expired' } });
  const d = delivery(300);
  keeper.hold(d);
  await waitFor(() => d.state === 'lost', 'the lease lost', 2_000);
  expect(logger.problems().join('\n')).toMatch(/could not be renewed .*will be delivered again/);
  const settler = new Settler({ transport, group: 'g', keeper, logger });
  expect(await settler.ack(d)).toBe('lost');
  expect(transport.acks).toHaveLength(0);
  keeper.stop();
});

test('an ack waits for a renewal under way and uses the handle it returned', async () => {
  const { transport, keeper, logger } = setup(300);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const base = transport.onChange;
  transport.onChange = async (request) => {
    await gate;
    return base(request);
  };
  const d = delivery(300);
  const handle = d.receiptHandle;
  keeper.hold(d);
  await waitFor(() => transport.changes.length === 1, 'a renewal under way', 2_000);
  const settler = new Settler({ transport, group: 'g', keeper, logger });
  const acked = settler.ack(d);
  await delay(50);
  expect(transport.acks).toHaveLength(0);
  release();
  expect(await acked).toBe('acked');
  expect(transport.acks[0]!.entries![0]!.receipt_handle).toBe(`${handle}+`);
  keeper.stop();
});

test('renewals stop for a released delivery, and the timer goes away with the last one', async () => {
  const { transport, keeper } = setup(300);
  const d = delivery(300);
  keeper.hold(d);
  keeper.release(d);
  await delay(400);
  expect(transport.changes).toHaveLength(0);
});

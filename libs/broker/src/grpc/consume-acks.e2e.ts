import { ManualClock } from '../core/clock.js';
import { type ReceivedMessage } from '../core/consume/types.js';
import { StatusCode } from '../status-code.js';
import { toProtoMessage } from './message-view.js';
import {
  type AckMessageResponse,
  type ChangeInvisibleDurationResponse,
  type Duration,
  type ForwardMessageToDeadLetterQueueResponse,
  type SendMessageResponse,
} from './proto-types.js';
import { protoMessage, receiveFromCore, startHarness, type GrpcHarness } from './testing/grpc-harness.js';

const LEASE_MS = 30_000;

/** Lets the store and timers finish what a clock step started (real time, they run on I/O). */
const settle = (ms = 100) => new Promise((resolve) => setTimeout(resolve, ms));

describe('consuming RPCs', () => {
  let h: GrpcHarness;
  let clock: ManualClock;
  let seq = 0;

  /** Sends `count` messages to a fresh topic and receives them for `group` from the core. */
  async function delivered(
    group: string,
    count = 1,
  ): Promise<{ topic: string; received: ReceivedMessage[] }> {
    const topic = `consume-${++seq}`;
    const messages = Array.from({ length: count }, (_, i) =>
      protoMessage({ topic, body: Buffer.from(`b${i}`) }),
    );
    const sent = await h.call<SendMessageResponse>('SendMessage', { messages });
    expect(sent.status!.code).toBe(StatusCode.OK);
    const received = await receiveFromCore(h.core, { group, topic, invisibleMs: LEASE_MS }, count);
    expect(received).toHaveLength(count);
    return { topic, received };
  }

  const ack = (group: string, topic: string, entries: { message_id?: string; receipt_handle?: string }[]) =>
    h.call<AckMessageResponse>('AckMessage', { group: { name: group }, topic: { name: topic }, entries });
  const entryOf = (m: ReceivedMessage) => ({
    message_id: m.message.messageId,
    receipt_handle: m.receiptHandle,
  });
  const change = (group: string, topic: string, handle: string, duration: Duration | null) =>
    h.call<ChangeInvisibleDurationResponse>('ChangeInvisibleDuration', {
      group: { name: group },
      topic: { name: topic },
      receipt_handle: handle,
      invisible_duration: duration,
      message_id: 'ignored',
    });
  const forward = (group: string, topic: string, handle: string) =>
    h.call<ForwardMessageToDeadLetterQueueResponse>('ForwardMessageToDeadLetterQueue', {
      group: { name: group },
      topic: { name: topic },
      receipt_handle: handle,
      message_id: 'ignored',
      delivery_attempt: 1,
      max_delivery_attempts: 16,
    });

  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    h = await startHarness({ core: { clock }, server: { clock } });
  });
  afterAll(async () => {
    await h.close();
  });

  describe('AckMessage', () => {
    it('acks every entry, echoing ids and handles, with a top-level OK', async () => {
      const { topic, received } = await delivered('ack-ok', 2);
      const res = await ack('ack-ok', topic, received.map(entryOf));
      expect(res.status).toEqual({ code: StatusCode.OK, message: 'OK' });
      expect(res.entries).toEqual(
        received.map((m) => ({ ...entryOf(m), status: { code: StatusCode.OK, message: 'OK' } })),
      );
      expect(h.core.inFlightCount('ack-ok', topic)).toBe(0);
      clock.advance(LEASE_MS + 60_000);
      await settle();
      expect(
        await receiveFromCore(h.core, { group: 'ack-ok', topic, invisibleMs: LEASE_MS }, 1, 300),
      ).toEqual([]);
    });

    it('answers INVALID_RECEIPT_HANDLE for a handle acked already', async () => {
      const { topic, received } = await delivered('ack-twice');
      expect((await ack('ack-twice', topic, [entryOf(received[0]!)])).status!.code).toBe(StatusCode.OK);
      const again = await ack('ack-twice', topic, [entryOf(received[0]!)]);
      expect(again.status!.code).toBe(StatusCode.INVALID_RECEIPT_HANDLE);
      expect(again.entries![0]!.status!.code).toBe(StatusCode.INVALID_RECEIPT_HANDLE);
    });

    it('answers INVALID_RECEIPT_HANDLE for a forged handle', async () => {
      const res = await ack('ack-forged', 'some-topic', [
        { message_id: 'x', receipt_handle: 'forged-handle' },
      ]);
      expect(res.status!.code).toBe(StatusCode.INVALID_RECEIPT_HANDLE);
    });

    it('answers INVALID_RECEIPT_HANDLE for a tampered handle', async () => {
      const { topic, received } = await delivered('ack-tampered');
      const handle = received[0]!.receiptHandle;
      const tampered = handle.slice(0, -2) + (handle.endsWith('AA') ? 'BB' : 'AA');
      const res = await ack('ack-tampered', topic, [{ receipt_handle: tampered }]);
      expect(res.status!.code).toBe(StatusCode.INVALID_RECEIPT_HANDLE);
    });

    it('answers INVALID_RECEIPT_HANDLE for a handle of another group', async () => {
      const { topic, received } = await delivered('ack-owner');
      const res = await ack('ack-thief', topic, [entryOf(received[0]!)]);
      expect(res.status!.code).toBe(StatusCode.INVALID_RECEIPT_HANDLE);
    });

    it('answers MULTIPLE_RESULTS with each entry its own status when some entries fail', async () => {
      const { topic, received } = await delivered('ack-mixed');
      const res = await ack('ack-mixed', topic, [
        entryOf(received[0]!),
        { message_id: 'm', receipt_handle: 'bad' },
      ]);
      expect(res.status!.code).toBe(StatusCode.MULTIPLE_RESULTS);
      expect(res.entries!.map((e) => e.status!.code)).toEqual([
        StatusCode.OK,
        StatusCode.INVALID_RECEIPT_HANDLE,
      ]);
    });

    it('answers BAD_REQUEST for an ack without entries', async () => {
      expect((await ack('ack-empty', 'some-topic', [])).status!.code).toBe(StatusCode.BAD_REQUEST);
    });

    it('answers BAD_REQUEST for more than 1024 entries', async () => {
      const entries = Array.from({ length: 1025 }, () => ({ receipt_handle: 'x' }));
      expect((await ack('ack-many', 'some-topic', entries)).status!.code).toBe(StatusCode.BAD_REQUEST);
    });

    it.each([
      ['blank', ''],
      ['illegal', 'a group'],
      ['too long', 'g'.repeat(121)],
      ['a system group', 'CID_RMQ_SYS_X'],
    ])('answers ILLEGAL_CONSUMER_GROUP for a %s group', async (_what, group) => {
      expect((await ack(group, 'some-topic', [{ receipt_handle: 'x' }])).status!.code).toBe(
        StatusCode.ILLEGAL_CONSUMER_GROUP,
      );
    });

    it('answers ILLEGAL_TOPIC for an illegal topic', async () => {
      expect((await ack('g', 'bad topic', [{ receipt_handle: 'x' }])).status!.code).toBe(
        StatusCode.ILLEGAL_TOPIC,
      );
    });
  });

  describe('ChangeInvisibleDuration', () => {
    it('returns a new non-empty handle that acks the message; the old handle goes stale', async () => {
      const { topic, received } = await delivered('cid-handle');
      const res = await change('cid-handle', topic, received[0]!.receiptHandle, { seconds: 60, nanos: 0 });
      expect(res.status!.code).toBe(StatusCode.OK);
      expect(res.receipt_handle).toMatch(/^\S+$/);
      expect(res.receipt_handle).not.toBe(received[0]!.receiptHandle);
      expect(
        (await ack('cid-handle', topic, [{ receipt_handle: received[0]!.receiptHandle }])).status!.code,
      ).toBe(StatusCode.INVALID_RECEIPT_HANDLE);
      expect((await ack('cid-handle', topic, [{ receipt_handle: res.receipt_handle! }])).status!.code).toBe(
        StatusCode.OK,
      );
    });

    it('reads seconds and nanos: the message comes back after exactly the new lease plus backoff', async () => {
      h.core.createGroup('cid-timing', { retryBackoffMs: [1_000] });
      const { topic, received } = await delivered('cid-timing');
      const res = await change('cid-timing', topic, received[0]!.receiptHandle, {
        seconds: 20,
        nanos: 500_000_000,
      });
      expect(res.status!.code).toBe(StatusCode.OK);
      const request = { group: 'cid-timing', topic, invisibleMs: LEASE_MS };
      // Lease ends at +20.5 s, the retry is due 1 s later (a lease of 20 s would make it +21 s).
      clock.advance(20_600);
      await settle();
      clock.advance(800); // +21.4 s
      await settle();
      expect(await receiveFromCore(h.core, request, 1, 200)).toEqual([]);
      clock.advance(200); // +21.6 s
      await settle();
      const again = await receiveFromCore(h.core, request, 1);
      expect(again.map((m) => [m.message.messageId, m.deliveryAttempt])).toEqual([
        [received[0]!.message.messageId, 2],
      ]);
    });

    it('accepts 0 (a nack) and an absent duration, returning a handle each time', async () => {
      const { topic, received } = await delivered('cid-nack', 2);
      const zero = await change('cid-nack', topic, received[0]!.receiptHandle, { seconds: 0, nanos: 0 });
      const absent = await change('cid-nack', topic, received[1]!.receiptHandle, null);
      for (const res of [zero, absent]) {
        expect(res.status!.code).toBe(StatusCode.OK);
        expect(res.receipt_handle).not.toBe('');
      }
    });

    it('accepts the Push consumer millisecond nack durations (nanos only)', async () => {
      const { topic, received } = await delivered('cid-ms');
      const res = await change('cid-ms', topic, received[0]!.receiptHandle, { seconds: 0, nanos: 4_000_000 });
      expect(res.status!.code).toBe(StatusCode.OK);
    });

    it('answers ILLEGAL_INVISIBLE_TIME for more than 12 hours', async () => {
      const { topic, received } = await delivered('cid-long');
      const res = await change('cid-long', topic, received[0]!.receiptHandle, {
        seconds: 12 * 3600 + 1,
        nanos: 0,
      });
      expect(res.status!.code).toBe(StatusCode.ILLEGAL_INVISIBLE_TIME);
      expect(res.receipt_handle).toBe('');
    });

    it('answers ILLEGAL_INVISIBLE_TIME for a negative duration', async () => {
      const { topic, received } = await delivered('cid-negative');
      const res = await change('cid-negative', topic, received[0]!.receiptHandle, { seconds: -5, nanos: 0 });
      expect(res.status!.code).toBe(StatusCode.ILLEGAL_INVISIBLE_TIME);
    });

    it('answers INVALID_RECEIPT_HANDLE for a forged handle', async () => {
      const res = await change('cid-forged', 'some-topic', 'not-a-handle', { seconds: 30, nanos: 0 });
      expect(res.status!.code).toBe(StatusCode.INVALID_RECEIPT_HANDLE);
    });

    it('answers ILLEGAL_CONSUMER_GROUP for an illegal group', async () => {
      const res = await change('bad group', 'some-topic', 'x', { seconds: 30, nanos: 0 });
      expect(res.status!.code).toBe(StatusCode.ILLEGAL_CONSUMER_GROUP);
    });
  });

  describe('ForwardMessageToDeadLetterQueue', () => {
    it('copies the message to %DLQ%<group> and acks the original', async () => {
      const { topic, received } = await delivered('dlq-fwd');
      const original = received[0]!;
      const res = await forward('dlq-fwd', topic, original.receiptHandle);
      expect(res.status).toEqual({ code: StatusCode.OK, message: 'OK' });
      expect((await ack('dlq-fwd', topic, [entryOf(original)])).status!.code).toBe(
        StatusCode.INVALID_RECEIPT_HANDLE,
      );
      expect(h.core.inFlightCount('dlq-fwd', topic)).toBe(0);

      const [dead] = await receiveFromCore(h.core, {
        group: 'dlq-reader',
        topic: '%DLQ%dlq-fwd',
        invisibleMs: LEASE_MS,
      });
      expect(dead!.message.messageId).toBe(original.message.messageId);
      expect(dead!.message.body.equals(original.message.body)).toBe(true);
      expect(toProtoMessage(dead!).system_properties!.dead_letter_queue).toEqual({
        topic,
        message_id: original.message.messageId,
      });
    });

    it('answers INVALID_RECEIPT_HANDLE for a message forwarded already', async () => {
      const { topic, received } = await delivered('dlq-twice');
      expect((await forward('dlq-twice', topic, received[0]!.receiptHandle)).status!.code).toBe(
        StatusCode.OK,
      );
      expect((await forward('dlq-twice', topic, received[0]!.receiptHandle)).status!.code).toBe(
        StatusCode.INVALID_RECEIPT_HANDLE,
      );
    });

    it('answers INVALID_RECEIPT_HANDLE for a forged handle', async () => {
      expect((await forward('dlq-forged', 'some-topic', 'forged')).status!.code).toBe(
        StatusCode.INVALID_RECEIPT_HANDLE,
      );
    });

    it('answers ILLEGAL_CONSUMER_GROUP for an illegal group', async () => {
      expect((await forward('', 'some-topic', 'x')).status!.code).toBe(StatusCode.ILLEGAL_CONSUMER_GROUP);
    });
  });
});

/**
 * Restart through the facade: committed offsets, pending timers (delayed messages and retries in
 * backoff), half messages and un-acked messages survive a close and reopen on the same directory.
 */
import { StatusCode } from '../status-code.js';
import { CoreHarness, MINUTE, SECOND, T0 } from './broker-core-testing.js';

let h: CoreHarness;
beforeEach(async () => {
  h = await CoreHarness.open();
});
afterEach(async () => {
  await h.close();
});

describe('BrokerCore across a restart', () => {
  it('keeps offsets, timers and half messages; delivers un-acked messages again', async () => {
    h.core.createTopic('R', { queueCount: 1 });
    h.core.createGroup('g', { retryBackoffMs: [20 * SECOND] });
    await h.core.send([h.message('R'), h.message('R'), h.message('R')]); // body 0..2
    const [m0] = h.receive('g', 'R', { batchSize: 1 });
    h.core.ack('g', m0!.receiptHandle);
    const [m1] = h.receive('g', 'R', { batchSize: 1 }); // leased, never acked
    const [m2] = h.receive('g', 'R', { batchSize: 1 });
    h.core.changeInvisibleDuration('g', m2!.receiptHandle, 0); // retry copy parked for 20 s
    const delayed = await h.send('R', { deliveryTimestamp: T0 + 10 * MINUTE }); // body 3
    const tx = await h.send('R', { transaction: { producerGroup: 'shop' } }); // body 4
    if (!delayed.ok || !tx.ok) throw new Error('send failed');
    await h.advance(SECOND);
    expect(h.core.pendingTimers).toBe(2);
    expect(h.core.pendingTransactions).toBe(1);
    const epoch = h.core.epoch;

    await h.reopen();

    expect(h.core.epoch).toBe(epoch + 1);
    expect(h.core.getTopic('R')).toMatchObject({ queueCount: 1 });
    expect(h.core.getGroup('g')).toMatchObject({ retryBackoffMs: [20 * SECOND] });
    expect(h.core.pendingTimers).toBe(2);
    expect(h.core.pendingTransactions).toBe(1);
    // Leases do not survive: the old handle is refused, the message comes again.
    expect(() => h.core.ack('g', m1!.receiptHandle)).toThrow(
      expect.objectContaining({ code: StatusCode.INVALID_RECEIPT_HANDLE }),
    );
    expect(h.core.lag('g', 'R').queues[0]).toMatchObject({ committedOffset: 1 });
    const again = h.receive('g', 'R');
    // m2's original was finished when its retry copy was parked, above the committed offset: the
    // graceful close recorded it (consumeProgress.json), so only m1 comes again now, and m2 as its
    // retry copy later. Nothing before the offset comes back.
    expect(again.map((m) => [m.message.body.toString(), m.deliveryAttempt])).toEqual([['body 1', 1]]);
    for (const m of again) h.core.ack('g', m.receiptHandle);

    // The retry copy fires 20 s after the nack, with its attempt count.
    await h.advance(19 * SECOND);
    const [retry] = h.receive('g', 'R');
    expect([retry!.message.body.toString(), retry!.deliveryAttempt]).toEqual(['body 2', 2]);
    h.core.ack('g', retry!.receiptHandle);

    // The half message is checked back once its 6 s are up, and committed by the answer.
    expect(h.checks.map((c) => c.transactionId)).toEqual([tx.transactionId]);
    await h.core.endTransaction(tx.transactionId!, tx.messageId, 'COMMIT', 'SERVER_CHECK');
    expect(h.drain('g', 'R')).toEqual(['body 4']);

    // The delayed message fires at its time.
    await h.reopen();
    await h.advance(10 * MINUTE - 20 * SECOND - 1);
    expect(h.receive('g', 'R')).toEqual([]);
    await h.advance(1);
    expect(h.drain('g', 'R')).toEqual(['body 3']);
    expect(h.core.lag('g', 'R').total).toBe(0);
    expect(h.core.pendingTimers).toBe(0);
  });

  it('a graceful close keeps what was finished out of order above the offset; an offset reset discards it', async () => {
    h.core.createTopic('O', { queueCount: 1 });
    await h.core.send([0, 1, 2, 3, 4].map(() => h.message('O'))); // body 0..4
    const got = h.receive('g', 'O', { batchSize: 5 });
    for (const i of [1, 3]) h.core.ack('g', got[i]!.receiptHandle); // out of order: offset stays 0
    expect(h.core.lag('g', 'O').queues[0]).toMatchObject({ committedOffset: 0 });

    await h.reopen();
    expect(h.drain('g', 'O')).toEqual(['body 0', 'body 2', 'body 4']); // not 1 and 3 again
    expect(h.core.lag('g', 'O').total).toBe(0);

    // An offset reset after the restart makes the record moot, even a reset to the same offset.
    await new Promise((resolve) => setTimeout(resolve, 20)); // store timestamps are wall-clock
    const resetTo = Date.now();
    await h.core.send([5, 6, 7].map(() => h.message('O'))); // body 5..7
    const next = h.receive('g', 'O', { batchSize: 3 });
    h.core.ack('g', next[1]!.receiptHandle); // body 6 finished above offset 5
    await h.reopen();
    expect(h.core.resetOffsets('g', 'O', resetTo)).toEqual([{ queueId: 0, offset: 5 }]);
    expect(h.drain('g', 'O')).toEqual(['body 5', 'body 6', 'body 7']);

    // Read once: the close after this drain finished everything, so nothing is left to restore.
    await h.reopen();
    expect(h.drain('g', 'O')).toEqual([]);
  });

  it('delivers an overdue timer at once when the broker was down past its time', async () => {
    await h.send('late', { delayLevel: 3 }); // 10 s
    await h.core.close();
    h.clock.advance(MINUTE); // the broker is down meanwhile
    await h.reopen();
    await h.advance(0);
    expect(h.drain('g', 'late')).toEqual(['body 0']);
  });
});

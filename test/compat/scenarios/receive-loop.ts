/**
 * A SimpleConsumer's receive loop: polls until `expectCount` messages arrived, then goes on for
 * `settleMs` to catch extras and duplicates, acking each message unless told not to. Every poll is
 * logged with its timing, so that a test can tell *when* a message became visible.
 */
import { type MessageView, type SimpleConsumer } from 'rocketmq-client-nodejs';
import { observe, observeError } from './scenario-runtime.js';
import {
  type ObservedMessage,
  type PollRecord,
  type ReceiveLoopOptions,
  type ReceiveLoopResult,
} from './scenario-types.js';

export async function receiveLoop(
  consumer: SimpleConsumer,
  options: ReceiveLoopOptions,
): Promise<ReceiveLoopResult> {
  const received: ObservedMessage[] = [];
  const polls: PollRecord[] = [];
  const ackErrors: ReceiveLoopResult['ackErrors'] = [];
  const deadline = Date.now() + options.timeoutMs;
  let settleUntil = Number.POSITIVE_INFINITY;

  while (Date.now() < Math.min(deadline, settleUntil)) {
    const startedAt = Date.now();
    let views: MessageView[];
    try {
      views = await consumer.receive(options.batchSize ?? 16, options.invisibleDurationMs ?? 10_000);
    } catch (err) {
      polls.push({ startedAt, endedAt: Date.now(), count: 0, error: observeError(err) });
      continue;
    }
    polls.push({ startedAt, endedAt: Date.now(), count: views.length });
    for (const view of views) {
      received.push(observe(view));
      if (options.ack === false) continue;
      try {
        await consumer.ack(view);
      } catch (err) {
        ackErrors.push({ messageId: view.messageId, error: observeError(err) });
      }
    }
    if (received.length >= options.expectCount && settleUntil === Number.POSITIVE_INFINITY) {
      settleUntil = Date.now() + (options.settleMs ?? 0);
    }
  }
  return { received, polls, ackErrors };
}

/**
 * Scenario: the lease of a SimpleConsumer delivery. Three messages: one acked (then acked again with
 * the same handle), one whose invisibility is changed to a short time (then acked with the handle it
 * had before the change, and finally with the new one when it comes back), one left alone until its
 * lease expires and it comes back.
 */
import { type MessageView } from 'rocketmq-client-nodejs';
import { sendOne, shutdownWithin, startProducer, startSimpleConsumer } from './official-client.js';
import { observe, observeError, runScenario, scenarioInput } from './scenario-runtime.js';
import {
  type LeaseAction,
  type ObservedMessage,
  type PollRecord,
  type SimpleLeaseInput,
  type SimpleLeaseResult,
} from './scenario-types.js';

runScenario(async (): Promise<SimpleLeaseResult> => {
  const input = scenarioInput<SimpleLeaseInput>();
  const [producer, consumer] = await Promise.all([
    startProducer(input.connection, { topics: [input.topic] }),
    startSimpleConsumer(input.connection, {
      consumerGroup: input.group,
      subscriptions: new Map([[input.topic, input.filter ?? '*']]),
      awaitDuration: input.awaitDurationMs ?? 1000,
    }),
  ]);
  const receipts = {
    acked: await sendOne(producer, input.topic, input.acked),
    changed: await sendOne(producer, input.topic, input.changed),
    expired: await sendOne(producer, input.topic, input.expired),
  };

  const deliveries: ObservedMessage[] = [];
  const actions: LeaseAction[] = [];
  const polls: PollRecord[] = [];
  const act = async (action: LeaseAction['action'], view: MessageView, call: () => Promise<unknown>) => {
    let error: LeaseAction['error'] = null;
    const startedAt = Date.now();
    try {
      await call();
    } catch (err) {
      error = observeError(err);
    }
    actions.push({ action, messageId: view.messageId, startedAt, at: Date.now(), error });
  };
  const countOf = (id: string) => deliveries.filter((d) => d.messageId === id).length;
  const done = () => countOf(receipts.changed.messageId) >= 2 && countOf(receipts.expired.messageId) >= 2;

  const deadline = Date.now() + input.timeoutMs;
  let settleUntil = Number.POSITIVE_INFINITY;
  while (Date.now() < Math.min(deadline, settleUntil)) {
    const startedAt = Date.now();
    let views: MessageView[];
    try {
      views = await consumer.receive(16, input.invisibleDurationMs);
    } catch (err) {
      polls.push({ startedAt, endedAt: Date.now(), count: 0, error: observeError(err) });
      continue;
    }
    polls.push({ startedAt, endedAt: Date.now(), count: views.length });
    for (const view of views) {
      deliveries.push(observe(view));
      const nth = countOf(view.messageId);
      if (view.messageId === receipts.acked.messageId) {
        await act('ack', view, () => consumer.ack(view));
        if (nth === 1) await act('second-ack', view, () => consumer.ack(view));
      } else if (view.messageId === receipts.changed.messageId && nth === 1) {
        // The client overwrites the view's handle on change; an application could keep the old one.
        const before = Object.assign(
          Object.create(Object.getPrototypeOf(view) as object) as MessageView,
          view,
        );
        await act('change', view, () => consumer.changeInvisibleDuration(view, input.changeToMs));
        await act('ack-with-pre-change-handle', before, () => consumer.ack(before));
      } else if (nth >= 2) {
        await act('ack', view, () => consumer.ack(view));
      }
    }
    if (done() && settleUntil === Number.POSITIVE_INFINITY) settleUntil = Date.now() + input.settleMs;
  }
  await Promise.all([shutdownWithin(producer, 3000), shutdownWithin(consumer, 3000)]);
  return { receipts, deliveries, actions, polls };
});

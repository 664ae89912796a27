/**
 * Scenario: a PushConsumer (started first) and a Producer; the listener records every invocation and
 * fails the messages that ask for it (FAIL_TIMES_PROPERTY). Optionally a SimpleConsumer reads the
 * group's dead-letter topic afterwards. The PushConsumer is not shut down (its shutdown waits for a
 * 20 s long poll): the scenario lets the last acks go out (`settleMs`) and exits.
 */
import { ConsumeResult, type MessageView } from 'rocketmq-client-nodejs';
import { shutdownWithin, startProducer, startPushConsumer, startSimpleConsumer } from './official-client.js';
import { receiveLoop } from './receive-loop.js';
import { observe, runScenario, scenarioInput, sleep, waitUntil } from './scenario-runtime.js';
import {
  FAIL_TIMES_PROPERTY,
  type ConsumeCall,
  type PushConsumeInput,
  type PushConsumeResult,
  type ReceiveLoopResult,
} from './scenario-types.js';
import { sendAll } from './send-all.js';

runScenario(async (): Promise<PushConsumeResult> => {
  const input = scenarioInput<PushConsumeInput>();
  const calls: ConsumeCall[] = [];
  const succeeded = new Set<string>();
  let failures = 0;
  const callsOf = new Map<string, number>();

  const consume = (view: MessageView): ConsumeResult => {
    const n = (callsOf.get(view.messageId) ?? 0) + 1;
    callsOf.set(view.messageId, n);
    const failTimes = view.properties.get(FAIL_TIMES_PROPERTY);
    const fail = failTimes === 'always' || (failTimes !== undefined && n <= Number(failTimes));
    calls.push({ seq: calls.length, message: observe(view), result: fail ? 'FAILURE' : 'SUCCESS' });
    if (fail) {
      failures++;
      return ConsumeResult.FAILURE;
    }
    succeeded.add(view.messageId);
    return ConsumeResult.SUCCESS;
  };

  await startPushConsumer(input.connection, {
    consumerGroup: input.group,
    subscriptions: new Map([[input.topic, input.filter ?? '*']]),
    messageListener: { consume },
  });
  const producer = await startProducer(input.connection, { topics: [input.topic] });
  const sent = await sendAll(producer, input.topic, input.messages, input.sendConcurrency);
  await shutdownWithin(producer, 3000);

  await waitUntil(
    `${input.expectSuccesses} successful consumptions and ${input.expectFailures ?? 0} failures ` +
      `(now ${succeeded.size} and ${failures})`,
    () => succeeded.size >= input.expectSuccesses && failures >= (input.expectFailures ?? 0),
    input.timeoutMs,
  ).catch((err: unknown) => {
    // Report what did arrive: the test's assertions say more than a timeout.
    process.stderr.write(`${String(err)}\n`);
  });
  await sleep(input.settleMs);

  let deadLetters: ReceiveLoopResult | undefined;
  if (input.deadLetters) {
    const dlqTopic = `%DLQ%${input.group}`;
    const reader = await startSimpleConsumer(input.connection, {
      consumerGroup: input.deadLetters.readerGroup,
      subscriptions: new Map([[dlqTopic, '*']]),
      awaitDuration: 1000,
    });
    deadLetters = await receiveLoop(reader, {
      expectCount: input.deadLetters.expectCount,
      timeoutMs: input.deadLetters.timeoutMs,
      settleMs: 500,
    });
    await shutdownWithin(reader, 3000);
  }
  return { ...sent, calls, ...(deadLetters ? { deadLetters } : {}) };
});

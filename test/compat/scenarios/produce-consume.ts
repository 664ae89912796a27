/**
 * Scenario: one process with a Producer and a SimpleConsumer, both started first; the producer sends
 * (send-all.ts), then the consumer polls (receive-loop.ts). Polling right after the send is what
 * lets a test see a delayed message *not* being visible before its time.
 */
import { shutdownWithin, startProducer, startSimpleConsumer } from './official-client.js';
import { receiveLoop } from './receive-loop.js';
import { runScenario, scenarioInput } from './scenario-runtime.js';
import { type ProduceConsumeInput, type ProduceConsumeResult } from './scenario-types.js';
import { sendAll } from './send-all.js';

runScenario(async (): Promise<ProduceConsumeResult> => {
  const input = scenarioInput<ProduceConsumeInput>();
  const [producer, consumer] = await Promise.all([
    startProducer(input.connection, { topics: [input.topic] }),
    startSimpleConsumer(input.connection, {
      consumerGroup: input.group,
      subscriptions: new Map([[input.topic, input.filter ?? '*']]),
      awaitDuration: input.awaitDurationMs ?? 5000,
    }),
  ]);
  const sent = await sendAll(producer, input.topic, input.messages, input.concurrency);
  const received = await receiveLoop(consumer, input);
  const [producerShutdown, consumerShutdown] = await Promise.all([
    shutdownWithin(producer, 3000),
    shutdownWithin(consumer, 3000),
  ]);
  return {
    ...sent,
    ...received,
    shutdown: producerShutdown === 'done' && consumerShutdown === 'done' ? 'done' : 'timeout',
  };
});

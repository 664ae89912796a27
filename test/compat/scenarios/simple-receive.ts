/** Scenario: a SimpleConsumer receives (and acks) what is already in a topic (receive-loop.ts). */
import { shutdownWithin, startSimpleConsumer } from './official-client.js';
import { receiveLoop } from './receive-loop.js';
import { runScenario, scenarioInput } from './scenario-runtime.js';
import { type SimpleReceiveInput, type SimpleReceiveResult } from './scenario-types.js';

runScenario(async (): Promise<SimpleReceiveResult> => {
  const input = scenarioInput<SimpleReceiveInput>();
  const consumer = await startSimpleConsumer(input.connection, {
    consumerGroup: input.group,
    subscriptions: new Map([[input.topic, input.filter ?? '*']]),
    awaitDuration: input.awaitDurationMs ?? 5000,
  });
  const result = await receiveLoop(consumer, input);
  return { ...result, shutdown: await shutdownWithin(consumer, 3000) };
});

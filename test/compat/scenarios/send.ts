/** Scenario: a Producer sends messages and reports each receipt (see send-all.ts for the order). */
import { shutdownWithin, startProducer } from './official-client.js';
import { runScenario, scenarioInput } from './scenario-runtime.js';
import { type SendInput, type SendResult } from './scenario-types.js';
import { sendAll } from './send-all.js';

runScenario(async (): Promise<SendResult> => {
  const input = scenarioInput<SendInput>();
  const producer = await startProducer(input.connection, { topics: [input.topic] });
  const sent = await sendAll(producer, input.topic, input.messages, input.concurrency);
  return { ...sent, shutdown: await shutdownWithin(producer, 3000) };
});

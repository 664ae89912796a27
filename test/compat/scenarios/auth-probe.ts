/**
 * Scenario: what an application with given credentials can do against a broker with authentication
 * on. Each probe starts a Producer, sends, starts a SimpleConsumer, receives its message and acks it,
 * stopping at the first step that fails; the probes run at once (a refused startup takes ~3 s of
 * client-side route retries).
 */
import { type Producer, type SimpleConsumer } from 'rocketmq-client-nodejs';
import { sendOne, shutdownWithin, startProducer, startSimpleConsumer } from './official-client.js';
import { receiveLoop } from './receive-loop.js';
import { observeError, runScenario, scenarioInput } from './scenario-runtime.js';
import {
  type AuthProbe,
  type AuthProbeInput,
  type AuthProbeOutcome,
  type AuthProbeResult,
  type Connection,
  type ObservedError,
  type ObservedMessage,
  type ObservedReceipt,
  type ProbeStep,
} from './scenario-types.js';

/** The first failing step of a probe, with what the client threw. */
class StepFailed extends Error {
  constructor(
    readonly step: ProbeStep,
    readonly error: ObservedError,
  ) {
    super(`${step} failed: ${error.message}`);
  }
}

async function probe(input: AuthProbeInput, p: AuthProbe): Promise<AuthProbeOutcome> {
  const connection: Connection = {
    endpoint: input.endpoint,
    ...(p.credentials ? { credentials: p.credentials } : {}),
  };
  const completed: ProbeStep[] = [];
  let receipt: ObservedReceipt | null = null;
  let received: ObservedMessage | null = null;
  let producer: Producer | undefined;
  let consumer: SimpleConsumer | undefined;
  const step = async (name: ProbeStep, run: () => Promise<void>): Promise<void> => {
    await run().catch((err: unknown) => {
      throw err instanceof StepFailed ? err : new StepFailed(name, observeError(err));
    });
    completed.push(name);
  };
  let failure: AuthProbeOutcome['failure'] = null;
  try {
    await step('producer-startup', async () => {
      producer = await startProducer(connection, { topics: [p.topic] });
    });
    await step('send', async () => {
      receipt = await sendOne(producer!, p.sendTopic ?? p.topic, p.message);
    });
    await step('consumer-startup', async () => {
      consumer = await startSimpleConsumer(connection, {
        consumerGroup: p.group,
        subscriptions: new Map([[p.sendTopic ?? p.topic, '*']]),
        awaitDuration: 1000,
      });
    });
    let ackError: ObservedError | undefined;
    await step('receive', async () => {
      const result = await receiveLoop(consumer!, { expectCount: 1, timeoutMs: input.receiveTimeoutMs });
      const pollError = result.polls.find((poll) => poll.error)?.error;
      if (pollError) throw new StepFailed('receive', pollError);
      received = result.received.find((m) => m.messageId === receipt?.messageId) ?? null;
      if (!received) throw new Error(`the sent message did not arrive within ${input.receiveTimeoutMs} ms`);
      ackError = result.ackErrors[0]?.error;
    });
    await step('ack', async () => {
      if (ackError) throw new StepFailed('ack', ackError);
    });
  } catch (err) {
    if (!(err instanceof StepFailed)) throw err;
    failure = { step: err.step, error: err.error };
  }
  await Promise.all([producer, consumer].map((c) => (c ? shutdownWithin(c, 3000) : undefined)));
  return { name: p.name, completed, failure, receipt, received };
}

runScenario(async (): Promise<AuthProbeResult> => {
  const input = scenarioInput<AuthProbeInput>();
  return { outcomes: await Promise.all(input.probes.map((p) => probe(input, p))) };
});

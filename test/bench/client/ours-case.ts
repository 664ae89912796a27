/**
 * Client bench child: OUR client (`@rocketnest/rocketmq`) runs one case, with its defaults (an
 * application's configuration: batching on, Consumer defaults; the bench's request timeout, as
 * the official one's). Started by client-bench.ts.
 */
import { Consumer, Producer, silentLogger } from '@rocketnest/rocketmq';
import { nowMs, runWindowed, waitUntil } from '../common/measure.js';
import { benchBody, caseResult, runCase, type CaseResult } from './bench-case.js';

runCase(async (input): Promise<CaseResult> => {
  const client = {
    endpoints: input.endpoint,
    logger: silentLogger,
    requestTimeoutMs: input.requestTimeoutMs,
  };
  const seen = new Set<string>();
  let deliveries = 0;
  let lastConsumedAt = 0;
  const consumer =
    input.mode === 'pubsub'
      ? await Consumer.start({
          client,
          group: input.group,
          subscriptions: [{ topic: input.topic }],
          handler: (message) => {
            deliveries++;
            seen.add(message.messageId);
            if (seen.size === input.messages) lastConsumedAt = nowMs();
          },
        })
      : undefined;
  const producer = await Producer.start({ ...client, topics: [input.topic] });

  const run = await runWindowed(input.messages, input.window, (i) =>
    producer.send({ topic: input.topic, body: benchBody(i, input.bodyBytes) }),
  );
  if (!consumer) return caseResult(input, run, run.endedAt);

  await waitUntil(
    () => `${input.messages} messages consumed (${seen.size} so far)`,
    () => seen.size >= input.messages,
    input.consumeTimeoutMs,
  );
  return caseResult(input, run, lastConsumedAt, { consumed: seen.size, deliveries });
});

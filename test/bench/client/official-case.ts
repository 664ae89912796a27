/**
 * Client bench child: the OFFICIAL client (`rocketmq-client-nodejs`) runs one case, as an
 * application would use it: `Producer.send` with the bench's window of concurrent sends, and a
 * PushConsumer (its high-level consumer, the counterpart of ours) with its defaults (but the bench's
 * request timeout, as ours), acking by returning SUCCESS. Started by client-bench.ts, with HOME in a temp dir (its consume services
 * write log files there whatever logger it is given).
 */
import { ConsumeResult, Producer, PushConsumer, type MessageView } from 'rocketmq-client-nodejs';
import { nowMs, runWindowed, waitUntil } from '../common/measure.js';
import { benchBody, caseResult, runCase, type CaseResult } from './bench-case.js';

/** The official client logs every call at INFO: a no-op logger keeps that cost out (ours is silent too). */
const quietLogger = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {}, close: () => {} };

runCase(async (input): Promise<CaseResult> => {
  const base = {
    endpoints: input.endpoint,
    namespace: '',
    logger: quietLogger,
    requestTimeout: input.requestTimeoutMs,
  };
  const seen = new Set<string>();
  let deliveries = 0;
  let lastConsumedAt = 0;
  if (input.mode === 'pubsub') {
    // Never shut down: its shutdown waits for a 20 s long poll; the child exits instead.
    const consumer = new PushConsumer({
      ...base,
      consumerGroup: input.group,
      subscriptions: new Map([[input.topic, '*']]),
      messageListener: {
        consume: (message: MessageView) => {
          deliveries++;
          seen.add(message.messageId);
          if (seen.size === input.messages) lastConsumedAt = nowMs();
          return ConsumeResult.SUCCESS;
        },
      },
    });
    await consumer.startup();
  }
  const producer = new Producer({ ...base, topics: [input.topic] });
  await producer.startup();

  const run = await runWindowed(input.messages, input.window, (i) =>
    producer.send({ topic: input.topic, body: benchBody(i, input.bodyBytes) }),
  );
  if (input.mode === 'publish') return caseResult(input, run, run.endedAt);

  await waitUntil(
    () => `${input.messages} messages consumed (${seen.size} so far)`,
    () => seen.size >= input.messages,
    input.consumeTimeoutMs,
  );
  return caseResult(input, run, lastConsumedAt, { consumed: seen.size, deliveries });
});

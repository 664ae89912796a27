/**
 * Compatibility proof (issue 4), PushConsumer: delivery, tag filter, retries and dead letters with
 * the unmodified official client. (FIFO ordering at volume: push-consumer-fifo.e2e.ts.)
 */
import { type Broker } from '../../libs/broker/src/broker.js';
import { contentOf, expectedContent, uniqueName, setUpCompatWorkspace } from './compat-harness.js';
import {
  FAIL_TIMES_PROPERTY,
  type ConsumeCall,
  type MessageSpec,
  type ObservedMessage,
  type PushConsumeInput,
  type PushConsumeResult,
} from './scenarios/scenario-types.js';

function spec(text: string, extra: Partial<MessageSpec> = {}): MessageSpec {
  return { bodyBase64: Buffer.from(text).toString('base64'), keys: [`k-${text}`], ...extra };
}

/** The delivery attempts the listener saw for a message, in order. */
function attemptsOf(calls: readonly ConsumeCall[], messageId: string): (number | null)[] {
  return calls.filter((c) => c.message.messageId === messageId).map((c) => c.message.deliveryAttempt);
}

/** A dead-letter copy keeps the original's id, body, tag, keys and user properties. */
function expectDeadLetterOf(copy: ObservedMessage, original: MessageSpec, messageId: string): void {
  expect(copy.messageId).toBe(messageId);
  const { properties, ...content } = contentOf(copy);
  const { properties: originalProperties, ...originalContent } = expectedContent(original);
  expect(content).toEqual(originalContent);
  expect(properties).toMatchObject(originalProperties);
  expect(copy.corrupted).toBe(false);
}

describe('official rocketmq-client-nodejs PushConsumer against the built-in broker', () => {
  const workspace = setUpCompatWorkspace();
  let broker: Broker;
  const connection = (): PushConsumeInput['connection'] => ({ endpoint: broker.address.endpoint });

  beforeAll(async () => {
    broker = await workspace.startBroker();
  });

  it('every message reaches the listener once, byte for byte with its tag, keys and properties, and is acked', async () => {
    const topic = uniqueName('CompatPush');
    const group = uniqueName('GID_compat_push');
    const messages = Array.from({ length: 30 }, (_, i) =>
      spec(`push-${i}`, { tag: i % 2 === 0 ? 'even' : 'odd', properties: { index: String(i), note: 'ü✓' } }),
    );

    const r = await workspace.runScenario<PushConsumeInput, PushConsumeResult>(
      'push-consume',
      {
        connection: connection(),
        topic,
        group,
        messages,
        sendConcurrency: 4,
        expectSuccesses: messages.length,
        settleMs: 1000,
        timeoutMs: 20_000,
      },
      40_000,
    );

    const ids = r.receipts.map((x) => x.messageId);
    expect(r.calls.map((c) => c.message.messageId).sort()).toEqual([...ids].sort());
    messages.forEach((s, i) => {
      const call = r.calls.find((c) => c.message.messageId === ids[i])!;
      expect(contentOf(call.message)).toEqual(expectedContent(s));
      expect(call.message).toMatchObject({
        topic,
        deliveryAttempt: 1,
        corrupted: false,
        receiptHandlePresent: true,
      });
    });
    expect(broker.core.lag(group, topic).total).toBe(0);
    expect(broker.core.inFlightCount(group, topic)).toBe(0);
  }, 50_000);

  it('a tag subscription gets only the matching tags; the rest is never delivered to the group', async () => {
    const topic = uniqueName('CompatPushTag');
    const group = uniqueName('GID_compat_push_tag');
    const messages = [
      spec('c-1', { tag: 'TagC' }),
      spec('untagged-1'),
      spec('a-1', { tag: 'TagA' }),
      spec('b-1', { tag: 'TagB' }),
      spec('c-2', { tag: 'TagC' }),
      spec('ab-lookalike', { tag: 'TagAB' }),
      spec('a-2', { tag: 'TagA' }),
      spec('b-2', { tag: 'TagB' }),
    ];
    const wanted = messages.filter((m) => m.tag === 'TagA' || m.tag === 'TagB');

    const r = await workspace.runScenario<PushConsumeInput, PushConsumeResult>(
      'push-consume',
      {
        connection: connection(),
        topic,
        group,
        filter: 'TagA||TagB',
        messages,
        expectSuccesses: wanted.length,
        settleMs: 1500,
        timeoutMs: 20_000,
      },
      40_000,
    );

    const idOf = (s: MessageSpec) => r.receipts[messages.indexOf(s)]!.messageId;
    expect(r.calls.map((c) => c.message.messageId).sort()).toEqual(wanted.map(idOf).sort());
    for (const s of wanted) {
      const call = r.calls.find((c) => c.message.messageId === idOf(s))!;
      expect(contentOf(call.message)).toEqual(expectedContent(s));
    }
    // The filtered-out messages count as consumed for the group.
    expect(broker.core.lag(group, topic).total).toBe(0);
  }, 50_000);

  it('a failing message is redelivered with the next attempt until the group’s max attempts, then sits in %DLQ%<group> with its id and body', async () => {
    const topic = uniqueName('CompatPushRetry');
    const group = uniqueName('GID_compat_push_retry');
    broker.core.createGroup(group, { maxDeliveryAttempts: 3, retryBackoffMs: [300] });
    const alwaysFails = spec('always-fails', {
      tag: 'bad',
      properties: { [FAIL_TIMES_PROPERTY]: 'always', why: 'poison' },
    });
    const failsOnce = spec('fails-once', { tag: 'flaky', properties: { [FAIL_TIMES_PROPERTY]: '1' } });
    const fine = spec('fine', { tag: 'good' });
    const messages = [alwaysFails, failsOnce, fine];

    const r = await workspace.runScenario<PushConsumeInput, PushConsumeResult>(
      'push-consume',
      {
        connection: connection(),
        topic,
        group,
        messages,
        expectSuccesses: 2,
        expectFailures: 3 + 1,
        settleMs: 1500,
        timeoutMs: 20_000,
        deadLetters: { readerGroup: uniqueName('GID_compat_dlq_reader'), expectCount: 1, timeoutMs: 10_000 },
      },
      50_000,
    );

    const [poisonId, flakyId, fineId] = r.receipts.map((x) => x.messageId);
    expect(attemptsOf(r.calls, poisonId!)).toEqual([1, 2, 3]);
    expect(attemptsOf(r.calls, flakyId!)).toEqual([1, 2]);
    expect(attemptsOf(r.calls, fineId!)).toEqual([1]);
    for (const call of r.calls) {
      const original = messages[[poisonId, flakyId, fineId].indexOf(call.message.messageId)]!;
      expect(contentOf(call.message)).toEqual(expectedContent(original));
    }

    // After its last attempt the poison message is in the group's dead-letter topic, readable by
    // any consumer, as the original message.
    expect(r.deadLetters!.received).toHaveLength(1);
    expectDeadLetterOf(r.deadLetters!.received[0]!, alwaysFails, poisonId!);
    expect(r.deadLetters!.received[0]!.topic).toBe(`%DLQ%${group}`);
    expect(broker.core.lag(group, topic).total).toBe(0);
  }, 60_000);

  it('FIFO: a failing message is retried in place up to max attempts, forwarded to %DLQ%<group>, and its message group then moves on', async () => {
    const topic = uniqueName('CompatPushFifoDlq');
    const group = uniqueName('GID_compat_push_fifo_dlq');
    broker.core.createGroup(group, { fifo: true, maxDeliveryAttempts: 3, retryBackoffMs: [300] });
    const poison = spec('g1-poison', { messageGroup: 'g1', properties: { [FAIL_TIMES_PROPERTY]: 'always' } });
    const next = spec('g1-next', { messageGroup: 'g1' });
    const other = spec('g2-only', { messageGroup: 'g2' });
    const messages = [poison, next, other];

    const r = await workspace.runScenario<PushConsumeInput, PushConsumeResult>(
      'push-consume',
      {
        connection: connection(),
        topic,
        group,
        messages,
        expectSuccesses: 2,
        expectFailures: 3,
        settleMs: 1500,
        timeoutMs: 20_000,
        deadLetters: {
          readerGroup: uniqueName('GID_compat_fifo_dlq_reader'),
          expectCount: 1,
          timeoutMs: 10_000,
        },
      },
      50_000,
    );

    const [poisonId, nextId, otherId] = r.receipts.map((x) => x.messageId);
    expect(attemptsOf(r.calls, poisonId!)).toEqual([1, 2, 3]);
    expect(attemptsOf(r.calls, nextId!)).toEqual([1]);
    expect(attemptsOf(r.calls, otherId!)).toEqual([1]);
    // g1's next message only after the poison message's last attempt.
    const lastPoisonSeq = Math.max(
      ...r.calls.filter((c) => c.message.messageId === poisonId).map((c) => c.seq),
    );
    expect(r.calls.find((c) => c.message.messageId === nextId)!.seq).toBeGreaterThan(lastPoisonSeq);
    expect(r.deadLetters!.received).toHaveLength(1);
    expectDeadLetterOf(r.deadLetters!.received[0]!, poison, poisonId!);
    expect(broker.core.lag(group, topic).total).toBe(0);
    expect(broker.core.inFlightCount(group, topic)).toBe(0);
  }, 60_000);
});

/**
 * Compatibility proof (issue 4), transactional messages: with the unmodified official Producer, a
 * committed message is delivered, a rolled-back one never is, and transactions the application
 * leaves open are resolved by the broker asking a producer's TransactionChecker (orphan recovery).
 */
import { type Broker } from '../../libs/broker/src/broker.js';
import { contentOf, expectedContent, uniqueName, setUpCompatWorkspace } from './compat-harness.js';
import {
  type MessageSpec,
  type TransactionInput,
  type TransactionResult,
} from './scenarios/scenario-types.js';

/** First check-back 1 s after the send (default 6 s), then every 2 s: short enough for a test. */
const TRANSACTION_TIMING = { firstCheckMs: 1000, checkIntervalMs: 2000 };

function spec(text: string, extra: Partial<MessageSpec> = {}): MessageSpec {
  return { bodyBase64: Buffer.from(text).toString('base64'), tag: 'tx', keys: [`key-${text}`], ...extra };
}

describe('official rocketmq-client-nodejs transactional Producer against the built-in broker', () => {
  const workspace = setUpCompatWorkspace();
  let broker: Broker;

  beforeAll(async () => {
    broker = await workspace.startBroker({ core: { transaction: TRANSACTION_TIMING } });
  });

  it('commit delivers, rollback never does, and open transactions are resolved by the producers’ checkers through orphan recovery', async () => {
    const topic = uniqueName('CompatTx');
    const group = uniqueName('GID_compat_tx');
    const input: TransactionInput = {
      connection: { endpoint: broker.address.endpoint },
      topic,
      group,
      committed: spec('committed', { properties: { step: 'commit' } }),
      rolledBack: spec('rolled-back', { properties: { step: 'rollback' } }),
      orphansOfLiveSender: [
        spec('orphan-commit', { properties: { resolve: 'COMMIT', step: 'orphan' } }),
        spec('orphan-rollback', { properties: { resolve: 'ROLLBACK', step: 'orphan' } }),
      ],
      orphanOfGoneSender: spec('orphan-gone-sender', { properties: { step: 'orphan-gone' } }),
      // committed + orphan-commit + orphan-gone-sender
      expectCount: 3,
      timeoutMs: 15_000,
      settleMs: 2500,
    };

    const result = await workspace.runScenario<TransactionInput, TransactionResult>(
      'transaction',
      input,
      35_000,
    );

    // Every transactional send got a non-empty, distinct transaction id.
    const receipts = [
      result.committed,
      result.rolledBack,
      ...result.orphansOfLiveSender,
      result.orphanOfGoneSender,
    ];
    for (const r of receipts) expect(r.transactionId).not.toBe('');
    expect(new Set(receipts.map((r) => r.transactionId)).size).toBe(receipts.length);

    const [orphanCommit, orphanRollback] = result.orphansOfLiveSender;
    const deliveredIds = result.received.map((m) => m.messageId).sort();
    expect(deliveredIds).toEqual(
      [result.committed.messageId, orphanCommit!.messageId, result.orphanOfGoneSender.messageId].sort(),
    );
    const delivered = (id: string) => result.received.find((m) => m.messageId === id)!;
    expect(contentOf(delivered(result.committed.messageId))).toEqual(expectedContent(input.committed));
    expect(contentOf(delivered(orphanCommit!.messageId))).toEqual(
      expectedContent(input.orphansOfLiveSender[0]!),
    );
    expect(contentOf(delivered(result.orphanOfGoneSender.messageId))).toEqual(
      expectedContent(input.orphanOfGoneSender),
    );
    for (const m of result.received) expect(m).toMatchObject({ topic, deliveryAttempt: 1, corrupted: false });

    // Only the open transactions were checked, each with the full message (id, body, tag, keys,
    // properties); the live sender's by its own checker, the gone sender's by a producer still there.
    const checkedIds = new Set(result.checks.map((c) => c.message.messageId));
    expect([...checkedIds].sort()).toEqual(
      [orphanCommit!.messageId, orphanRollback!.messageId, result.orphanOfGoneSender.messageId].sort(),
    );
    const specById = new Map<string, MessageSpec>([
      [orphanCommit!.messageId, input.orphansOfLiveSender[0]!],
      [orphanRollback!.messageId, input.orphansOfLiveSender[1]!],
      [result.orphanOfGoneSender.messageId, input.orphanOfGoneSender],
    ]);
    for (const check of result.checks) {
      expect(contentOf(check.message)).toEqual(expectedContent(specById.get(check.message.messageId)!));
      expect(check.message).toMatchObject({ topic, corrupted: false });
    }
    const checkersOf = (id: string) =>
      new Set(result.checks.filter((c) => c.message.messageId === id).map((c) => c.producer));
    expect(checkersOf(orphanCommit!.messageId)).toEqual(new Set(['A']));
    expect(checkersOf(orphanRollback!.messageId)).toEqual(new Set(['A']));
    expect(checkersOf(result.orphanOfGoneSender.messageId).has('A2')).toBe(false);

    // An orphan becomes visible only once a checker said COMMIT; the commit()ted one right away.
    const firstCheck = (id: string) =>
      Math.min(...result.checks.filter((c) => c.message.messageId === id).map((c) => c.message.receivedAt));
    expect(delivered(orphanCommit!.messageId).receivedAt).toBeGreaterThanOrEqual(
      firstCheck(orphanCommit!.messageId),
    );
    expect(delivered(result.orphanOfGoneSender.messageId).receivedAt).toBeGreaterThanOrEqual(
      firstCheck(result.orphanOfGoneSender.messageId),
    );

    expect(result.ackErrors).toEqual([]);
    expect(broker.core.pendingTransactions).toBe(0);
    expect(broker.core.lag(group, topic).total).toBe(0);
  }, 45_000);
});

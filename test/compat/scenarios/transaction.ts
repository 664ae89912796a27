/**
 * Scenario: transactional messages with the official Producer. One transaction is committed, one
 * rolled back, and some are never resolved by the application: the broker's orphaned-transaction
 * recovery must ask a producer's TransactionChecker (the sender A while it is connected; another
 * producer B of the topic once the sender A2 is gone), whose answer decides.
 */
import { type MessageView, type Producer } from 'rocketmq-client-nodejs';
// The generated protobuf module is CommonJS without static exports: only its default import works.
import definition from 'rocketmq-client-nodejs/proto/apache/rocketmq/v2/definition_pb.js';
import { messageOf, shutdownWithin, startProducer, startSimpleConsumer } from './official-client.js';
import { receiveLoop } from './receive-loop.js';
import { observe, runScenario, scenarioInput } from './scenario-runtime.js';
import {
  type CheckerAnswer,
  type CheckerCall,
  type MessageSpec,
  type ObservedReceipt,
  type TransactionInput,
  type TransactionResult,
} from './scenario-types.js';

const { TransactionResolution } = definition;

runScenario(async (): Promise<TransactionResult> => {
  const input = scenarioInput<TransactionInput>();
  const checks: CheckerCall[] = [];
  const checker = (producer: CheckerCall['producer']) => ({
    check: async (view: MessageView): Promise<definition.TransactionResolution> => {
      const answer: CheckerAnswer = view.properties.get('resolve') === 'ROLLBACK' ? 'ROLLBACK' : 'COMMIT';
      checks.push({ producer, message: observe(view), answer });
      return answer === 'COMMIT' ? TransactionResolution.COMMIT : TransactionResolution.ROLLBACK;
    },
  });
  const topics = [input.topic];
  const [a, a2, b, consumer] = await Promise.all([
    startProducer(input.connection, { topics, checker: checker('A') }),
    startProducer(input.connection, { topics, checker: checker('A2') }),
    startProducer(input.connection, { topics, checker: checker('B') }),
    startSimpleConsumer(input.connection, {
      consumerGroup: input.group,
      subscriptions: new Map([[input.topic, '*']]),
      awaitDuration: 1000,
    }),
  ]);

  const sendInTransaction = async (producer: Producer, spec: MessageSpec) => {
    const transaction = producer.beginTransaction();
    const receipt = await producer.send(messageOf(input.topic, spec), transaction);
    const observed: ObservedReceipt = {
      messageId: receipt.messageId,
      transactionId: receipt.transactionId,
      offset: receipt.offset,
    };
    return { transaction, receipt: observed };
  };

  const committed = await sendInTransaction(a, input.committed);
  await committed.transaction.commit();
  const committedAt = Date.now();
  const rolledBack = await sendInTransaction(a, input.rolledBack);
  await rolledBack.transaction.rollback();
  const rolledBackAt = Date.now();
  const orphansOfLiveSender: ObservedReceipt[] = [];
  for (const spec of input.orphansOfLiveSender)
    orphansOfLiveSender.push((await sendInTransaction(a, spec)).receipt);
  const orphanOfGoneSender = (await sendInTransaction(a2, input.orphanOfGoneSender)).receipt;
  const sentAt = Date.now();
  await a2.shutdown();

  const received = await receiveLoop(consumer, input);
  await Promise.all([a, b, consumer].map((client) => shutdownWithin(client, 3000)));
  return {
    ...received,
    committed: committed.receipt,
    rolledBack: rolledBack.receipt,
    orphansOfLiveSender,
    orphanOfGoneSender,
    committedAt,
    rolledBackAt,
    checks,
    sentAt,
  };
});

import { StatusCode } from '../status-code.js';
import {
  TransactionResolution,
  TransactionSource,
  type EndTransactionResponse,
  type SendMessageResponse,
} from './proto-types.js';
import { protoMessage, receiveFromCore, startHarness, type GrpcHarness } from './testing/grpc-harness.js';

describe('EndTransaction', () => {
  let h: GrpcHarness;
  let seq = 0;

  /** Sends one half message to a fresh topic; returns its ids. */
  async function half(
    namespace?: string,
  ): Promise<{ topic: string; messageId: string; transactionId: string }> {
    const topic = `tx-${++seq}`;
    const res = await h.call<SendMessageResponse>('SendMessage', {
      messages: [protoMessage({ topic, transactional: true, ...(namespace ? { namespace } : {}) })],
    });
    expect(res.status!.code).toBe(StatusCode.OK);
    return {
      topic,
      messageId: res.entries![0]!.message_id!,
      transactionId: res.entries![0]!.transaction_id!,
    };
  }

  const end = (
    tx: { topic: string; messageId: string; transactionId: string },
    resolution: number,
    source: number = TransactionSource.CLIENT,
    namespace = '',
  ) =>
    h.call<EndTransactionResponse>('EndTransaction', {
      topic: { name: tx.topic, resource_namespace: namespace },
      message_id: tx.messageId,
      transaction_id: tx.transactionId,
      resolution,
      source,
    });

  const visible = (topic: string, timeoutMs = 3_000) =>
    receiveFromCore(h.core, { group: `reader-${topic}`, topic, invisibleMs: 30_000 }, 1, timeoutMs);

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('COMMIT makes the half message visible with its id', async () => {
    const tx = await half();
    expect(await visible(tx.topic, 200)).toEqual([]);
    expect((await end(tx, TransactionResolution.COMMIT)).status).toEqual({
      code: StatusCode.OK,
      message: 'OK',
    });
    const got = await visible(tx.topic);
    expect(got.map((m) => m.message.messageId)).toEqual([tx.messageId]);
  });

  it('ROLLBACK drops the half message', async () => {
    const tx = await half();
    expect((await end(tx, TransactionResolution.ROLLBACK)).status!.code).toBe(StatusCode.OK);
    expect(await visible(tx.topic, 300)).toEqual([]);
  });

  it('accepts the answer to a check-back (source SERVER_CHECK)', async () => {
    const tx = await half();
    expect((await end(tx, TransactionResolution.COMMIT, TransactionSource.SERVER_CHECK)).status!.code).toBe(
      StatusCode.OK,
    );
    expect(await visible(tx.topic)).toHaveLength(1);
  });

  it('answers OK again for the same resolution repeated', async () => {
    const tx = await half();
    expect((await end(tx, TransactionResolution.COMMIT)).status!.code).toBe(StatusCode.OK);
    expect((await end(tx, TransactionResolution.COMMIT)).status!.code).toBe(StatusCode.OK);
    expect(await visible(tx.topic)).toHaveLength(1);
  });

  it('commits a namespaced transaction through the namespaced topic', async () => {
    const tx = await half('tenant3');
    expect(
      (await end(tx, TransactionResolution.COMMIT, TransactionSource.CLIENT, 'tenant3')).status!.code,
    ).toBe(StatusCode.OK);
    expect(await visible(`tenant3%${tx.topic}`)).toHaveLength(1);
  });

  it('answers INVALID_TRANSACTION_ID for a transaction finished the other way', async () => {
    const tx = await half();
    expect((await end(tx, TransactionResolution.COMMIT)).status!.code).toBe(StatusCode.OK);
    expect((await end(tx, TransactionResolution.ROLLBACK)).status!.code).toBe(
      StatusCode.INVALID_TRANSACTION_ID,
    );
  });

  it('answers INVALID_TRANSACTION_ID for an unknown transaction id', async () => {
    const tx = await half();
    const res = await end({ ...tx, transactionId: 'no-such-transaction' }, TransactionResolution.COMMIT);
    expect(res.status!.code).toBe(StatusCode.INVALID_TRANSACTION_ID);
    expect(await visible(tx.topic, 200)).toEqual([]);
  });

  it('answers INVALID_TRANSACTION_ID for a blank transaction id', async () => {
    const tx = await half();
    const res = await end({ ...tx, transactionId: '  ' }, TransactionResolution.COMMIT);
    expect(res.status!.code).toBe(StatusCode.INVALID_TRANSACTION_ID);
  });

  it("answers INVALID_TRANSACTION_ID for another message's id", async () => {
    const tx = await half();
    const other = await half();
    const res = await end({ ...tx, messageId: other.messageId }, TransactionResolution.COMMIT);
    expect(res.status!.code).toBe(StatusCode.INVALID_TRANSACTION_ID);
  });

  it('answers BAD_REQUEST for a resolution that is neither COMMIT nor ROLLBACK', async () => {
    const tx = await half();
    expect((await end(tx, TransactionResolution.UNSPECIFIED)).status!.code).toBe(StatusCode.BAD_REQUEST);
    expect((await end(tx, 7)).status!.code).toBe(StatusCode.BAD_REQUEST);
  });

  it('answers ILLEGAL_TOPIC for an illegal topic', async () => {
    const tx = await half();
    expect((await end({ ...tx, topic: 'TBW102' }, TransactionResolution.COMMIT)).status!.code).toBe(
      StatusCode.ILLEGAL_TOPIC,
    );
  });
});

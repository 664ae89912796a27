import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusCode } from '../../status-code.js';
import {
  MessageStore,
  type MessageStoreOptions,
  type MessageToStore,
  type StoredMessage,
} from '../../store/index.js';
import { SysFlag } from '../../store/message-record.js';
import { ManualClock } from '../clock.js';
import { TRANS_CHECK_MAX_TIME_TOPIC, TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC } from '../limits.js';
import { TooManyPendingTransactionsError, TransactionServiceClosedError } from './errors.js';
import { parseOpRecord } from './op-record.js';
import { PROGRESS_FILE_NAME } from './transaction-progress.js';
import {
  TransactionService,
  type TransactionCheck,
  type TransactionServiceOptions,
} from './transaction-service.js';

const quiet = { log: () => undefined, warn: () => undefined, error: () => undefined };
const T0 = 1_700_000_000_000;
const S = 1_000;

let dir: string;
let clock: ManualClock;
let store: MessageStore | undefined;
let service: TransactionService | undefined;
/** Check-backs the "producer" received. */
let checks: TransactionCheck[];
/** Whether a producer of the topic is connected. */
let online: boolean;
/** What the producer does with a check-back (default: nothing, i.e. UNKNOWN). */
let onCheck: ((check: TransactionCheck) => void) | undefined;

async function openStore(options: Partial<MessageStoreOptions> = {}): Promise<MessageStore> {
  store = await MessageStore.open({
    dataDir: join(dir, 'store'),
    retentionIntervalMs: 0,
    logger: quiet,
    ...options,
  });
  return store;
}

async function openService(options: Partial<TransactionServiceOptions> = {}): Promise<TransactionService> {
  service = await TransactionService.open({
    store: store!,
    clock,
    stateDir: join(dir, 'state'),
    logger: quiet,
    checkBack: (check) => {
      if (!online) return false;
      checks.push(check);
      onCheck?.(check);
      return true;
    },
    ...options,
  });
  return service;
}

async function open(
  options: Partial<TransactionServiceOptions> = {},
  storeOptions: Partial<MessageStoreOptions> = {},
): Promise<TransactionService> {
  await openStore(storeOptions);
  return openService(options);
}

/** Clean shutdown and start again on the same directories (and clock). */
async function restart(options: Partial<TransactionServiceOptions> = {}): Promise<TransactionService> {
  await service!.close();
  await store!.close();
  return open(options);
}

/** A crash of the service: it never closes (its clock timers are simply never run again). */
async function crashAndRestart(
  beforeReopen?: (store: MessageStore) => Promise<void>,
  options: Partial<TransactionServiceOptions> = {},
): Promise<TransactionService> {
  const oldClock = clock;
  clock = new ManualClock(oldClock.now());
  service = undefined;
  if (beforeReopen) await beforeReopen(store!);
  await store!.close();
  return open(options);
}

async function advance(ms: number): Promise<void> {
  await clock.advanceAsync(ms);
  await service!.whenIdle();
}

function order(n: number, overrides: Partial<MessageToStore> = {}): MessageToStore {
  return {
    topic: 'orders',
    queueId: n % 4,
    body: Buffer.from(`order #${n}`),
    messageId: `MSG-${n}`,
    tag: 'created',
    keys: [`order-${n}`],
    userProperties: { amount: String(n * 10) },
    ...overrides,
  };
}

/** Every message visible on the queues of a topic. */
function visible(topic: string): StoredMessage[] {
  const s = store!;
  const out: StoredMessage[] = [];
  for (const queueId of s.queueIds(topic)) {
    for (let offset = 0; ;) {
      const got = s.getMessages(topic, queueId, offset, 1024);
      out.push(...got.messages);
      if (got.nextOffset <= offset || got.nextOffset >= got.maxOffset) break;
      offset = got.nextOffset;
    }
  }
  return out;
}

const invalidTransactionId = { code: StatusCode.INVALID_TRANSACTION_ID };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rocketnest-tx-'));
  clock = new ManualClock(T0);
  checks = [];
  online = true;
  onCheck = undefined;
});

afterEach(async () => {
  await service?.close();
  await store?.close();
  service = undefined;
  store = undefined;
  rmSync(dir, { recursive: true, force: true });
});

describe('TransactionService: commit and rollback', () => {
  it('keeps a half message invisible until COMMIT, then stores it on its real queue unchanged', async () => {
    const tx = await open();
    const message = order(1, {
      queueId: 3,
      systemProperties: { __SHARDINGKEY: 'customer-7' },
      bornHost: '10.1.2.3:4567',
      bornTimestamp: T0 - 5,
    });
    const { transactionId, result } = await tx.prepare(message, { producerGroup: 'orders' });
    expect(transactionId).toMatch(/^[0-9A-F]{32}$/);
    expect(result).toMatchObject({ topic: TRANS_HALF_TOPIC, queueId: 0, messageId: 'MSG-1' });
    expect(tx.pendingCount).toBe(1);
    expect(visible('orders')).toEqual([]);

    const half = store!.getMessageByPhysicalOffset(result.physicalOffset)!;
    expect(half.topic).toBe(TRANS_HALF_TOPIC);
    expect(half.systemProperties).toMatchObject({
      REAL_TOPIC: 'orders',
      REAL_QID: '3',
      TRAN_MSG: 'true',
      PGROUP: 'orders',
      __transactionId__: transactionId,
      __SHARDINGKEY: 'customer-7',
    });
    expect(half.sysFlag & SysFlag.TRANSACTION_MASK).toBe(0);

    await tx.end(transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    expect(tx.pendingCount).toBe(0);
    const [committed, ...more] = visible('orders');
    expect(more).toEqual([]);
    expect(committed).toMatchObject({
      topic: 'orders',
      queueId: 3,
      queueOffset: 0,
      messageId: 'MSG-1',
      tag: 'created',
      keys: ['order-1'],
      userProperties: { amount: '10' },
      bornHost: '10.1.2.3:4567',
      bornTimestamp: T0 - 5,
      preparedTransactionOffset: result.physicalOffset,
    });
    expect(committed!.body.toString()).toBe('order #1');
    expect(committed!.sysFlag & SysFlag.TRANSACTION_MASK).toBe(SysFlag.TRANSACTION_COMMIT);
    // EndTransactionProcessor: REAL_TOPIC, REAL_QID and TRAN_MSG are cleared; the rest is kept.
    expect(committed!.systemProperties).toEqual({
      __SHARDINGKEY: 'customer-7',
      PGROUP: 'orders',
      __transactionId__: transactionId,
    });
  });

  it('ROLLBACK drops the half: nothing becomes visible, only an op record is written', async () => {
    const tx = await open();
    const { transactionId } = await tx.prepare(order(1));
    await tx.end(transactionId, 'MSG-1', 'ROLLBACK', 'CLIENT');
    expect(tx.pendingCount).toBe(0);
    expect(visible('orders')).toEqual([]);
    const ops = visible(TRANS_OP_HALF_TOPIC).map((m) => parseOpRecord(m));
    expect(ops).toEqual([expect.objectContaining({ kind: 'ROLLBACK', transactionId, source: 'CLIENT' })]);
    await advance(10 * 60 * S);
    expect(checks).toEqual([]);
  });

  it('is idempotent: the same resolution again is OK and changes nothing', async () => {
    const tx = await open();
    const a = await tx.prepare(order(1));
    const b = await tx.prepare(order(2));
    await tx.end(a.transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    await tx.end(a.transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    await tx.end(a.transactionId, '', 'COMMIT', 'SERVER_CHECK');
    await tx.end(b.transactionId, 'MSG-2', 'ROLLBACK', 'CLIENT');
    await tx.end(b.transactionId, 'MSG-2', 'ROLLBACK', 'CLIENT');
    expect(visible('orders').map((m) => m.messageId)).toEqual(['MSG-1']);
    // Concurrent duplicates are serialised per transaction.
    const c = await tx.prepare(order(3));
    await Promise.all([
      tx.end(c.transactionId, 'MSG-3', 'COMMIT', 'CLIENT'),
      tx.end(c.transactionId, 'MSG-3', 'COMMIT', 'SERVER_CHECK'),
      tx.end(c.transactionId, 'MSG-3', 'COMMIT', 'CLIENT'),
    ]);
    expect(
      visible('orders')
        .map((m) => m.messageId)
        .sort(),
    ).toEqual(['MSG-1', 'MSG-3']);
  });

  it('refuses the opposite resolution once one was applied (INVALID_TRANSACTION_ID), changing nothing', async () => {
    const tx = await open();
    const a = await tx.prepare(order(1));
    const b = await tx.prepare(order(2));
    await tx.end(a.transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    await expect(tx.end(a.transactionId, 'MSG-1', 'ROLLBACK', 'CLIENT')).rejects.toMatchObject({
      ...invalidTransactionId,
      message: expect.stringContaining('already committed'),
    });
    await tx.end(b.transactionId, 'MSG-2', 'ROLLBACK', 'CLIENT');
    await expect(tx.end(b.transactionId, 'MSG-2', 'COMMIT', 'SERVER_CHECK')).rejects.toMatchObject({
      ...invalidTransactionId,
      message: expect.stringContaining('already rolled back'),
    });
    expect(visible('orders').map((m) => m.messageId)).toEqual(['MSG-1']);
  });

  it('rejects blank, unknown and mismatched ids with INVALID_TRANSACTION_ID, bad enums with BAD_REQUEST', async () => {
    const tx = await open();
    const { transactionId } = await tx.prepare(order(1));
    await expect(tx.end('', 'MSG-1', 'COMMIT', 'CLIENT')).rejects.toMatchObject(invalidTransactionId);
    await expect(tx.end('  \t', 'MSG-1', 'COMMIT', 'CLIENT')).rejects.toMatchObject(invalidTransactionId);
    await expect(tx.end(undefined as unknown as string, 'MSG-1', 'COMMIT', 'CLIENT')).rejects.toMatchObject(
      invalidTransactionId,
    );
    await expect(
      tx.end('0123456789ABCDEF0123456789ABCDEF', 'MSG-1', 'COMMIT', 'CLIENT'),
    ).rejects.toMatchObject({
      ...invalidTransactionId,
      message: expect.stringContaining('no such transaction'),
    });
    await expect(tx.end(transactionId, 'MSG-2', 'COMMIT', 'CLIENT')).rejects.toMatchObject({
      ...invalidTransactionId,
      message: expect.stringContaining('belongs to message "MSG-1"'),
    });
    await expect(
      tx.end(transactionId, 'MSG-1', 'UNKNOWN' as unknown as 'COMMIT', 'CLIENT'),
    ).rejects.toMatchObject({ code: StatusCode.BAD_REQUEST });
    await expect(
      tx.end(transactionId, 'MSG-1', 'COMMIT', 'ELSEWHERE' as unknown as 'CLIENT'),
    ).rejects.toMatchObject({ code: StatusCode.BAD_REQUEST });
    // None of that touched the transaction.
    expect(tx.pendingCount).toBe(1);
    await tx.end(transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    expect(visible('orders')).toHaveLength(1);
  });

  it('validates prepare: system topics, queue ids, recovery duration, pending limit, closed service', async () => {
    const tx = await open({ maxPending: 2 });
    await expect(tx.prepare(order(1, { topic: TRANS_HALF_TOPIC }))).rejects.toMatchObject({
      code: StatusCode.ILLEGAL_TOPIC,
    });
    await expect(tx.prepare(order(1, { topic: '%DLQ%group' }))).rejects.toMatchObject({
      code: StatusCode.ILLEGAL_TOPIC,
    });
    await expect(tx.prepare(order(1, { queueId: -1 }))).rejects.toMatchObject({
      code: StatusCode.BAD_REQUEST,
    });
    await expect(tx.prepare(order(1), { recoveryMs: 3_601 * S })).rejects.toMatchObject({
      code: StatusCode.BAD_REQUEST,
    });
    await tx.prepare(order(1), { recoveryMs: 3_600 * S });
    await tx.prepare(order(2));
    await expect(tx.prepare(order(3))).rejects.toBeInstanceOf(TooManyPendingTransactionsError);
    await expect(tx.prepare(order(3))).rejects.toMatchObject({ code: StatusCode.TOO_MANY_REQUESTS });
    expect(visible(TRANS_HALF_TOPIC)).toHaveLength(2);
    await tx.close();
    await expect(tx.prepare(order(4))).rejects.toBeInstanceOf(TransactionServiceClosedError);
    await expect(tx.end('X', '', 'COMMIT', 'CLIENT')).rejects.toBeInstanceOf(TransactionServiceClosedError);
  });
});

describe('TransactionService: check-back', () => {
  it('checks back after 6 s, then every 30 s, with the half as stored and its real topic', async () => {
    const tx = await open();
    const { transactionId, result } = await tx.prepare(order(1, { queueId: 2 }), { producerGroup: 'orders' });
    await advance(6 * S - 1);
    expect(checks).toEqual([]);
    await advance(1);
    expect(checks).toHaveLength(1);
    const [first] = checks;
    expect(first).toMatchObject({ transactionId, producerGroup: 'orders', topic: 'orders', attempt: 1 });
    expect(first!.message).toMatchObject({
      topic: 'orders',
      queueId: 2,
      messageId: 'MSG-1',
      physicalOffset: result.physicalOffset,
      userProperties: { amount: '10' },
    });
    expect(first!.message.body.toString()).toBe('order #1');
    expect(first!.message.systemProperties).toMatchObject({
      TRAN_MSG: 'true',
      __transactionId__: transactionId,
      TRANSACTION_CHECK_TIMES: '1',
    });
    await advance(30 * S - 1);
    expect(checks).toHaveLength(1);
    await advance(1);
    expect(checks.map((c) => c.attempt)).toEqual([1, 2]);
    expect(clock.now()).toBe(T0 + 36 * S);
    await advance(30 * S);
    expect(checks.map((c) => c.attempt)).toEqual([1, 2, 3]);
  });

  it('the producer answers a check-back with EndTransaction(SERVER_CHECK): COMMIT or ROLLBACK', async () => {
    const tx = await open();
    const a = await tx.prepare(order(1));
    const b = await tx.prepare(order(2));
    onCheck = (check) => {
      const resolution = check.message.messageId === 'MSG-1' ? 'COMMIT' : 'ROLLBACK';
      void tx.end(check.transactionId, check.message.messageId, resolution, 'SERVER_CHECK');
    };
    await advance(6 * S);
    expect(checks.map((c) => c.transactionId).sort()).toEqual([a.transactionId, b.transactionId].sort());
    expect(tx.pendingCount).toBe(0);
    expect(visible('orders').map((m) => m.messageId)).toEqual(['MSG-1']);
    await advance(10 * 60 * S);
    expect(checks).toHaveLength(2);
  });

  it('after 15 unanswered check-backs rolls back into TRANS_CHECK_MAX_TIME_TOPIC; a late EndTransaction is a no-op', async () => {
    const tx = await open();
    const { transactionId, result } = await tx.prepare(order(1), { producerGroup: 'orders' });
    const checkTimes: number[] = [];
    onCheck = () => checkTimes.push(clock.now() - T0);
    await advance(456 * S - 1);
    expect(checks.map((c) => c.attempt)).toEqual(Array.from({ length: 15 }, (_, i) => i + 1));
    expect(checkTimes).toEqual(Array.from({ length: 15 }, (_, i) => 6 * S + i * 30 * S));
    expect(tx.pendingCount).toBe(1);
    expect(visible(TRANS_CHECK_MAX_TIME_TOPIC)).toEqual([]);

    await advance(1); // 6 s + 15 × 30 s: the 16th would be due
    expect(tx.pendingCount).toBe(0);
    const [kept, ...more] = visible(TRANS_CHECK_MAX_TIME_TOPIC);
    expect(more).toEqual([]);
    expect(kept).toMatchObject({
      queueId: 0,
      messageId: 'MSG-1',
      preparedTransactionOffset: result.physicalOffset,
      userProperties: { amount: '10' },
    });
    expect(kept!.body.toString()).toBe('order #1');
    expect(kept!.systemProperties).toMatchObject({
      REAL_TOPIC: 'orders',
      TRANSACTION_CHECK_TIMES: '15',
      __transactionId__: transactionId,
    });
    expect(visible('orders')).toEqual([]);

    await advance(10 * 60 * S);
    expect(checks).toHaveLength(15);
    // Late answers: ROLLBACK agrees with what happened (OK); COMMIT is refused and changes nothing.
    await tx.end(transactionId, 'MSG-1', 'ROLLBACK', 'CLIENT');
    await expect(tx.end(transactionId, 'MSG-1', 'COMMIT', 'SERVER_CHECK')).rejects.toMatchObject({
      ...invalidTransactionId,
      message: expect.stringContaining(TRANS_CHECK_MAX_TIME_TOPIC),
    });
    expect(visible('orders')).toEqual([]);
    expect(visible(TRANS_CHECK_MAX_TIME_TOPIC)).toHaveLength(1);
  });

  it("waits for the message's own recovery duration (raised to 6 s, whole seconds, as RocketMQ)", async () => {
    const tx = await open();
    const slow = await tx.prepare(order(1), { recoveryMs: 60 * S });
    const short = await tx.prepare(order(2), { recoveryMs: 2 * S });
    const fractional = await tx.prepare(order(3), { recoveryMs: 7_900 });
    const at = new Map<string, number[]>();
    onCheck = (c) => at.set(c.transactionId, [...(at.get(c.transactionId) ?? []), clock.now() - T0]);
    await advance(100 * S);
    expect(at.get(short.transactionId)).toEqual([6 * S, 36 * S, 66 * S, 96 * S]);
    expect(at.get(fractional.transactionId)).toEqual([7 * S, 37 * S, 67 * S, 97 * S]);
    expect(at.get(slow.transactionId)).toEqual([60 * S, 90 * S]);
    expect(store!.getMessageByPhysicalOffset(slow.result.physicalOffset)!.systemProperties).toMatchObject({
      CHECK_IMMUNITY_TIME_IN_SECONDS: '60',
    });
  });

  it('does not count a check-back no producer received: retried each interval, counted once delivered', async () => {
    const tx = await open();
    const { transactionId } = await tx.prepare(order(1));
    online = false;
    await advance(20 * 60 * S); // 40 attempts with nobody connected
    expect(tx.pendingCount).toBe(1);
    online = true;
    await advance(30 * S);
    expect(checks.map((c) => c.attempt)).toEqual([1]);
    await tx.end(transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    expect(visible('orders')).toHaveLength(1);
  });

  it('a check-back callback that throws counts as not delivered', async () => {
    const tx = await open({
      checkBack: () => {
        throw new Error('stream closed');
      },
    });
    await tx.prepare(order(1));
    await advance(10 * 60 * S);
    expect(tx.pendingCount).toBe(1);
  });

  it('rolls back a half whose record is damaged at its first check (nothing to show or commit)', async () => {
    const tx = await open({}, { flushMode: 'sync' });
    const { transactionId, result } = await tx.prepare(order(1));
    const segment = join(dir, 'store', 'commitlog', '0'.repeat(20));
    const bytes = readFileSync(segment);
    bytes[result.physicalOffset + result.size - 1]! ^= 0xff; // last body byte: body CRC mismatch
    writeFileSync(segment, bytes);
    await advance(6 * S);
    expect(checks).toEqual([]);
    expect(tx.pendingCount).toBe(0);
    expect(visible(TRANS_CHECK_MAX_TIME_TOPIC)).toEqual([]);
    await expect(tx.end(transactionId, 'MSG-1', 'COMMIT', 'CLIENT')).rejects.toMatchObject(
      invalidTransactionId,
    );
    await tx.end(transactionId, 'MSG-1', 'ROLLBACK', 'CLIENT');
  });

  it('rolls back a half older than maxHalfAgeMs even with checks left (producers gone for good)', async () => {
    const tx = await open({ maxHalfAgeMs: 60 * 60 * S });
    online = false;
    await tx.prepare(order(1));
    await advance(60 * 60 * S + 30 * S);
    expect(tx.pendingCount).toBe(0);
    expect(visible(TRANS_CHECK_MAX_TIME_TOPIC)).toHaveLength(1);
  });
});

describe('TransactionService: restarts', () => {
  it('survives a restart: pending halves keep their check counts, outcomes keep answering', async () => {
    let tx = await open();
    const a = await tx.prepare(order(1));
    const b = await tx.prepare(order(2));
    const c = await tx.prepare(order(3));
    const d = await tx.prepare(order(4));
    await tx.end(c.transactionId, 'MSG-3', 'COMMIT', 'CLIENT');
    await tx.end(d.transactionId, 'MSG-4', 'ROLLBACK', 'CLIENT');
    await advance(36 * S);
    expect(checks.map((x) => `${x.message.messageId}#${x.attempt}`)).toEqual([
      'MSG-1#1',
      'MSG-2#1',
      'MSG-1#2',
      'MSG-2#2',
    ]);

    tx = await restart();
    expect(tx.pendingCount).toBe(2);
    // Outcomes from before the restart.
    await tx.end(c.transactionId, 'MSG-3', 'COMMIT', 'CLIENT');
    await expect(tx.end(c.transactionId, 'MSG-3', 'ROLLBACK', 'CLIENT')).rejects.toMatchObject(
      invalidTransactionId,
    );
    await tx.end(d.transactionId, 'MSG-4', 'ROLLBACK', 'SERVER_CHECK');
    await expect(tx.end(d.transactionId, 'MSG-4', 'COMMIT', 'CLIENT')).rejects.toMatchObject(
      invalidTransactionId,
    );
    expect(visible('orders').map((m) => m.messageId)).toEqual(['MSG-3']);

    // Checks resume on time with the right attempt numbers.
    checks = [];
    await advance(30 * S);
    expect(checks.map((x) => `${x.message.messageId}#${x.attempt}`)).toEqual(['MSG-1#3', 'MSG-2#3']);
    await tx.end(a.transactionId, 'MSG-1', 'COMMIT', 'SERVER_CHECK');

    tx = await restart();
    expect(tx.pendingCount).toBe(1);
    // b runs out of checks at 6 s + 15 × 30 s after it was prepared, restarts or not.
    await advance(456 * S - (clock.now() - T0) - 1);
    expect(checks.at(-1)).toMatchObject({ transactionId: b.transactionId, attempt: 15 });
    expect(tx.pendingCount).toBe(1);
    await advance(1);
    expect(tx.pendingCount).toBe(0);
    expect(visible(TRANS_CHECK_MAX_TIME_TOPIC).map((m) => m.messageId)).toEqual(['MSG-2']);
    expect(
      visible('orders')
        .map((m) => m.messageId)
        .sort(),
    ).toEqual(['MSG-1', 'MSG-3']);

    tx = await restart();
    expect(tx.pendingCount).toBe(0);
    await expect(tx.end(b.transactionId, 'MSG-2', 'COMMIT', 'CLIENT')).rejects.toMatchObject(
      invalidTransactionId,
    );
    await tx.end(b.transactionId, 'MSG-2', 'ROLLBACK', 'CLIENT');
    await advance(10 * 60 * S);
    expect(
      visible('orders')
        .map((m) => m.messageId)
        .sort(),
    ).toEqual(['MSG-1', 'MSG-3']);
  });

  it('a commit from before a restart stays committed and is neither re-delivered nor checked back', async () => {
    let tx = await open();
    const { transactionId } = await tx.prepare(order(1));
    await tx.end(transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    await restart();
    tx = await restart();
    await tx.end(transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    await advance(30 * 60 * S);
    expect(checks).toEqual([]);
    expect(visible('orders').map((m) => m.messageId)).toEqual(['MSG-1']);
  });

  it('persists its progress so that a restart scans only the unsettled tail', async () => {
    let tx = await open({}, { flushMode: 'sync' });
    const done = await Promise.all([1, 2, 3].map((n) => tx.prepare(order(n))));
    const open4 = await tx.prepare(order(4));
    const later = await tx.prepare(order(5));
    for (const { transactionId } of done) await tx.end(transactionId, '', 'COMMIT', 'CLIENT');
    await tx.end(later.transactionId, '', 'ROLLBACK', 'CLIENT');
    await advance(2 * S);
    const progressPath = join(dir, 'state', PROGRESS_FILE_NAME);
    // Halves 0-2 are settled, 3 is pending: a restart starts at half 3 and at its op floor (0: no
    // op record existed when it was prepared).
    expect(JSON.parse(readFileSync(progressPath, 'utf8'))).toEqual({
      version: 1,
      halfOffset: 3,
      opOffset: 0,
      clean: false,
    });
    await tx.end(open4.transactionId, '', 'ROLLBACK', 'CLIENT');
    await advance(2 * S);
    expect(JSON.parse(readFileSync(progressPath, 'utf8'))).toMatchObject({ halfOffset: 5, opOffset: 5 });
    await tx.close();
    expect(JSON.parse(readFileSync(progressPath, 'utf8'))).toMatchObject({ clean: true });
    await store!.close();

    tx = await open();
    expect(tx.pendingCount).toBe(0);
    // Outcomes below the progress come from the store's index.
    await tx.end(done[0]!.transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    await expect(tx.end(later.transactionId, 'MSG-5', 'COMMIT', 'CLIENT')).rejects.toMatchObject(
      invalidTransactionId,
    );
    const again = await tx.prepare(order(6));
    tx = await restart();
    expect(tx.pendingCount).toBe(1);
    await tx.end(again.transactionId, 'MSG-6', 'COMMIT', 'CLIENT');
    expect(
      visible('orders')
        .map((m) => m.messageId)
        .sort(),
    ).toEqual(['MSG-1', 'MSG-2', 'MSG-3', 'MSG-6']);
  });

  it('rescans from the start when the progress file is unreadable', async () => {
    let tx = await open({}, { flushMode: 'sync' });
    const a = await tx.prepare(order(1));
    const b = await tx.prepare(order(2));
    await tx.end(a.transactionId, '', 'COMMIT', 'CLIENT');
    await service!.close();
    await store!.close();
    const progressPath = join(dir, 'state', PROGRESS_FILE_NAME);
    writeFileSync(progressPath, '{ torn');
    writeFileSync(`${progressPath}.bak`, 'garbage');
    tx = await open();
    expect(tx.pendingCount).toBe(1);
    await tx.end(b.transactionId, 'MSG-2', 'COMMIT', 'CLIENT');
    await tx.end(a.transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    expect(
      visible('orders')
        .map((m) => m.messageId)
        .sort(),
    ).toEqual(['MSG-1', 'MSG-2']);
  });

  it('after a crash (no close) pending halves, counts and outcomes come back from the log', async () => {
    let tx = await open();
    const a = await tx.prepare(order(1));
    const b = await tx.prepare(order(2));
    await tx.end(b.transactionId, 'MSG-2', 'ROLLBACK', 'CLIENT');
    await advance(6 * S);
    expect(checks).toHaveLength(1);
    tx = await crashAndRestart();
    expect(tx.pendingCount).toBe(1);
    await expect(tx.end(b.transactionId, 'MSG-2', 'COMMIT', 'CLIENT')).rejects.toMatchObject(
      invalidTransactionId,
    );
    await advance(30 * S);
    expect(checks.map((c) => c.attempt)).toEqual([1, 2]);
    await tx.end(a.transactionId, 'MSG-1', 'COMMIT', 'SERVER_CHECK');
    expect(visible('orders').map((m) => m.messageId)).toEqual(['MSG-1']);
  });

  it('after a crash, a commit whose op record was torn off is recognised, not asked for or stored again', async () => {
    let tx = await open();
    const { transactionId, result } = await tx.prepare(order(1, { queueId: 1 }));
    // The crash: the committed message reached the log, its op record (same batch) did not.
    tx = await crashAndRestart(async (s) => {
      const half = s.getMessageByPhysicalOffset(result.physicalOffset)!;
      const { REAL_TOPIC: _t, REAL_QID: _q, TRAN_MSG: _m, ...kept } = half.systemProperties;
      await s.append({
        ...order(1, { queueId: 1 }),
        systemProperties: kept,
        sysFlag: SysFlag.TRANSACTION_COMMIT,
        preparedTransactionOffset: result.physicalOffset,
      });
    });
    expect(tx.pendingCount).toBe(0);
    await tx.end(transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    await expect(tx.end(transactionId, 'MSG-1', 'ROLLBACK', 'CLIENT')).rejects.toMatchObject(
      invalidTransactionId,
    );
    await advance(10 * 60 * S);
    expect(checks).toEqual([]);
    expect(visible('orders').map((m) => m.messageId)).toEqual(['MSG-1']);
    const ops = visible(TRANS_OP_HALF_TOPIC).map((m) => parseOpRecord(m));
    expect(ops).toEqual([expect.objectContaining({ kind: 'COMMIT', source: 'RECOVERY', transactionId })]);
  });

  it('looks outcomes up in the store when they are no longer cached', async () => {
    const tx = await open({ finishedCacheSize: 0 });
    const a = await tx.prepare(order(1));
    const b = await tx.prepare(order(2));
    await tx.end(a.transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    await tx.end(b.transactionId, 'MSG-2', 'ROLLBACK', 'CLIENT');
    await tx.end(a.transactionId, 'MSG-1', 'COMMIT', 'CLIENT');
    await tx.end(b.transactionId, 'MSG-2', 'ROLLBACK', 'CLIENT');
    await expect(tx.end(a.transactionId, 'MSG-1', 'ROLLBACK', 'CLIENT')).rejects.toMatchObject(
      invalidTransactionId,
    );
    await expect(tx.end(a.transactionId, 'MSG-9', 'COMMIT', 'CLIENT')).rejects.toMatchObject(
      invalidTransactionId,
    );
    expect(visible('orders').map((m) => m.messageId)).toEqual(['MSG-1']);
  });
});

describe('TransactionService: many transactions', () => {
  it('2,000 concurrent transactions resolved in random order: exactly the committed ones are visible', async () => {
    const tx = await open();
    const n = 2_000;
    const prepared = await Promise.all(
      Array.from({ length: n }, (_, i) => tx.prepare(order(i, { queueId: i % 8 }))),
    );
    expect(new Set(prepared.map((p) => p.transactionId)).size).toBe(n);
    expect(tx.pendingCount).toBe(n);
    expect(visible('orders')).toEqual([]);

    // Deterministic shuffle (LCG), then resolve concurrently; every fifth also gets a duplicate.
    let seed = 42;
    const random = (): number => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const indexes = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [indexes[i], indexes[j]] = [indexes[j]!, indexes[i]!];
    }
    const commits = new Set(indexes.filter(() => random() < 0.5));
    await Promise.all(
      indexes.flatMap((i) => {
        const resolution = commits.has(i) ? 'COMMIT' : 'ROLLBACK';
        const end = (): Promise<void> => tx.end(prepared[i]!.transactionId, `MSG-${i}`, resolution, 'CLIENT');
        return i % 5 === 0 ? [end(), end()] : [end()];
      }),
    );
    expect(tx.pendingCount).toBe(0);
    const seen = visible('orders').map((m) => m.messageId);
    expect(seen).toHaveLength(commits.size);
    expect(new Set(seen)).toEqual(new Set([...commits].map((i) => `MSG-${i}`)));
    await advance(10 * 60 * S);
    expect(checks).toEqual([]);
  });
});

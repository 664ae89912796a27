/**
 * Rebuilds the state of transactions from the store at open: the op queue from the progress's
 * `opOffset`, then the half queue from its `halfOffset`, the same pairing RocketMQ's check does on
 * every pass (`TransactionalMessageServiceImpl.check` + `fillOpRemoveMap`), done once.
 *
 * Memory: one small summary per half that has op records since `opOffset` (a number-keyed map),
 * i.e. the transactions of the window between the oldest pending half and now; bodies are read in
 * batches and dropped.
 */
import { TRANS_HALF_TOPIC, TRANS_OP_HALF_TOPIC } from '../limits.js';
import type { MessageStore, StoredMessage } from '../../store/index.js';
import { parseHalf, type HalfInfo } from './half-message.js';
import { parseOpRecord, type FinishKind } from './op-record.js';
import type { TransactionProgress } from './transaction-progress.js';

/** Records read per `getMessages`. */
const SCAN_BATCH = 256;

/** A half with no finishing op record. */
export interface RecoveredHalf {
  readonly info: HalfInfo;
  readonly messageId: string;
  readonly physicalOffset: number;
  readonly queueOffset: number;
  /** Check-backs recorded (highest CHECK op record). */
  readonly checks: number;
  /** Broker clock of the last recorded check-back. */
  readonly lastCheckAt: number | undefined;
}

export interface TransactionLogVisitor {
  /** Halves without an outcome, in queue order. */
  pending(half: RecoveredHalf): void;
  /** Halves with an outcome (the first one recorded counts). */
  finished(transactionId: string, kind: FinishKind, messageId: string): void;
}

export interface TransactionLogScan {
  readonly pending: number;
  readonly finished: number;
  /** Records that are not ours or are damaged beyond parsing (skipped). */
  readonly unreadableOps: number;
  readonly unreadableHalves: number;
}

interface OpSummary {
  readonly transactionId: string;
  finish: FinishKind | undefined;
  checks: number;
  lastCheckAt: number | undefined;
}

export function scanTransactionLog(
  store: MessageStore,
  from: TransactionProgress,
  visitor: TransactionLogVisitor,
): TransactionLogScan {
  const ops = new Map<number, OpSummary>();
  let unreadableOps = 0;
  scanQueue(store, TRANS_OP_HALF_TOPIC, from.opOffset, (record) => {
    const op = parseOpRecord(record);
    if (!op) {
      unreadableOps++;
      return;
    }
    if (op.halfQueueOffset < from.halfOffset) return; // about a half settled before the progress
    let summary = ops.get(op.halfQueueOffset);
    if (!summary) {
      summary = { transactionId: op.transactionId, finish: undefined, checks: 0, lastCheckAt: undefined };
      ops.set(op.halfQueueOffset, summary);
    }
    if (summary.transactionId !== op.transactionId) return;
    if (op.kind === 'CHECK') {
      const checks = op.checks ?? 0;
      if (checks > summary.checks) {
        summary.checks = checks;
        summary.lastCheckAt = op.at;
      }
    } else if (summary.finish === undefined) {
      summary.finish = op.kind;
    }
  });

  let pending = 0;
  let finished = 0;
  let unreadableHalves = 0;
  scanQueue(store, TRANS_HALF_TOPIC, from.halfOffset, (record) => {
    const info = parseHalf(record);
    if (!info) {
      unreadableHalves++;
      return;
    }
    let summary = ops.get(record.queueOffset);
    if (summary && summary.transactionId !== info.transactionId) summary = undefined;
    if (summary?.finish) {
      finished++;
      visitor.finished(info.transactionId, summary.finish, record.messageId);
      return;
    }
    pending++;
    visitor.pending({
      info,
      messageId: record.messageId,
      physicalOffset: record.physicalOffset,
      queueOffset: record.queueOffset,
      checks: summary?.checks ?? 0,
      lastCheckAt: summary?.lastCheckAt,
    });
  });
  return { pending, finished, unreadableOps, unreadableHalves };
}

/** Visits every readable record of queue 0 of `topic` from `from`, in batches. */
function scanQueue(
  store: MessageStore,
  topic: string,
  from: number,
  visit: (record: StoredMessage) => void,
): void {
  let offset = from;
  for (;;) {
    const got = store.getMessages(topic, 0, offset, SCAN_BATCH);
    for (const record of got.messages) visit(record);
    if (got.nextOffset <= offset || got.nextOffset >= got.maxOffset) return;
    offset = got.nextOffset;
  }
}

/**
 * Op records: what happened to a half message, appended to `RMQ_SYS_TRANS_OP_HALF_TOPIC` queue 0.
 *
 * RocketMQ writes one kind of op record (`TransactionalMessageServiceImpl.deletePrepareMessage`): tag
 * `d` (`TransactionalMessageUtil.REMOVE_TAG`), body = the half's queue offset followed by `,`, meaning
 * "this half is done" whether it was committed or rolled back. Check counts live on copies of the half
 * that RocketMQ re-appends before each check (`putBackHalfMsgQueue`), body and all.
 *
 * Rocketnest keeps RocketMQ's body and `d` tag for finished halves and adds:
 * - which way it finished (COMMIT, ROLLBACK, or DISCARD after too many checks), so a repeated or
 *   contrary EndTransaction is answered from the log, after a restart too;
 * - CHECK records (tag `c`) carrying the check count, instead of re-appending the body;
 * - the transaction id as a message key, so the store's index finds a transaction's records
 *   (`queryByKey(RMQ_SYS_TRANS_OP_HALF_TOPIC, transactionId)`) long after it left memory.
 */
import { TRANS_OP_HALF_TOPIC } from '../limits.js';
import type { MessageToStore, StoredMessage } from '../../store/index.js';
import {
  integerProperty,
  PROPERTY_HALF_MESSAGE_ID,
  PROPERTY_HALF_OFFSET,
  PROPERTY_OP_AT,
  PROPERTY_OP_KIND,
  PROPERTY_OP_SOURCE,
  PROPERTY_TRANSACTION_CHECK_TIMES,
  PROPERTY_TRANSACTION_ID,
} from './transaction-properties.js';

/** `TransactionalMessageUtil.REMOVE_TAG`: the half is done. */
export const REMOVE_TAG = 'd';
/** Rocketnest: a check-back was sent. */
export const CHECK_TAG = 'c';
/** `TransactionalMessageUtil.OFFSET_SEPARATOR`. */
const OFFSET_SEPARATOR = ',';

/** How a half message ended. DISCARD: rolled back by the broker after the last unanswered check. */
export type FinishKind = 'COMMIT' | 'ROLLBACK' | 'DISCARD';
export type OpKind = FinishKind | 'CHECK';

/** Who finished a transaction. */
export type OpSource = 'CLIENT' | 'SERVER_CHECK' | 'BROKER' | 'RECOVERY';

const FINISH_KINDS: ReadonlySet<string> = new Set<FinishKind>(['COMMIT', 'ROLLBACK', 'DISCARD']);
const SOURCES: ReadonlySet<string> = new Set<OpSource>(['CLIENT', 'SERVER_CHECK', 'BROKER', 'RECOVERY']);

export function isFinishKind(kind: string): kind is FinishKind {
  return FINISH_KINDS.has(kind);
}

export interface OpRecord {
  readonly kind: OpKind;
  readonly transactionId: string;
  /** The half's message id (UNIQ_KEY). */
  readonly messageId: string;
  readonly halfQueueOffset: number;
  readonly halfPhysicalOffset: number;
  /** Broker clock. */
  readonly at: number;
  /** CHECK: checks sent so far, this one included. */
  readonly checks?: number;
  /** Finishing records: who finished it. */
  readonly source?: OpSource;
}

/** The record to append for `op`. */
export function opRecordMessage(op: OpRecord): MessageToStore {
  const systemProperties: Record<string, string> = {
    [PROPERTY_TRANSACTION_ID]: op.transactionId,
    [PROPERTY_OP_KIND]: op.kind,
    [PROPERTY_HALF_OFFSET]: String(op.halfPhysicalOffset),
    [PROPERTY_HALF_MESSAGE_ID]: op.messageId,
    [PROPERTY_OP_AT]: String(op.at),
  };
  if (op.checks !== undefined) systemProperties[PROPERTY_TRANSACTION_CHECK_TIMES] = String(op.checks);
  if (op.source !== undefined) systemProperties[PROPERTY_OP_SOURCE] = op.source;
  return {
    topic: TRANS_OP_HALF_TOPIC,
    queueId: 0,
    body: Buffer.from(`${op.halfQueueOffset}${OFFSET_SEPARATOR}`, 'utf8'),
    // Not the half's id: "query message by id" should find the message, not its bookkeeping.
    messageId: `${op.transactionId}:${op.kind}`,
    tag: op.kind === 'CHECK' ? CHECK_TAG : REMOVE_TAG,
    keys: [op.transactionId],
    systemProperties,
    bornTimestamp: op.at,
  };
}

/** Parses a record of the op topic; undefined if it is not one of ours (or damaged). */
export function parseOpRecord(message: StoredMessage): OpRecord | undefined {
  const p = message.systemProperties;
  const kind = p[PROPERTY_OP_KIND];
  const transactionId = p[PROPERTY_TRANSACTION_ID];
  const halfPhysicalOffset = integerProperty(p[PROPERTY_HALF_OFFSET]);
  const halfQueueOffset = integerProperty(message.body.toString('utf8').split(OFFSET_SEPARATOR)[0]);
  if (!kind || !transactionId || halfPhysicalOffset === undefined || halfQueueOffset === undefined) {
    return undefined;
  }
  const at = integerProperty(p[PROPERTY_OP_AT]) ?? message.bornTimestamp;
  const messageId = p[PROPERTY_HALF_MESSAGE_ID] ?? '';
  if (kind === 'CHECK') {
    const checks = integerProperty(p[PROPERTY_TRANSACTION_CHECK_TIMES]);
    if (checks === undefined) return undefined;
    return { kind, transactionId, messageId, halfQueueOffset, halfPhysicalOffset, at, checks };
  }
  if (!isFinishKind(kind)) return undefined;
  const sourceText = p[PROPERTY_OP_SOURCE];
  const source = sourceText !== undefined && SOURCES.has(sourceText) ? (sourceText as OpSource) : undefined;
  return { kind, transactionId, messageId, halfQueueOffset, halfPhysicalOffset, at, source };
}

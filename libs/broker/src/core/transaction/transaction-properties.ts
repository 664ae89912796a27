/**
 * System properties of transactional messages: on half messages (`RMQ_SYS_TRANS_HALF_TOPIC`), on op
 * records (`RMQ_SYS_TRANS_OP_HALF_TOPIC`), on committed messages and on check-max copies.
 *
 * RocketMQ's names (`MessageConst`, `TransactionalMessageUtil`) where RocketMQ has the same thing;
 * `__RN_TX_*` for what only Rocketnest records. Values are strings, as every property.
 */
// ---------------------------------------------------------------------------------------------
// RocketMQ names
// ---------------------------------------------------------------------------------------------

/** `MessageConst.PROPERTY_REAL_TOPIC`: the topic a half message is committed to. */
export const PROPERTY_REAL_TOPIC = 'REAL_TOPIC';
/** `MessageConst.PROPERTY_REAL_QUEUE_ID`: the queue a half message is committed to. */
export const PROPERTY_REAL_QUEUE_ID = 'REAL_QID';
/**
 * `MessageConst.PROPERTY_TRANSACTION_PREPARED` = "true" on a half message (the proxy's
 * `GrpcConverter` reports such a message as type TRANSACTION). Cleared on commit, as
 * `EndTransactionProcessor` does since 5.x.
 */
export const PROPERTY_TRANSACTION_PREPARED = 'TRAN_MSG';
/** `MessageConst.PROPERTY_PRODUCER_GROUP`: whom to ask in a check-back (the gRPC proxy puts the topic). */
export const PROPERTY_PRODUCER_GROUP = 'PGROUP';
/** `MessageConst.PROPERTY_TRANSACTION_ID` (= `TransactionalMessageUtil.TRANSACTION_ID`). */
export const PROPERTY_TRANSACTION_ID = '__transactionId__';
/**
 * `MessageConst.PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS`: the producer's orphaned-transaction recovery
 * duration, in whole seconds (`SendMessageActivity` stores `Durations.toSeconds(...)`).
 */
export const PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS = 'CHECK_IMMUNITY_TIME_IN_SECONDS';
/**
 * `MessageConst.PROPERTY_TRANSACTION_CHECK_TIMES`: how many check-backs were sent. RocketMQ keeps it
 * on re-appended copies of the half; here it is on CHECK op records, on the message handed to a
 * check-back (the attempt number) and on check-max copies.
 */
export const PROPERTY_TRANSACTION_CHECK_TIMES = 'TRANSACTION_CHECK_TIMES';

// ---------------------------------------------------------------------------------------------
// Rocketnest names
// ---------------------------------------------------------------------------------------------

/**
 * Broker clock (`Clock.now()`) when the half was prepared: check-backs count from it. RocketMQ uses
 * the producer's born timestamp; the broker's own clock is immune to client clock skew and is the
 * injected clock in tests (the store stamps records with the wall clock).
 */
export const PROPERTY_PREPARED_AT = '__RN_TX_PREPARED_AT';
/**
 * Op-queue length read just before the half was appended: every op record about this half lies at
 * or above it. Lets a restart start the op scan at the oldest pending half's floor.
 */
export const PROPERTY_OP_FLOOR = '__RN_TX_OP_FLOOR';
/** On op records: COMMIT, ROLLBACK, DISCARD or CHECK. */
export const PROPERTY_OP_KIND = '__RN_TX_OP';
/** On op records: commit-log offset of the half they are about. */
export const PROPERTY_HALF_OFFSET = '__RN_TX_HALF_OFFSET';
/** On op records: the half's message id (UNIQ_KEY), to check the (transaction id, message id) pair. */
export const PROPERTY_HALF_MESSAGE_ID = '__RN_TX_MESSAGE_ID';
/** On op records: broker clock when the operation happened. */
export const PROPERTY_OP_AT = '__RN_TX_AT';
/** On op records: who resolved it (CLIENT, SERVER_CHECK, BROKER for check-max, RECOVERY). */
export const PROPERTY_OP_SOURCE = '__RN_TX_SOURCE';

/** Properties that exist only while a message is half; a committed message drops them. */
export const HALF_ONLY_PROPERTIES: readonly string[] = Object.freeze([
  PROPERTY_REAL_TOPIC,
  PROPERTY_REAL_QUEUE_ID,
  PROPERTY_TRANSACTION_PREPARED,
  PROPERTY_PREPARED_AT,
  PROPERTY_OP_FLOOR,
]);

/** A non-negative safe integer from a property, or undefined. */
export function integerProperty(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{1,16}$/.test(value)) return undefined;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : undefined;
}

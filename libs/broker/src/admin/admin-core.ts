/**
 * What the admin API needs of the broker core: BrokerCore's admin methods, plus one read-only queue
 * browse that BrokerCore does not offer yet (listing dead letters must not consume them; the store
 * that could be read is private to the core). Until the core has `browseQueue`, the dead-letter list
 * answers 501 NOT_IMPLEMENTED and names the missing method; every other route works.
 */
import { type BrokerCore } from '../core/broker-core.js';
import { type StoredMessage } from '../store/index.js';

/** A page of a queue, read without consuming anything. */
export interface QueuePage {
  readonly messages: readonly StoredMessage[];
  /** Where the next page starts. */
  readonly nextOffset: number;
  /** Lowest retained offset of the queue. */
  readonly minOffset: number;
  /** Offset the next message stored in the queue will get. */
  readonly maxOffset: number;
}

export interface QueueBrowser {
  /**
   * Up to `maxCount` messages of `topic`/`queueId` from `fromOffset` (a lower offset starts at the
   * first retained one). Must accept `%DLQ%<group>` topics; an unknown queue is an empty page.
   */
  browseQueue(topic: string, queueId: number, fromOffset: number, maxCount: number): QueuePage;
}

export type AdminCore = Pick<
  BrokerCore,
  | 'closed'
  | 'epoch'
  | 'listTopics'
  | 'getTopic'
  | 'createTopic'
  | 'updateTopic'
  | 'deleteTopic'
  | 'listGroups'
  | 'getGroup'
  | 'createGroup'
  | 'updateGroup'
  | 'deleteGroup'
  | 'lag'
  | 'resetOffsets'
  | 'queryMessageById'
  | 'queryMessagesByKey'
  | 'resendFromDeadLetter'
  | 'inFlightCount'
  | 'pendingTimers'
  | 'pendingTransactions'
> &
  Partial<QueueBrowser>;

/**
 * What the admin API needs of the broker core: BrokerCore's admin methods only (never send or
 * receive), so that tests can put a stand-in in front of any of them.
 */
import { type BrokerCore } from '../core/broker-core.js';

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
  | 'browseQueue'
>;

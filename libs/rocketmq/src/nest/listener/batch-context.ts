/**
 * The context of a batch listener call: one `RocketMQContext` per message, in the order of the
 * payload array. `@Ctx()` in a batch listener, and `switchToRpc().getContext()` in its guards and
 * interceptors.
 */
import { BaseRpcContext } from '@nestjs/microservices';
import { type ReceivedMessageView } from '../../client/index.js';
import { type RocketMQContext } from '../context/rocketmq-context.js';

export class RocketMQBatchContext extends BaseRpcContext<[readonly RocketMQContext[]]> {
  constructor(contexts: readonly RocketMQContext[]) {
    super([Object.freeze([...contexts])]);
  }

  /** The context of each message. */
  getContexts(): readonly RocketMQContext[] {
    return this.args[0];
  }

  /** The messages as received. */
  getMessages(): readonly ReceivedMessageView[] {
    return this.args[0].map((c) => c.getMessage());
  }

  get size(): number {
    return this.args[0].length;
  }
}

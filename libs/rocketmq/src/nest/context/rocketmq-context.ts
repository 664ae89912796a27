/**
 * What a handler can learn about the message it is handling: `@Ctx() ctx: RocketMQContext` in a
 * `@MessagePattern` / `@EventPattern` handler, the second argument of a `@RocketListener` method,
 * and `context.switchToRpc().getContext()` in guards and interceptors (the idempotency interceptor
 * reads its default key from here).
 */
import { BaseRpcContext } from '@nestjs/microservices';
import type { ReceivedMessageView } from '../../client/index.js';

/** `[message, consumer group, pattern]`, in the order Nest's own contexts keep their arguments. */
export type RocketMQContextArgs = [ReceivedMessageView, string, string];

export class RocketMQContext extends BaseRpcContext<RocketMQContextArgs> {
  constructor(message: ReceivedMessageView, group: string, pattern: string) {
    super([message, group, pattern]);
  }

  /** The message as received (body as bytes, before deserialization). */
  getMessage(): ReceivedMessageView {
    return this.args[0];
  }

  /** The consumer group this delivery belongs to. */
  getGroup(): string {
    return this.args[1];
  }

  /** The pattern that routed it (`topic` or `topic:tag`). */
  getPattern(): string {
    return this.args[2];
  }

  getMessageId(): string {
    return this.args[0].messageId;
  }

  getTopic(): string {
    return this.args[0].topic;
  }

  getTag(): string | undefined {
    return this.args[0].tag;
  }

  getKeys(): readonly string[] {
    return this.args[0].keys;
  }

  getProperties(): Readonly<Record<string, string>> {
    return this.args[0].properties;
  }

  /** 1 on the first delivery, +1 per redelivery. */
  getDeliveryAttempt(): number {
    return this.args[0].deliveryAttempt;
  }

  /** FIFO messages: their message group. */
  getMessageGroup(): string | undefined {
    return this.args[0].messageGroup;
  }

  /** Epoch ms the producer created it. */
  getBornTimestamp(): number {
    return this.args[0].bornTimestamp;
  }
}

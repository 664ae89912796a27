/**
 * `@Orderly()` on a `@RocketListener` method: messages of one message group (`sendOrderly`'s hash
 * key) are handled one at a time, in the order they were sent; different groups run in parallel.
 * A failed message blocks its group while it is retried locally, then goes to the DLQ so that the
 * group moves on.
 *
 * FIFO is a property of the consumer group on the server. The module makes the group FIFO on the
 * embedded broker; on Apache RocketMQ 5 create the group with
 * `mqadmin updateSubGroup -g <group> -o true` (the dashboard's `consumeMessageOrderly`), or the
 * built-in broker's config (`"groups": [{ "name": "<group>", "fifo": true }]`). Not with
 * broadcasting.
 */
import { ROCKET_ORDERLY_METADATA } from './metadata-keys.js';

export function Orderly(): MethodDecorator {
  return (_target, _key, descriptor) => {
    if (typeof descriptor.value !== 'function') throw new TypeError('@Orderly goes on a method');
    Reflect.defineMetadata(ROCKET_ORDERLY_METADATA, true, descriptor.value);
  };
}

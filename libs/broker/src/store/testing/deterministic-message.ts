import { seededRandom } from '../../testing/seeded-random.js';
import { type MessageToStore } from '../message-record.js';

const { floor } = Math;

export const CRASH_TOPIC = 'crash-test';
export const CRASH_QUEUES = 4;

/** Message number `n`: body of 1 B–6 KiB of seeded bytes, a key, a tag and properties. */
export function deterministicMessage(n: number): MessageToStore {
  const random = seededRandom(n * 2654435761);
  const size = 1 + floor(random() * 6 * 1024);
  const body = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) body[i] = floor(random() * 256);
  return {
    topic: CRASH_TOPIC,
    queueId: n % CRASH_QUEUES,
    body,
    messageId: `MSG-${n}`,
    tag: n % 3 === 0 ? 'fizz' : 'plain',
    keys: [`key-${n}`],
    userProperties: { n: String(n) },
  };
}

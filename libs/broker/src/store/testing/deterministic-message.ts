import { type MessageToStore } from '../message-record.js';

// Module-scope copies: every global lookup (Math, Buffer) goes through the VM context's interceptor
// inside Jest and costs ~150 ns, which made generating test bodies take half a minute.
const { imul, floor } = Math;

/** mulberry32: a tiny seeded PRNG, so a test can regenerate any message's exact bytes from its number. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const CRASH_TOPIC = 'crash-test';
export const CRASH_QUEUES = 4;

/** Message number `n`: body of 1 B–6 KiB of seeded bytes, a key, a tag and properties. */
export function deterministicMessage(n: number): MessageToStore {
  const random = prng(n * 2654435761);
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

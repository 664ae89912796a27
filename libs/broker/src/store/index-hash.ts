/**
 * The key/id index's hash: FNV-1a over a key's UTF-16 code units, then murmur3's fmix32. The parts
 * are exported because the record encoder folds a message's id and keys into it while it copies
 * them (HashingUtf8Writer), instead of the dispatcher reading every string again; both paths must
 * give exactly `hashIndexKey` / `hashTopicKey` (message-record.spec.ts checks that they do).
 */
export const FNV_OFFSET = 0x811c9dc5;
export const FNV_PRIME = 0x01000193;
/** Separates topic and key in a key's index key (see indexKeyForKey in index-file.ts). */
export const TOPIC_KEY_SEPARATOR = 0x0001;

export function fnvUpdate(hash: number, text: string): number {
  let h = hash;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), FNV_PRIME);
  return h;
}

/** murmur3's fmix32: FNV's low bits mix poorly, and `hash % slotCount` depends on all of them. */
export function finishIndexHash(hash: number): number {
  let h = hash;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h | 0;
}

/**
 * 32-bit hash of an index key (signed, as stored): FNV-1a over UTF-16 code units, then fmix32.
 * Chosen over Java's `hashCode` (RocketMQ's choice) because its structured collisions ("Aa" = "BB")
 * let similar keys pile into one chain. Collisions still happen and are resolved by the caller.
 */
export function hashIndexKey(key: string): number {
  return finishIndexHash(fnvUpdate(FNV_OFFSET, key));
}

/** FNV state after a topic and the separator: where the hash of each of its keys starts. */
export function topicKeySeed(topic: string): number {
  return Math.imul(fnvUpdate(FNV_OFFSET, topic) ^ TOPIC_KEY_SEPARATOR, FNV_PRIME);
}

/** `hashIndexKey(indexKeyForKey(topic, key))` without building the string on the dispatch path. */
export function hashTopicKey(topic: string, key: string): number {
  return finishIndexHash(fnvUpdate(topicKeySeed(topic), key));
}

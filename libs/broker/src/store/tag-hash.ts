/**
 * The tag hash stored in every consume-queue entry. RocketMQ uses Java's `String.hashCode()` of the
 * tag (sign-extended to a long), so a filter can skip non-matching entries without reading the
 * commit log. We compute exactly the same value so that hashes mean the same thing on both sides.
 * No tag hashes to 0, as in RocketMQ.
 */
let lastTag = '';
let lastHash = 0;

export function tagHash(tag: string | undefined): number {
  if (tag === undefined || tag.length === 0) return 0;
  // Tags repeat from message to message: a one-entry memo saves the loop on the append path.
  if (tag === lastTag) return lastHash;
  let h = 0;
  for (let i = 0; i < tag.length; i++) h = (Math.imul(h, 31) + tag.charCodeAt(i)) | 0;
  lastTag = tag;
  lastHash = h;
  return h;
}

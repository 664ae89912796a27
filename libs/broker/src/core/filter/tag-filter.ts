import { tagHash } from '../../store/tag-hash.js';
import { type CompiledFilter, type FilterableMessage } from './types.js';

/** The expression that subscribes to every tag, tagged or not (`SubscriptionData.SUB_ALL`). */
export const SUBSCRIBE_ALL = '*';

/**
 * The tags of a TAG expression, or `undefined` for "all". Follows RocketMQ's
 * `FilterAPI.buildSubscriptionData`: an empty expression or `*` is all; otherwise the expression is
 * split on `||`, each piece trimmed and empty pieces dropped. Unlike RocketMQ, an expression that
 * leaves no tag at all (`' '`, `'||'`) also means all: RocketMQ would keep an empty code set there
 * and so match nothing. A `*` piece next to other tags is a literal tag, as in RocketMQ.
 */
export function parseTagExpression(expression: string): ReadonlySet<string> | undefined {
  if (expression.length === 0 || expression.trim() === SUBSCRIBE_ALL) return undefined;
  const tags = new Set<string>();
  for (const piece of expression.split('||')) {
    const tag = piece.trim();
    if (tag.length > 0) tags.add(tag);
  }
  return tags.size === 0 ? undefined : tags;
}

const matchAll = (): boolean => true;

/**
 * Compiles a TAG expression. Stage 1 tests the consume-queue tag hash against the hashes of the
 * subscribed tags (`SubscriptionData.codeSet`); stage 2 tests the real tag string, which rejects
 * the hash collisions that stage 1 lets through. A message without a tag matches only `*`.
 */
export function compileTagFilter(expression: string): CompiledFilter {
  const tags = parseTagExpression(expression);
  if (tags === undefined) {
    return Object.freeze({ type: 'TAG', expression, tagsCodeFilter: undefined, matches: matchAll });
  }
  let tagsCodeFilter: (tagsCode: number) => boolean;
  let matches: (message: FilterableMessage) => boolean;
  if (tags.size === 1) {
    const [only] = tags;
    const code = tagHash(only);
    tagsCodeFilter = (tagsCode) => tagsCode === code;
    matches = (message) => message.tag === only;
  } else {
    const codes = new Set<number>();
    for (const tag of tags) codes.add(tagHash(tag));
    tagsCodeFilter = (tagsCode) => codes.has(tagsCode);
    matches = (message) => message.tag !== undefined && tags.has(message.tag);
  }
  return Object.freeze({ type: 'TAG', expression, tagsCodeFilter, matches });
}

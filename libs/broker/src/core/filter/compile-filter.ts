import { IllegalFilterExpressionError } from './errors.js';
import { FILTER_LIMITS } from './limits.js';
import { compileSql92Filter } from './sql-filter.js';
import { compileTagFilter } from './tag-filter.js';
import { type CompiledFilter, type FilterExpression, type FilterType } from './types.js';

/**
 * Compiled filters by `type:expression`, least recently used first (a Map keeps insertion order).
 * Consumers poll with the same expression over and over; compiled filters are immutable, so one
 * can be shared by every caller. Only successes are cached: a failure costs one linear pass over
 * at most `maxExpressionBytes`.
 */
const cache = new Map<string, CompiledFilter>();

/**
 * Compiles a subscription filter, or returns the cached compilation of an identical one.
 * A TAG expression that is `undefined` / `null` / empty means all (as RocketMQ); an empty SQL92
 * expression is illegal (as RocketMQ's `FilterAPI.build`).
 *
 * @throws IllegalFilterExpressionError for an unknown type, an illegal expression, or one beyond
 *   `FILTER_LIMITS` (the only error this function throws).
 */
export function compileFilter(filter: FilterExpression): CompiledFilter {
  // The input comes off the wire: check the shape the types promise.
  const type: unknown = (filter as Partial<FilterExpression> | null | undefined)?.type;
  if (type !== 'TAG' && type !== 'SQL92') {
    throw new IllegalFilterExpressionError(undefined, `unknown filter type ${describeType(type)}`);
  }
  const raw: unknown = filter.expression;
  if (raw !== undefined && raw !== null && typeof raw !== 'string') {
    throw new IllegalFilterExpressionError(type, `expression must be a string, not ${typeof raw}`);
  }
  const expression = raw ?? '';
  checkLength(type, expression);

  const key = `${type}:${expression}`;
  const cached = cache.get(key);
  if (cached !== undefined) {
    cache.delete(key);
    cache.set(key, cached);
    return cached;
  }
  const compiled = type === 'TAG' ? compileTagFilter(expression) : compileSql92(expression);
  if (cache.size >= FILTER_LIMITS.cacheCapacity) {
    const oldest = cache.keys().next();
    if (oldest.done !== true) cache.delete(oldest.value);
  }
  cache.set(key, compiled);
  return compiled;
}

function compileSql92(expression: string): CompiledFilter {
  if (expression.trim().length === 0) {
    throw new IllegalFilterExpressionError('SQL92', 'expression is empty');
  }
  return compileSql92Filter(expression);
}

function checkLength(type: FilterType, expression: string): void {
  const limit = FILTER_LIMITS.maxExpressionBytes;
  // UTF-8 takes at least one byte per UTF-16 unit, so a long string is rejected without measuring.
  if (expression.length > limit || Buffer.byteLength(expression, 'utf8') > limit) {
    throw new IllegalFilterExpressionError(type, `expression is longer than ${limit} bytes`);
  }
}

function describeType(type: unknown): string {
  if (typeof type !== 'string') return String(type === null ? null : typeof type);
  return JSON.stringify(type.length > 16 ? `${type.slice(0, 16)}…` : type);
}

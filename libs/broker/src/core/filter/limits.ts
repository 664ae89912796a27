/**
 * Bounds on filter expressions, so that garbage or hostile input is rejected with a typed error
 * instead of costing memory, stack or time. RocketMQ itself has none of these bounds.
 */
export const FILTER_LIMITS = {
  /** Longest expression, TAG or SQL92, in UTF-8 bytes. */
  maxExpressionBytes: 4096,
  /** Deepest SQL92 nesting: parentheses, NOT / sign chains, and the depth of the resulting tree. */
  maxNestingDepth: 64,
  /** Most string literals in one SQL92 `IN (...)` list. */
  maxInListSize: 1000,
  /** Compiled filters kept by `compileFilter` (least recently used ones are dropped first). */
  cacheCapacity: 256,
} as const;

export { compileFilter } from './compile-filter.js';
export { IllegalFilterExpressionError } from './errors.js';
export { FILTER_LIMITS } from './limits.js';
export { parseTagExpression, SUBSCRIBE_ALL } from './tag-filter.js';
export type { CompiledFilter, FilterExpression, FilterableMessage, FilterType } from './types.js';

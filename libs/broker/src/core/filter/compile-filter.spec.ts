import { RocketError, StatusCode } from '../../status-code.js';
import {
  compileFilter,
  FILTER_LIMITS,
  IllegalFilterExpressionError,
  type FilterExpression,
} from './index.js';

describe('compileFilter', () => {
  it('compiles each type with its own language', () => {
    const tag = compileFilter({ type: 'TAG', expression: "a = 'x'" });
    expect(tag.type).toBe('TAG');
    expect(tag.matches({ tag: "a = 'x'", userProperties: {} })).toBe(true);
    const sql = compileFilter({ type: 'SQL92', expression: "a = 'x'" });
    expect(sql.type).toBe('SQL92');
    expect(sql.expression).toBe("a = 'x'");
    expect(sql.tagsCodeFilter).toBeUndefined();
    expect(sql.matches({ tag: undefined, userProperties: { a: 'x' } })).toBe(true);
    expect(Object.isFrozen(sql)).toBe(true);
  });

  it('returns the cached compilation of an identical filter', () => {
    const first = compileFilter({ type: 'SQL92', expression: 'cached = 1' });
    expect(compileFilter({ type: 'SQL92', expression: 'cached = 1' })).toBe(first);
    expect(compileFilter({ type: 'SQL92', expression: 'cached = 1 ' })).not.toBe(first);
    expect(compileFilter({ type: 'TAG', expression: 'cached = 1' })).not.toBe(first);
  });

  it('keeps at most cacheCapacity filters, dropping the least recently used', () => {
    const capacity = FILTER_LIMITS.cacheCapacity;
    const keep = compileFilter({ type: 'TAG', expression: 'keep' });
    const drop = compileFilter({ type: 'TAG', expression: 'drop' });
    for (let i = 0; i < capacity - 1; i++) {
      compileFilter({ type: 'TAG', expression: `filler-${i}` });
      compileFilter({ type: 'TAG', expression: 'keep' }); // touched: stays recent
    }
    expect(compileFilter({ type: 'TAG', expression: 'keep' })).toBe(keep);
    const again = compileFilter({ type: 'TAG', expression: 'drop' });
    expect(again).not.toBe(drop);
    expect(again).toMatchObject({ type: 'TAG', expression: 'drop' });
  });

  it('does not cache failures, and throws the same way every time', () => {
    for (let i = 0; i < 3; i++) {
      expect(() => compileFilter({ type: 'SQL92', expression: 'a =' })).toThrow(IllegalFilterExpressionError);
    }
  });

  it.each<[string, unknown]>([
    ['an unknown type', { type: 'CLASS', expression: '*' }],
    ['a lower-case type', { type: 'tag', expression: '*' }],
    ['a numeric type', { type: 1, expression: '*' }],
    ['no type', { expression: '*' }],
    ['a null filter', null],
    ['an undefined filter', undefined],
    ['a non-string expression', { type: 'TAG', expression: 42 }],
    ['a non-string SQL expression', { type: 'SQL92', expression: { toString: () => 'a = 1' } }],
    ['a null SQL expression', { type: 'SQL92', expression: null }],
    [
      'a too long TAG expression',
      { type: 'TAG', expression: 'T'.repeat(FILTER_LIMITS.maxExpressionBytes + 1) },
    ],
  ])('rejects %s with ILLEGAL_FILTER_EXPRESSION', (_name, filter) => {
    let thrown: unknown;
    try {
      compileFilter(filter as FilterExpression);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(IllegalFilterExpressionError);
    expect(thrown).toBeInstanceOf(RocketError);
    expect((thrown as RocketError).code).toBe(StatusCode.ILLEGAL_FILTER_EXPRESSION);
    expect((thrown as Error).message.length).toBeLessThan(200);
  });

  it('accepts a TAG expression of exactly the limit', () => {
    const expression = 'T'.repeat(FILTER_LIMITS.maxExpressionBytes);
    expect(compileFilter({ type: 'TAG', expression }).matches({ tag: expression, userProperties: {} })).toBe(
      true,
    );
  });
});

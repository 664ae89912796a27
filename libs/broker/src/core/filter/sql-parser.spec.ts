import { StatusCode } from '../../status-code.js';
import { compileFilter } from './compile-filter.js';
import { IllegalFilterExpressionError } from './errors.js';
import { FILTER_LIMITS } from './limits.js';
import { type SqlNode } from './sql-ast.js';
import { parseSql92 } from './sql-parser.js';

/** A compact rendering of the tree, to check how the grammar groups things. */
function show(node: SqlNode): string {
  switch (node.kind) {
    case 'literal':
      return typeof node.value === 'string' ? `'${node.value}'` : String(node.value);
    case 'property':
      return node.name;
    case 'not':
      return `(NOT ${show(node.operand)})`;
    case 'logic':
      return `(${node.operands.map(show).join(` ${node.op} `)})`;
    case 'compare':
      return `(${show(node.left)} ${node.op} ${show(node.right)})`;
    case 'between':
      return `(${show(node.value)} ${node.negated ? 'NOT ' : ''}BETWEEN ${show(node.low)} AND ${show(node.high)})`;
    case 'in':
      return `(${node.property} ${node.negated ? 'NOT ' : ''}IN ${node.values.join(',')})`;
    case 'isNull':
      return `(${show(node.operand)} IS ${node.negated ? 'NOT ' : ''}NULL)`;
    case 'stringMatch':
      return `(${show(node.operand)} ${node.negated ? 'NOT ' : ''}${node.op} '${node.search}')`;
  }
}

function rejects(expression: string): IllegalFilterExpressionError {
  try {
    compileFilter({ type: 'SQL92', expression });
  } catch (error) {
    expect(error).toBeInstanceOf(IllegalFilterExpressionError);
    const illegal = error as IllegalFilterExpressionError;
    expect(illegal.code).toBe(StatusCode.ILLEGAL_FILTER_EXPRESSION);
    expect(illegal.name).toBe('IllegalFilterExpressionError');
    expect(illegal.filterType).toBe('SQL92');
    return illegal;
  }
  throw new Error(`expected ${JSON.stringify(expression)} to be rejected`);
}

describe('SQL92 parser', () => {
  it.each<[string, string]>([
    ['a = 1 OR b = 2 AND c = 3', '((a = 1) OR ((b = 2) AND (c = 3)))'],
    ['a = 1 AND b = 2 OR c = 3', '(((a = 1) AND (b = 2)) OR (c = 3))'],
    ['a = 1 AND b = 2 AND c = 3', '((a = 1) AND (b = 2) AND (c = 3))'],
    ['(a = 1 AND b = 2) AND c = 3', '((a = 1) AND (b = 2) AND (c = 3))'],
    ['a = 1 OR (b = 2 OR c = 3)', '((a = 1) OR (b = 2) OR (c = 3))'],
    ['(a = 1 OR b = 2) AND c = 3', '(((a = 1) OR (b = 2)) AND (c = 3))'],
    ['NOT (a = 1) = TRUE', '((NOT (a = 1)) = true)'],
    ['a = 1 > 2', '(a = (1 > 2))'],
    ["a = 'x' IS NOT NULL", "((a = 'x') IS NOT NULL)"],
    ['a BETWEEN 1 AND 2 AND b = 1', '((a BETWEEN 1 AND 2) AND (b = 1))'],
    ['a NOT BETWEEN -2 AND +2', '(a NOT BETWEEN -2 AND 2)'],
    ["a NOT IN ('x', 'y''z')", "(a NOT IN x,y'z)"],
    ["a NOT CONTAINS 'x'", "(a NOT CONTAINS 'x')"],
    ['a <> b', '(a <> b)'],
    ['a>=1', '(a >= 1)'],
    ['a=-1', '(a = -1)'],
    ['((((a = 1))))', '(a = 1)'],
    ['NOT NOT TRUE', '(NOT (NOT true))'],
    ['a IS NULL', '(a IS NULL)'],
  ])('%s parses as %s', (expression, expected) => {
    expect(show(parseSql92(expression))).toBe(expected);
  });

  describe('bad expressions', () => {
    it.each<[string, string, RegExp, number | undefined]>([
      // [description, expression, message, 1-based position]
      ['empty', '', /empty/, undefined],
      ['blank', '  \n ', /empty/, undefined],
      ['unterminated string', "a = 'abc", /unterminated string literal/, 5],
      ['unterminated string after an escaped quote', "a = 'it''s", /unterminated string/, 5],
      ['unterminated comment', 'a = 1 /* x', /unterminated comment/, 7],
      ['dangling operator', 'a =', /unexpected end of expression/, 4],
      ['dangling AND', "a = 'x' AND", /unexpected end of expression/, 12],
      ['dangling OR', "a = 'x' OR ", /unexpected end of expression/, 12],
      ['leading operator', "= 'x'", /unexpected '='/, 1],
      ['double operator', 'a = = 1', /unexpected '='/, 5],
      ['missing AND', "a = 'x' b = 'y'", /unexpected 'b' after a complete expression/, 9],
      ['trailing token', 'a = 1 1', /unexpected '1' after a complete expression/, 7],
      ['unbalanced )', 'a = 1)', /unbalanced '\)'/, 6],
      ['unclosed (', '(a = 1', /expected '\)' to close the '\(' at position 1, found end of expression/, 7],
      ['empty parentheses', '()', /unexpected '\)'/, 2],
      ['empty IN', 'a IN ()', /IN takes a string literal, found '\)'/, 7],
      ['IN without parentheses', "a IN 'x'", /expected '\(' after IN/, 6],
      ['IN with numbers', 'a IN (1, 2)', /IN takes a string literal, found '1'/, 7],
      ['IN with a trailing comma', "a IN ('x',)", /IN takes a string literal/, 11],
      ['unclosed IN', "a NOT IN ('x'", /expected '\)' to close the NOT IN list/, 14],
      ['IN on a literal', "'a' IN ('a')", /IN needs a property on its left/, 5],
      ['CONTAINS with an identifier', 'a CONTAINS x', /CONTAINS takes a string literal, found 'x'/, 12],
      ['CONTAINS with a number', 'a NOT CONTAINS 123', /NOT CONTAINS takes a string literal/, 16],
      [
        'CONTAINS with nothing',
        "'axb' CONTAINS ",
        /CONTAINS takes a string literal, found end of expression/,
        16,
      ],
      [
        'BETWEEN without AND',
        'a BETWEEN 1 OR 2',
        /expected AND between the bounds of BETWEEN, found 'OR'/,
        13,
      ],
      ['BETWEEN bounds reversed', 'a BETWEEN 10 AND 2', /lower bound 10 exceeds upper bound 2/, 11],
      ['BETWEEN with strings', "a BETWEEN 'a' AND 'z'", /compares numbers, not a string/, 11],
      ['unknown token !', 'a != 1', /unexpected character '!'; use '<>' for not-equal/, 3],
      ['unknown token "', 'a = "x"', /unexpected character '"'; strings take single quotes/, 5],
      ['unknown token ;', 'a = 1;', /unexpected character ';'/, 6],
      ['unknown token *', 'a * 2 > 1', /unexpected character '\*'/, 3],
      ['dotted property', "a.b = 'x'", /unexpected character '\.'; property names may not contain dots/, 2],
      ['non-ASCII property', "prix€ = 'x'", /unexpected character '€'/, 5],
      ['control character', 'a = 1\u0000', /unexpected character U\+0000/, 6],
      ['vertical tab', 'a =\u000b1', /U\+000B/, 4],
      ['LIKE is not RocketMQ', "a LIKE 'x%'", /unexpected 'LIKE'/, 3],
      ['== is not SQL', 'a == 1', /unexpected '='/, 4],
      ['leading zero', 'a = 007', /leading zero/, 5],
      ['integer beyond a long', 'a > 9223372036854775808', /out of the 64-bit range/, 5],
      ['huge integer', `a > ${'9'.repeat(400)}`, /out of the 64-bit range/, 5],
      ['decimal beyond a double', 'a > 1e400', /out of range/, 5],
      ['= NULL', 'a = NULL', /use IS NULL/, 5],
      ['NULL <>', 'NULL <> a', /use IS NULL/, 1],
      ['IS without NULL', 'a IS 1', /expected NULL after IS, found '1'/, 6],
      ['IS NOT without NULL', 'a IS NOT TRUE', /expected NULL after IS NOT, found 'TRUE'/, 10],
      ['< on a string', "a < 'b'", /compares numbers, not a string/, 5],
      ['< on a boolean', 'a > TRUE', /compares numbers, not a boolean/, 5],
      ['< on NULL', 'a > NULL', /compares numbers, not a NULL/, 5],
      ['< on a condition', '(a = 1) > 2', /compares numbers, not a condition/, 2],
      ['chained <', 'a < 1 < 2', /compares numbers, not a condition/, 1],
      ['boolean = number', 'TRUE = 1', /cannot be compared/, 1],
      ['number = boolean', "'x' = FALSE", /cannot be compared/, 1],
      ['bare property', 'a', /property 'a' used as a condition/, 1],
      ['property in AND', "a AND b = 'x'", /property 'a' used as a condition/, 1],
      ['property in OR', "b = 'x' OR a", /property 'a' used as a condition/, 12],
      ['NOT on a property', "NOT a = 'x'", /NOT binds tighter than comparisons: write NOT \(a = \.\.\.\)/, 5],
      ['NOT on a string', "NOT 'x'", /a string is not a condition after NOT/, 5],
      ['bare number', '1', /a number is not a condition/, 1],
      ['bare string', "'x'", /a string is not a condition/, 1],
      ['number in AND', "1 AND a = 'x'", /a number is not a condition/, 1],
      ['minus on a property', 'a > -b', /unary '-' applies to numbers only/, 5],
      ['minus on a string', "a = -'x'", /unary '-' applies to numbers only/, 5],
      ['keyword as property', "in = 'x'", /unexpected 'in'/, 1],
      ['lonely keyword', 'AND', /unexpected 'AND'/, 1],
      ['comma', 'a = 1, b = 2', /unexpected ','/, 6],
    ])('%s', (_description, expression, message, position) => {
      const error = rejects(expression);
      expect(error.message).toMatch(message);
      expect(error.position === undefined ? undefined : error.position + 1).toBe(position);
      if (position !== undefined) expect(error.message).toContain(`(at position ${position})`);
    });

    it('rejects nesting deeper than the limit, by parentheses, NOT or signs', () => {
      const depth = FILTER_LIMITS.maxNestingDepth;
      expect(() =>
        compileFilter({ type: 'SQL92', expression: `${'('.repeat(depth)}a = 1${')'.repeat(depth)}` }),
      ).not.toThrow();
      expect(rejects(`${'('.repeat(depth + 1)}a = 1${')'.repeat(depth + 1)}`).message).toMatch(
        /nested deeper than 64/,
      );
      expect(rejects(`${'('.repeat(2000)}`).message).toMatch(/nested deeper/);
      expect(rejects(`${'NOT '.repeat(depth + 1)}TRUE`).message).toMatch(/nested deeper/);
      expect(rejects(`a = ${'- '.repeat(depth + 1)}1`).message).toMatch(/nested deeper/);
      expect(rejects(`a = 1${' = TRUE'.repeat(depth)}`).message).toMatch(/nested deeper/);
    });

    it('rejects expressions longer than 4 KiB (in UTF-8 bytes)', () => {
      const limit = FILTER_LIMITS.maxExpressionBytes;
      const fits = `a = '${'x'.repeat(limit - 6)}'`;
      expect(Buffer.byteLength(fits)).toBe(limit);
      expect(() => compileFilter({ type: 'SQL92', expression: fits })).not.toThrow();
      expect(rejects(`a = '${'x'.repeat(limit - 5)}'`).message).toMatch(/longer than 4096 bytes/);
      expect(rejects(`a = '${'é'.repeat(limit / 2)}'`).message).toMatch(/longer than 4096 bytes/);
      expect(rejects(`a = '${'x'.repeat(10_000_000)}'`).message).toMatch(/longer than 4096 bytes/);
    });

    it('rejects an IN list of more than 1000 values', () => {
      const values = Array.from({ length: FILTER_LIMITS.maxInListSize + 1 }, () => "''").join(',');
      expect(rejects(`a IN (${values})`).message).toMatch(/IN list has more than 1000 values/);
    });

    it('shows long or odd tokens bounded and escaped', () => {
      const error = rejects(`a = 1 ${'b'.repeat(100)}`);
      expect(error.message).toContain(`'${'b'.repeat(32)}…'`);
      expect(error.message.length).toBeLessThan(200);
    });
  });
});

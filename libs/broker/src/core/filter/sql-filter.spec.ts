import { compileFilter } from './compile-filter.js';
import { propertyToNumber } from './sql-filter.js';

type Props = Record<string, string>;

function sql(expression: string, userProperties: Props = {}, tag?: string): boolean {
  const filter = compileFilter({ type: 'SQL92', expression });
  expect(filter.tagsCodeFilter).toBeUndefined();
  return filter.matches({ tag, userProperties });
}

describe('SQL92 filter', () => {
  describe('comparison operators', () => {
    it.each<[string, Props, boolean]>([
      ["a = 'x'", { a: 'x' }, true],
      ["a = 'x'", { a: 'X' }, false],
      ["a = 'x'", { a: 'x ' }, false],
      ["'x' = a", { a: 'x' }, true],
      ["a <> 'x'", { a: 'y' }, true],
      ["a <> 'x'", { a: 'x' }, false],
      ['a = 3', { a: '3' }, true],
      ['a = 3', { a: '03' }, true],
      ['a = 3', { a: '3.0' }, true],
      ['a = 3', { a: '4' }, false],
      ['a <> 3', { a: '4' }, true],
      ['a > 3', { a: '4' }, true],
      ['a > 3', { a: '3' }, false],
      ['a >= 3', { a: '3' }, true],
      ['a >= 3', { a: '2.999' }, false],
      ['a < 3', { a: '2' }, true],
      ['a < 3', { a: '3' }, false],
      ['a <= 3', { a: '3' }, true],
      ['a <= 3', { a: '3.5' }, false],
      ['3 < a', { a: '4' }, true],
      ['3 >= a', { a: '4' }, false],
      ['a > b', { a: '10', b: '9' }, true],
      ['a > b', { a: '9', b: '10' }, false],
      ['a = b', { a: 'x', b: 'x' }, true],
      ['a = b', { a: '3.14', b: '3.14' }, true],
      ['a <> b', { a: '3.14', b: '3.141' }, true],
      ['1 = 1', {}, true],
      ['1 < 2', {}, true],
      ["'a' = 'a'", {}, true],
    ])('%s with %j → %s', (expression, props, expected) => {
      expect(sql(expression, props)).toBe(expected);
    });

    it('compares numerically, not as strings, against number literals', () => {
      expect(sql('a > 9', { a: '10' })).toBe(true);
      expect(sql("a > '9'".replace("'9'", '9'), { a: '10' })).toBe(true);
      expect(sql("a = '10'", { a: '10.0' })).toBe(false);
      expect(sql('a = 10', { a: '10.0' })).toBe(true);
    });

    it('handles decimals, exponents, negatives and the L suffix', () => {
      expect(sql('a > 3.14', { a: '3.1415' })).toBe(true);
      expect(sql('a > 3.1E10', { a: '3.1415E10' })).toBe(true);
      expect(sql('a < .5', { a: '0.25' })).toBe(true);
      expect(sql('a = 5.', { a: '5' })).toBe(true);
      expect(sql('a > -1', { a: '0' })).toBe(true);
      expect(sql('a < -1.5', { a: '-2' })).toBe(true);
      expect(sql('a = - - 2', { a: '2' })).toBe(true);
      expect(sql('a = +2', { a: '2' })).toBe(true);
      expect(sql('a = -(2)', { a: '-2' })).toBe(true);
      expect(sql('a = 10L', { a: '10' })).toBe(true);
      expect(sql('a = 9223372036854775807', { a: '9223372036854775807' })).toBe(true);
      expect(sql('a < 1e-3', { a: '0.0001' })).toBe(true);
      expect(sql('a > 0.0', { a: '1' })).toBe(true);
    });

    it('reads property numbers strictly', () => {
      for (const ok of ['1', '-1', '+1', '1.5', '.5', '5.', '1e3', '1E+3', '1e-3', '007']) {
        expect(propertyToNumber(ok)).toBe(Number(ok));
      }
      for (const bad of [
        '',
        ' 1',
        '1 ',
        'abc',
        '1,5',
        '0x10',
        'NaN',
        'Infinity',
        '1e',
        '1d',
        '--1',
        '.',
        '1_000',
      ]) {
        expect(propertyToNumber(bad)).toBeUndefined();
      }
    });
  });

  describe('values that are not numbers (RocketMQ throws, so the message does not match)', () => {
    it.each(['a = 1', 'a <> 1', 'a > 1', 'a <= 1', 'a BETWEEN 0 AND 2', 'a NOT BETWEEN 0 AND 2'])(
      '%s does not match a = abc, nor does its negation',
      (expression) => {
        expect(sql(expression, { a: 'abc' })).toBe(false);
        expect(sql(`NOT (${expression})`, { a: 'abc' })).toBe(false);
      },
    );

    it('aborts the whole expression in evaluation order, as the Java exception does', () => {
      expect(sql("a > 1 OR b = 'x'", { a: 'abc', b: 'x' })).toBe(false);
      // Short circuits come first: the bad comparison is never evaluated.
      expect(sql("b = 'x' OR a > 1", { a: 'abc', b: 'x' })).toBe(true);
      expect(sql("b = 'y' AND a > 1", { a: 'abc', b: 'x' })).toBe(false);
      expect(sql("NOT (b = 'y' AND a > 1)", { a: 'abc', b: 'x' })).toBe(true);
      // A missing operand is NULL before any conversion is tried.
      expect(sql('NOT (a > b)', { a: 'abc' })).toBe(false);
      expect(sql('(a > b) IS NULL', { a: 'abc' })).toBe(true);
      expect(sql('(a > 1) IS NULL', { a: 'abc' })).toBe(false);
      expect(sql('(a > 1) IS NOT NULL', { a: 'abc' })).toBe(false);
    });

    it('reads a string literal as a number against a number', () => {
      expect(sql("'1' = 1")).toBe(true);
      expect(sql("'x' = 1")).toBe(false);
      expect(sql("NOT ('x' = 1)")).toBe(false);
    });
  });

  describe('booleans', () => {
    it('matches TRUE when the property is "true" ignoring case (Boolean.valueOf)', () => {
      expect(sql('a = TRUE', { a: 'true' })).toBe(true);
      expect(sql('a = TRUE', { a: 'TRUE' })).toBe(true);
      expect(sql('a = TRUE', { a: 'True' })).toBe(true);
      expect(sql('a = TRUE', { a: 'yes' })).toBe(false);
      expect(sql('a = TRUE', { a: '1' })).toBe(false);
      expect(sql('a <> TRUE', { a: 'false' })).toBe(true);
    });

    it('matches FALSE for any other value, as RocketMQ does', () => {
      expect(sql('a = FALSE', { a: 'false' })).toBe(true);
      expect(sql('a = FALSE', { a: 'no' })).toBe(true);
      expect(sql('a = FALSE', { a: 'true' })).toBe(false);
      expect(sql('FALSE = a', { a: 'x' })).toBe(true);
    });

    it('evaluates boolean literals and compares conditions with them', () => {
      expect(sql('TRUE')).toBe(true);
      expect(sql('FALSE')).toBe(false);
      expect(sql('NULL')).toBe(false);
      expect(sql('NOT FALSE')).toBe(true);
      expect(sql('TRUE = TRUE')).toBe(true);
      expect(sql('(a = 1) = TRUE', { a: '1' })).toBe(true);
      expect(sql('(a = 1) = FALSE', { a: '2' })).toBe(true);
      expect(sql('(a = 1) = (b = 2)', { a: '1', b: '2' })).toBe(true);
      expect(sql('(a = 1) = 1', { a: '1' })).toBe(false);
      expect(sql("(a = 1) = 'true'", { a: '1' })).toBe(true);
    });
  });

  describe('logic and precedence', () => {
    it('binds AND tighter than OR', () => {
      // a = 1 OR (b = 1 AND c = 1)
      expect(sql('a = 1 OR b = 1 AND c = 1', { a: '1', b: '0', c: '0' })).toBe(true);
      expect(sql('a = 1 OR b = 1 AND c = 1', { a: '0', b: '1', c: '0' })).toBe(false);
      // (a = 1 AND b = 1) OR c = 1
      expect(sql('a = 1 AND b = 1 OR c = 1', { a: '0', b: '0', c: '1' })).toBe(true);
      expect(sql('(a = 1 OR b = 1) AND c = 1', { a: '1', b: '0', c: '0' })).toBe(false);
    });

    it('binds BETWEEN ... AND tighter than the logical AND', () => {
      expect(sql('a BETWEEN 1 AND 5 AND b = 2', { a: '3', b: '2' })).toBe(true);
      expect(sql('a BETWEEN 1 AND 5 AND b = 2', { a: '3', b: '3' })).toBe(false);
    });

    it('applies NOT to its operand only', () => {
      expect(sql("NOT (a = 'x')", { a: 'y' })).toBe(true);
      expect(sql("NOT (a = 'x')", { a: 'x' })).toBe(false);
      expect(sql("NOT (a = 'x') AND b = 'y'", { a: 'z', b: 'y' })).toBe(true);
      expect(sql("NOT (a = 'x' OR b = 'y')", { a: 'z', b: 'y' })).toBe(false);
      expect(sql('NOT NOT (a = 1)', { a: '1' })).toBe(true);
      expect(sql('NOT TRUE = FALSE')).toBe(true); // (NOT TRUE) = FALSE
    });

    it('binds = looser than < (RocketMQ grammar)', () => {
      expect(sql('a = 1 > 2', { a: 'false' })).toBe(true); // a = (1 > 2)
      expect(sql("a = 'x' IS NULL")).toBe(true); // (a = 'x') IS NULL
    });

    it('follows three-valued logic for AND / OR / NOT with NULL', () => {
      expect(sql('a = 1 AND FALSE')).toBe(false);
      expect(sql('NOT (a = 1 AND FALSE)')).toBe(true); // NULL AND FALSE = FALSE
      expect(sql('a = 1 AND TRUE')).toBe(false);
      expect(sql('NOT (a = 1 AND TRUE)')).toBe(false); // NULL
      expect(sql('a = 1 OR TRUE')).toBe(true); // NULL OR TRUE = TRUE
      expect(sql('NOT (a = 1 OR FALSE)')).toBe(false); // NULL
      expect(sql('(a = 1 OR FALSE) IS NULL')).toBe(true);
      expect(sql('TRUE AND TRUE AND TRUE OR FALSE')).toBe(true);
    });

    it('accepts keywords in any case', () => {
      expect(sql("a = 'x' and b between 1 And 3 oR c iS nOt NuLl", { a: 'x', b: '2' })).toBe(true);
      expect(sql("a not in ('1') AND b Is Null And c contains 'q' and NOT false", { a: '2', c: 'aqa' })).toBe(
        true,
      );
      expect(sql('a = true', { a: 'TRUE' })).toBe(true);
    });

    it('keeps property names case-sensitive', () => {
      expect(sql("a = 'x'", { A: 'x' })).toBe(false);
      expect(sql("A = 'x'", { A: 'x' })).toBe(true);
    });

    it('skips comments and blanks', () => {
      expect(sql("/* who */ a = 'x' -- trailing\n AND\tb = 1\r\n", { a: 'x', b: '1' })).toBe(true);
      expect(sql("a = 'x' -- at the end", { a: 'x' })).toBe(true);
      expect(sql('a > --1\n 0', { a: '1' })).toBe(true);
    });
  });

  describe('missing properties (NULL)', () => {
    it.each([
      "a = 'x'",
      "a <> 'x'",
      "'x' = a",
      "'x' <> a",
      'a > 1',
      'NOT (a > 1)',
      'a = TRUE',
      'a = FALSE',
      'a BETWEEN 1 AND 2',
      'a NOT BETWEEN 1 AND 2',
      "a IN ('x')",
      "a NOT IN ('x')",
      "NOT (a IN ('x'))",
      'a = b',
      'a <> b',
      'a > b',
    ])('%s does not match', (expression) => {
      expect(sql(expression, { b: '1' })).toBe(false);
      expect(sql(expression, {})).toBe(false);
    });

    it('IS NULL / IS NOT NULL see them', () => {
      expect(sql('a IS NULL')).toBe(true);
      expect(sql('a IS NULL', { a: '' })).toBe(false);
      expect(sql('a IS NOT NULL', { a: '' })).toBe(true);
      expect(sql('a IS NOT NULL')).toBe(false);
      expect(sql("a IS NULL OR a = 'hello'", { a: 'hello' })).toBe(true);
      expect(sql("a IS NOT NULL AND a = 'hello'", { a: 'hello' })).toBe(true);
      expect(sql('NULL IS NULL')).toBe(true);
    });

    it('treats an empty string as a value, not NULL', () => {
      expect(sql("a = ''", { a: '' })).toBe(true);
      expect(sql('a = 0', { a: '' })).toBe(false);
    });
  });

  describe('BETWEEN', () => {
    it.each<[string, string, boolean]>([
      ['a BETWEEN 2 AND 10', '2', true],
      ['a BETWEEN 2 AND 10', '10', true],
      ['a BETWEEN 2 AND 10', '6.5', true],
      ['a BETWEEN 2 AND 10', '1.99', false],
      ['a BETWEEN 2 AND 10', '11', false],
      ['a BETWEEN -10 AND -2', '-5', true],
      ['a BETWEEN 2 AND 2', '2', true],
      ['a NOT BETWEEN 2 AND 10', '1', true],
      ['a NOT BETWEEN 2 AND 10', '11', true],
      ['a NOT BETWEEN 2 AND 10', '5', false],
      ['a NOT BETWEEN 2 AND 10', '2', false],
    ])('%s with a = %s → %s', (expression, a, expected) => {
      expect(sql(expression, { a })).toBe(expected);
    });

    it('takes properties as bounds', () => {
      expect(sql('a BETWEEN lo AND hi', { a: '5', lo: '1', hi: '9' })).toBe(true);
      expect(sql('a BETWEEN lo AND hi', { a: '5', lo: '6', hi: '9' })).toBe(false);
      expect(sql('a NOT BETWEEN lo AND hi', { a: '5', lo: '6', hi: '9' })).toBe(true);
      expect(sql('a BETWEEN lo AND hi', { a: '5', lo: '1' })).toBe(false);
      expect(sql('a BETWEEN lo AND hi', { a: '5', lo: 'x', hi: '9' })).toBe(false);
      expect(sql('5 BETWEEN lo AND 9', { lo: '1' })).toBe(true);
    });
  });

  describe('IN', () => {
    it('tests string membership', () => {
      expect(sql("a IN ('3', '4', '5')", { a: '4' })).toBe(true);
      expect(sql("a IN ('3', '4', '5')", { a: '6' })).toBe(false);
      expect(sql("a IN ('3', '4', '5')", { a: '4.0' })).toBe(false);
      expect(sql("a NOT IN ('3', '4', '5')", { a: '6' })).toBe(true);
      expect(sql("a NOT IN ('3', '4', '5')", { a: '3' })).toBe(false);
      expect(sql("a IN ('x')", { a: 'x' })).toBe(true);
      expect(sql("a IN ('4', '4', '5')", { a: '4' })).toBe(true);
      expect(sql("(a) IN ('x')", { a: 'x' })).toBe(true);
    });

    it('accepts a list of 1000 values', () => {
      const values = [...Array.from({ length: 999 }, () => "'x'"), "'y'"].join(',');
      expect(sql(`a IN (${values})`, { a: 'y' })).toBe(true);
      expect(sql(`a IN (${values})`, { a: 'z' })).toBe(false);
    });
  });

  describe('CONTAINS / STARTSWITH / ENDSWITH', () => {
    it.each<[string, Props, boolean]>([
      ["value CONTAINS 'x'", { value: 'axb' }, true],
      ["value STARTSWITH 'ax'", { value: 'axb' }, true],
      ["value ENDSWITH 'xb'", { value: 'axb' }, true],
      ["value CONTAINS 'x'", { value: 'abb' }, false],
      ["value STARTSWITH 'x'", { value: 'abb' }, false],
      ["value ENDSWITH 'x'", { value: 'abb' }, false],
      ["value NOT CONTAINS 'x'", { value: 'axb' }, false],
      ["value NOT STARTSWITH 'ax'", { value: 'axb' }, false],
      ["value NOT ENDSWITH 'xb'", { value: 'axb' }, false],
      ["value NOT CONTAINS 'x'", { value: 'abb' }, true],
      ["value NOT STARTSWITH 'x'", { value: 'abb' }, true],
      ["value NOT ENDSWITH 'x'", { value: 'abb' }, true],
      ["value CONTAINS 'X'", { value: 'axb' }, false],
      ["'axb' CONTAINS 'x'", {}, true],
      ["' ' STARTSWITH ' '", {}, true],
      ["'axb' CONTAINS '.'", {}, false],
      ["value CONTAINS ''''", { value: "it's" }, true],
    ])('%s with %j → %s', (expression, props, expected) => {
      expect(sql(expression, props)).toBe(expected);
    });

    it('is FALSE for an empty search or a missing property, negated or not (RocketMQ)', () => {
      for (const op of ['CONTAINS', 'STARTSWITH', 'ENDSWITH']) {
        expect(sql(`value ${op} ''`, { value: 'axb' })).toBe(false);
        expect(sql(`value NOT ${op} ''`, { value: 'axb' })).toBe(false);
        expect(sql(`value ${op} 'x'`)).toBe(false);
        expect(sql(`value NOT ${op} 'x'`)).toBe(false);
        // FALSE, not NULL: so its NOT is TRUE.
        expect(sql(`NOT (value ${op} 'x')`)).toBe(true);
      }
    });

    it('combines as in the RocketMQ test suite', () => {
      const props = { a: '3', b: '3', c: 'axbdc' };
      expect(sql("a not in ('4', '4', '5') and b between 3 and 10 and c not contains 'axbc'", props)).toBe(
        true,
      );
      expect(sql("a not in ('4', '4', '5') and b between 3 and 10 and c not startswith 'axbc'", props)).toBe(
        true,
      );
      expect(sql("a not in ('4', '4', '5') and b between 3 and 10 and c not endswith 'axbc'", props)).toBe(
        true,
      );
    });
  });

  describe('strings', () => {
    it("unescapes '' and keeps unicode and blanks", () => {
      expect(sql("a = 'it''s'", { a: "it's" })).toBe(true);
      expect(sql("a = ''''", { a: "'" })).toBe(true);
      expect(sql("a = ''", { a: '' })).toBe(true);
      expect(sql("a = '价格 😀 é'", { a: '价格 😀 é' })).toBe(true);
      expect(sql("a = 'line\nbreak\t'", { a: 'line\nbreak\t' })).toBe(true);
      expect(sql("a = '--not a comment /* nor this */'", { a: '--not a comment /* nor this */' })).toBe(true);
      expect(sql("a = 'x'", { a: 'x\u0000' })).toBe(false);
    });

    it("matches the RocketMQ TAGS test: TAGS = '''''tag'''''", () => {
      expect(sql("TAGS is not null and TAGS='''''tag'''''", {}, "''tag''")).toBe(true);
    });
  });

  describe('TAGS', () => {
    it('is the message tag', () => {
      expect(sql("TAGS = 'TagA'", {}, 'TagA')).toBe(true);
      expect(sql("TAGS IN ('TagA', 'TagB')", {}, 'TagB')).toBe(true);
      expect(sql("TAGS = 'TagA'", {}, 'TagB')).toBe(false);
      expect(sql('TAGS IS NULL', {})).toBe(true);
      expect(sql('TAGS IS NULL', {}, '')).toBe(true);
      expect(sql("TAGS = 'TagA' AND region = 'eu'", { region: 'eu' }, 'TagA')).toBe(true);
    });

    it('wins over a user property of the same name and is case-sensitive', () => {
      expect(sql("TAGS = 'TagA'", { TAGS: 'TagA' }, undefined)).toBe(false);
      expect(sql("tags = 'x'", { tags: 'x' }, 'TagA')).toBe(true);
    });
  });

  describe('property names', () => {
    it('allows letters, digits, _ and $', () => {
      expect(sql("_a$1 = 'x' AND $ = 'y' AND A_b = 'z'", { _a$1: 'x', $: 'y', A_b: 'z' })).toBe(true);
    });

    it('never reads inherited object members', () => {
      for (const name of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
        expect(sql(`${name} IS NULL`, {})).toBe(true);
        expect(sql(`${name} = 'x'`, {})).toBe(false);
      }
      const own = JSON.parse('{"__proto__": "x", "constructor": "y"}') as Props;
      expect(sql("__proto__ = 'x' AND constructor = 'y'", own)).toBe(true);
      expect(sql("a = 'x'", Object.assign(Object.create(null) as Props, { a: 'x' }))).toBe(true);
    });

    it('treats a value that is not a string (a caller bug) as missing', () => {
      const props = { a: 5, b: null, c: { toString: () => 'x' } } as unknown as Props;
      expect(sql('a IS NULL AND b IS NULL AND c IS NULL', props)).toBe(true);
    });
  });
});

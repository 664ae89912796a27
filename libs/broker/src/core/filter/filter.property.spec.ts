import fc from 'fast-check';
import { compileFilter } from './compile-filter.js';
import { IllegalFilterExpressionError } from './errors.js';
import { FILTER_LIMITS } from './limits.js';
import { type CompiledFilter, type FilterableMessage, type FilterType } from './types.js';

// Properties that hold for any input: compileFilter throws nothing but IllegalFilterExpressionError
// and returns quickly; a compiled filter never throws and always answers a boolean.

/** Generous: one compilation of ≤ 4 KiB takes well under a millisecond; this only catches a hang. */
const SLOW_MS = 500;

const TOKENS = [
  ...`a b TAGS constructor __proto__ x1 $ _ A é ( ) = <> < <= > >= != == ! AND and OR NOT not IN BETWEEN IS NULL
    TRUE FALSE CONTAINS STARTSWITH ENDSWITH LIKE 'x' '' 'it''s' ' ''' 1 0 -1 007 2.5 .5 5. 1e3 1e 1e400 10L
    9223372036854775808 - + , -- /* */ . ; * " \\ || | 😀`.split(/\s+/),
  ...['\n', '\t', '\u0000', '\u000b', '\ud800'],
];

const tokenSoup = fc
  .tuple(fc.array(fc.constantFrom(...TOKENS), { maxLength: 40 }), fc.constantFrom(' ', ''))
  .map(([tokens, sep]) => tokens.join(sep));

/** Short patterns repeated up to the size limit (and a bit past it): the inputs that recurse or loop. */
const repeated = fc
  .tuple(
    fc.array(fc.constantFrom(...TOKENS), { minLength: 1, maxLength: 4 }),
    fc.integer({ min: 1, max: 4200 }),
  )
  .map(([tokens, length]) => {
    const unit = tokens.join(' ') + ' ';
    return unit.repeat(Math.ceil(length / unit.length)).slice(0, length);
  });

const anyExpression = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme-ascii', maxLength: 300 }),
  tokenSoup,
  repeated,
);

const interestingValue = fc.oneof(
  fc.constantFrom(
    '',
    '0',
    '1',
    '-1',
    '+1',
    '1.5',
    '.5',
    '5.',
    '1e3',
    '1e999',
    '-0',
    'true',
    'TRUE',
    'false',
    'x',
  ),
  fc.constantFrom(
    "it's",
    'NaN',
    'Infinity',
    ' 1',
    '0x10',
    '9999999999999999999999',
    '\u0000',
    '😀',
    '\ud800',
  ),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.integer().map(String),
  fc.double().map(String),
);

const propertyName = fc.oneof(
  fc.constantFrom('a', 'b', 'c', 'TAGS', 'tags', 'constructor', '__proto__', 'toString', 'x1', '$', '_'),
  fc.string({ maxLength: 5 }),
);

const message: fc.Arbitrary<FilterableMessage> = fc.record({
  tag: fc.option(fc.oneof(fc.constantFrom('TagA', 'Aa', 'BB', '', 'f5a5a608'), fc.string({ maxLength: 8 })), {
    nil: undefined,
  }),
  userProperties: fc.dictionary(propertyName, interestingValue, { maxKeys: 8 }),
});

function compileOrIllegal(type: FilterType, expression: string): CompiledFilter | undefined {
  const started = performance.now();
  try {
    return compileFilter({ type, expression });
  } catch (error) {
    if (!(error instanceof IllegalFilterExpressionError)) throw error;
    expect(error.message.length).toBeLessThan(300);
    return undefined;
  } finally {
    expect(performance.now() - started).toBeLessThan(SLOW_MS);
  }
}

function evaluate(filter: CompiledFilter, m: FilterableMessage): boolean {
  const result = filter.matches(m);
  expect(typeof result).toBe('boolean');
  if (filter.tagsCodeFilter !== undefined) {
    expect(typeof filter.tagsCodeFilter(m.tag === undefined ? 0 : m.tag.length)).toBe('boolean');
  }
  return result;
}

describe('filters on arbitrary input (fast-check)', () => {
  it('compileFilter throws only IllegalFilterExpressionError, never hangs, and its filters never throw', () => {
    fc.assert(
      fc.property(
        anyExpression,
        fc.constantFrom<FilterType>('SQL92', 'TAG'),
        fc.array(message, { maxLength: 3 }),
        (e, type, ms) => {
          const filter = compileOrIllegal(type, e);
          if (filter !== undefined) for (const m of ms) evaluate(filter, m);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('rejects every input beyond the size limit', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', minLength: 1, maxLength: 64 }),
        fc.constantFrom<FilterType>('SQL92', 'TAG'),
        (unit, type) => {
          const expression = unit.repeat(Math.ceil((FILTER_LIMITS.maxExpressionBytes + 1) / unit.length));
          expect(() => compileFilter({ type, expression })).toThrow(IllegalFilterExpressionError);
        },
      ),
      { numRuns: 200 },
    );
  });

  // ---- well-formed expressions --------------------------------------------------------------

  const quote = (s: string): string => `'${s.replaceAll("'", "''")}'`;
  const prop = fc.constantFrom('a', 'b', 'c', 'TAGS', 'constructor', '__proto__');
  const str = fc.oneof(fc.constantFrom('', 'x', '1', 'true', "it's"), fc.string({ maxLength: 4 })).map(quote);
  const num = fc.oneof(
    fc.integer({ min: -1000, max: 1000 }).map(String),
    fc.double({ min: -1e6, max: 1e6, noNaN: true }).map((d) => (Object.is(d, -0) ? '0' : String(d))),
  );
  const value = fc.oneof(prop, str, num, fc.constantFrom('TRUE', 'FALSE'));
  const not = fc.constantFrom('', 'NOT ');

  const { condition } = fc.letrec((tie) => ({
    condition: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.tuple(prop, fc.constantFrom('<', '<=', '>', '>='), fc.oneof(num, prop)).map((p) => p.join(' ')),
      fc.tuple(num, fc.constantFrom('<', '<=', '>', '>='), prop).map((p) => p.join(' ')),
      fc.tuple(value, fc.constantFrom('=', '<>'), value).map((p) => p.join(' ')),
      fc
        .tuple(fc.oneof(prop, num), not, num, num)
        .map(([v, n, lo, hi]) => `${v} ${n}BETWEEN ${lo} AND ${hi}`),
      fc
        .tuple(prop, not, fc.array(str, { minLength: 1, maxLength: 5 }))
        .map(([p, n, l]) => `${p} ${n}IN (${l.join(', ')})`),
      fc
        .tuple(fc.oneof(prop, str), not, fc.constantFrom('CONTAINS', 'STARTSWITH', 'ENDSWITH'), str)
        .map(([v, n, op, s]) => `${v} ${n}${op} ${s}`),
      fc.tuple(value, not).map(([v, n]) => `${v} IS ${n}NULL`),
      fc.constantFrom('TRUE', 'FALSE', 'NULL'),
      tie('condition').map((c) => `NOT (${String(c)})`),
      fc
        .tuple(tie('condition'), fc.constantFrom('AND', 'OR'), tie('condition'))
        .map(([l, op, r]) => `(${String(l)}) ${op} (${String(r)})`),
    ),
  }));

  it('compiles well-formed expressions, and E and NOT (E) never both match', () => {
    let compiled = 0;
    let rejected = 0;
    fc.assert(
      fc.property(
        condition as fc.Arbitrary<string>,
        fc.array(message, { minLength: 1, maxLength: 4 }),
        (e, ms) => {
          const filter = compileOrIllegal('SQL92', e);
          if (filter === undefined) {
            rejected++; // e.g. constants of different types compared, or BETWEEN bounds reversed
            return;
          }
          compiled++;
          const negated = compileFilter({ type: 'SQL92', expression: `NOT (${e})` });
          const wrapped = compileFilter({ type: 'SQL92', expression: `TRUE AND (${e}) OR FALSE` });
          for (const m of ms) {
            const r = evaluate(filter, m);
            expect(r && evaluate(negated, m)).toBe(false);
            expect(evaluate(wrapped, m)).toBe(r);
          }
        },
      ),
      { numRuns: 1500 },
    );
    expect(compiled).toBeGreaterThan(rejected);
  });

  it('evaluates a comparison the same from either side', () => {
    const mirror: Record<string, string> = {
      '<': '>',
      '<=': '>=',
      '>': '<',
      '>=': '<=',
      '=': '=',
      '<>': '<>',
    };
    fc.assert(
      fc.property(
        prop,
        fc.constantFrom(...Object.keys(mirror)),
        fc.oneof(num, str, prop),
        message,
        (p, op, v, m) => {
          if (!/^[=<>]+$/.test(op) || (op !== '=' && op !== '<>' && v.startsWith("'"))) return;
          const direct = compileFilter({ type: 'SQL92', expression: `${p} ${op} ${v}` });
          const mirrored = compileFilter({ type: 'SQL92', expression: `${v} ${mirror[op]} ${p}` });
          expect(evaluate(mirrored, m)).toBe(evaluate(direct, m));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('agrees on BETWEEN through the fast path and the general path', () => {
    fc.assert(
      fc.property(num, num, not, message, (lo, hi, n, m) => {
        const [low, high] = Number(lo) <= Number(hi) ? [lo, hi] : [hi, lo];
        const fast = compileFilter({ type: 'SQL92', expression: `a ${n}BETWEEN ${low} AND ${high}` });
        const props = { ...m.userProperties, lo: low, hi: high };
        const general = compileFilter({ type: 'SQL92', expression: `a ${n}BETWEEN lo AND hi` });
        const withBounds = { tag: m.tag, userProperties: props };
        expect(evaluate(general, withBounds)).toBe(evaluate(fast, withBounds));
      }),
      { numRuns: 1000 },
    );
  });
});

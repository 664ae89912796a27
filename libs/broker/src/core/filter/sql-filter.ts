import { type SqlComparisonOperator, type SqlNode } from './sql-ast.js';
import { parseSql92 } from './sql-parser.js';
import { type CompiledFilter, type FilterableMessage } from './types.js';

/**
 * Evaluation follows RocketMQ's `filter` module (ComparisonExpression, LogicExpression,
 * UnaryExpression) and the broker's `ExpressionMessageFilter`:
 *
 * - Values are the message's user properties (always strings) plus `TAGS`, the message tag; a
 *   missing property is NULL. Conditions are three-valued (TRUE / FALSE / NULL) and a message
 *   matches only when the whole expression is TRUE, so `NOT (a > 1)` and `a <> 'x'` do not match a
 *   message without `a`.
 * - A property compared with a number (`=`, `<>`, `<`, `<=`, `>`, `>=`, BETWEEN) is read as a
 *   decimal number; two properties compared with `<`-like operators are both read as numbers.
 *   When a value is not a number, RocketMQ's evaluation throws and the broker drops the message:
 *   here that is the ERROR outcome, which propagates (in evaluation order, with AND / OR short
 *   circuits) and makes the message not match. So `NOT (a = 1)` does not match `a = 'abc'`.
 * - A property compared with TRUE / FALSE is TRUE iff it equals "true" ignoring case
 *   (Java's `Boolean.valueOf`), so `a = FALSE` matches any other value.
 * - `=` / `<>` between strings is exact (case-sensitive) string equality.
 * - IN / NOT IN on a missing property is NULL. CONTAINS / STARTSWITH / ENDSWITH and their NOT forms
 *   are FALSE (not NULL) on a missing property or an empty search string.
 *
 * Differences from RocketMQ, all on edge cases:
 * - Numbers are JavaScript doubles: a property like "1.5" compares with the integer literal 1
 *   (RocketMQ's `Integer.valueOf("1.5")` throws, so there the message never matches), and integers
 *   beyond 2^53 compare approximately. Accepted property numbers: `[+-]digits[.digits][e[+-]digits]`
 *   (also `5.` and `.5`), no blanks, no `NaN` / `Infinity` / hex / `d` / `f` suffixes.
 * - NULL on either side of `=` is NULL, whichever side it is on (RocketMQ returns FALSE when only
 *   the right side is NULL, and TRUE when both properties are missing).
 */

const ERROR: unique symbol = Symbol('filter evaluation error');
type Value = string | number | boolean | null;
type Result = Value | typeof ERROR;
type Evaluator = (message: FilterableMessage) => Result;
type PropertyGetter = (message: FilterableMessage) => string | null;

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A property value read as a number, or `undefined` when it is not a decimal number. */
export function propertyToNumber(value: string): number | undefined {
  return NUMBER.test(value) ? Number(value) : undefined;
}

/** Java's `Boolean.valueOf(String)`. */
function isTrueString(value: string): boolean {
  return value.length === 4 && value.toLowerCase() === 'true';
}

/** Compiles a SQL92 expression; throws `IllegalFilterExpressionError`. */
export function compileSql92Filter(expression: string): CompiledFilter {
  const evaluate = compileNode(parseSql92(expression));
  const matches = (message: FilterableMessage): boolean => evaluate(message) === true;
  return Object.freeze({ type: 'SQL92', expression, tagsCodeFilter: undefined, matches });
}

function compileNode(node: SqlNode): Evaluator {
  switch (node.kind) {
    case 'literal': {
      const value = node.value;
      return () => value;
    }
    case 'property':
      return propertyGetter(node.name);
    case 'not': {
      const operand = compileNode(node.operand);
      return (m) => {
        const r = operand(m);
        return typeof r === 'boolean' ? !r : r;
      };
    }
    case 'logic':
      return node.op === 'AND'
        ? compileAnd(node.operands.map(compileNode))
        : compileOr(node.operands.map(compileNode));
    case 'compare':
      return compileComparison(node.op, node.left, node.right);
    case 'between':
      return compileBetween(node.negated, node.value, node.low, node.high);
    case 'in': {
      const get = propertyGetter(node.property);
      const values = new Set(node.values);
      const negated = node.negated;
      return (m) => {
        const v = get(m);
        return v === null ? null : values.has(v) !== negated;
      };
    }
    case 'isNull': {
      const operand = compileNode(node.operand);
      const negated = node.negated;
      return (m) => {
        const r = operand(m);
        return r === ERROR ? ERROR : (r === null) !== negated;
      };
    }
    case 'stringMatch': {
      const { search, negated } = node;
      if (search.length === 0) return () => false;
      const operand = compileNode(node.operand);
      const test =
        node.op === 'CONTAINS'
          ? (s: string) => s.includes(search)
          : node.op === 'STARTSWITH'
            ? (s: string) => s.startsWith(search)
            : (s: string) => s.endsWith(search);
      return (m) => {
        const r = operand(m);
        if (r === ERROR) return ERROR;
        return typeof r === 'string' ? test(r) !== negated : false;
      };
    }
  }
}

function propertyGetter(name: string): PropertyGetter {
  if (name === 'TAGS') {
    return (m) => {
      const tag = m.tag;
      return typeof tag === 'string' && tag.length > 0 ? tag : null;
    };
  }
  if (name in Object.prototype) {
    // `constructor`, `toString`, `__proto__`…: only an own property counts.
    return (m) => {
      const properties = m.userProperties;
      if (!Object.hasOwn(properties, name)) return null;
      const v = properties[name];
      return typeof v === 'string' ? v : null;
    };
  }
  return (m) => {
    const v = m.userProperties[name];
    return typeof v === 'string' ? v : null;
  };
}

function compileAnd(operands: Evaluator[]): Evaluator {
  return (m) => {
    let unknown = false;
    for (const operand of operands) {
      const r = operand(m);
      if (r === false || r === ERROR) return r;
      if (r === null) unknown = true;
    }
    return unknown ? null : true;
  };
}

function compileOr(operands: Evaluator[]): Evaluator {
  return (m) => {
    let unknown = false;
    for (const operand of operands) {
      const r = operand(m);
      if (r === true || r === ERROR) return r;
      if (r === null) unknown = true;
    }
    return unknown ? null : false;
  };
}

// ---- comparisons ---------------------------------------------------------------------------------

type Ordering = '<' | '<=' | '>' | '>=';
const ORDER_TESTS: Readonly<Record<Ordering, (a: number, b: number) => boolean>> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};
const MIRRORED: Readonly<Record<Ordering, Ordering>> = { '<': '>', '<=': '>=', '>': '<', '>=': '<=' };

function compileComparison(op: SqlComparisonOperator, left: SqlNode, right: SqlNode): Evaluator {
  if (op === '=') return compileEquality(left, right);
  if (op === '<>') {
    const equal = compileEquality(left, right);
    return (m) => {
      const r = equal(m);
      return typeof r === 'boolean' ? !r : r;
    };
  }
  return compileOrdering(op, left, right);
}

function compileEquality(left: SqlNode, right: SqlNode): Evaluator {
  // Fast paths for a property against a literal, on either side.
  if (left.kind === 'literal' && right.kind === 'property') [left, right] = [right, left];
  if (left.kind === 'property' && right.kind === 'literal') {
    const get = propertyGetter(left.name);
    const literal = right.value;
    if (typeof literal === 'string') {
      return (m) => {
        const v = get(m);
        return v === null ? null : v === literal;
      };
    }
    if (typeof literal === 'number') {
      return (m) => {
        const v = get(m);
        if (v === null) return null;
        const n = propertyToNumber(v);
        return n === undefined ? ERROR : n === literal;
      };
    }
    if (typeof literal === 'boolean') {
      return (m) => {
        const v = get(m);
        return v === null ? null : isTrueString(v) === literal;
      };
    }
  }
  const l = compileNode(left);
  const r = compileNode(right);
  return (m) => {
    const lv = l(m);
    if (lv === ERROR) return ERROR;
    const rv = r(m);
    if (rv === ERROR) return ERROR;
    return equalValues(lv, rv);
  };
}

/** RocketMQ's equality with `convertStringExpressions` on: a string is converted to the other side's type. */
function equalValues(l: Value, r: Value): Result {
  if (l === null || r === null) return null;
  if (typeof l === 'string') return typeof r === 'string' ? l === r : equalString(l, r);
  if (typeof r === 'string') return equalString(r, l);
  return l === r; // two numbers, two booleans, or a number and a boolean (never equal)
}

function equalString(s: string, other: number | boolean): Result {
  if (typeof other === 'boolean') return isTrueString(s) === other;
  const n = propertyToNumber(s);
  return n === undefined ? ERROR : n === other;
}

function compileOrdering(op: Ordering, left: SqlNode, right: SqlNode): Evaluator {
  if (left.kind === 'literal' && right.kind === 'property') {
    [left, right] = [right, left];
    op = MIRRORED[op];
  }
  const test = ORDER_TESTS[op];
  if (left.kind === 'property' && right.kind === 'literal' && typeof right.value === 'number') {
    const get = propertyGetter(left.name);
    const literal = right.value;
    return (m) => {
      const v = get(m);
      if (v === null) return null;
      const n = propertyToNumber(v);
      return n === undefined ? ERROR : test(n, literal);
    };
  }
  const l = numericOperand(left);
  const r = numericOperand(right);
  return (m) => {
    const lv = l(m);
    if (lv === null) return null;
    const rv = r(m);
    if (rv === null) return null;
    const ln = typeof lv === 'number' ? lv : propertyToNumber(lv);
    const rn = typeof rv === 'number' ? rv : propertyToNumber(rv);
    return ln === undefined || rn === undefined ? ERROR : test(ln, rn);
  };
}

/** An operand of `<`-like operators: the parser allows only properties and numeric literals. */
function numericOperand(node: SqlNode): (m: FilterableMessage) => string | number | null {
  if (node.kind === 'property') return propertyGetter(node.name);
  if (node.kind === 'literal' && typeof node.value === 'number') {
    const value = node.value;
    return () => value;
  }
  // Unreachable after the parser's checks; NULL keeps evaluation total anyway.
  return () => null;
}

function compileBetween(negated: boolean, value: SqlNode, low: SqlNode, high: SqlNode): Evaluator {
  if (
    value.kind === 'property' &&
    low.kind === 'literal' &&
    typeof low.value === 'number' &&
    high.kind === 'literal' &&
    typeof high.value === 'number'
  ) {
    const get = propertyGetter(value.name);
    const lo = low.value;
    const hi = high.value;
    return (m) => {
      const v = get(m);
      if (v === null) return null;
      const n = propertyToNumber(v);
      return n === undefined ? ERROR : (lo <= n && n <= hi) !== negated;
    };
  }
  // As RocketMQ: `v BETWEEN a AND b` is `v >= a AND v <= b`; NOT BETWEEN is `v < a OR v > b`.
  return negated
    ? compileOr([compileOrdering('<', value, low), compileOrdering('>', value, high)])
    : compileAnd([compileOrdering('>=', value, low), compileOrdering('<=', value, high)]);
}

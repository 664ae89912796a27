import { FILTER_LIMITS } from './limits.js';
import {
  isBooleanNode,
  nodeDepth,
  type SqlComparisonOperator,
  type SqlNode,
  type SqlStringOperator,
} from './sql-ast.js';
import {
  type SqlKeyword,
  type SqlPunctuation,
  type SqlToken,
  showText,
  sqlError,
  tokenize,
} from './sql-lexer.js';

/**
 * Parses a SQL92 filter expression with the grammar of RocketMQ's `SelectorParser.jj` (a JMS
 * selector without LIKE, plus CONTAINS / STARTSWITH / ENDSWITH), from loosest to tightest:
 *
 * ```text
 * selector   := or <end>
 * or         := and (OR and)*
 * and        := equality (AND equality)*
 * equality   := comparison ( '=' comparison | '<>' comparison | IS [NOT] NULL )*
 * comparison := unary ( ('>' | '>=' | '<' | '<=') unary
 *                     | [NOT] (CONTAINS | STARTSWITH | ENDSWITH) string
 *                     | [NOT] BETWEEN unary AND unary
 *                     | [NOT] IN '(' string (',' string)* ')' )*
 * unary      := '+' unary | '-' unary | NOT unary | primary
 * primary    := string | number | TRUE | FALSE | NULL | identifier | '(' or ')'
 * ```
 *
 * So `NOT` binds tighter than any comparison (`NOT a = 1` is `(NOT a) = 1`), and `=` / `<>` bind
 * looser than `<`, `BETWEEN`, `IN`. The type checks of RocketMQ's expression factories apply too
 * (`<` takes numbers only, `= NULL` is illegal, BETWEEN bounds in order, IN on a property only).
 *
 * Stricter than RocketMQ, because RocketMQ silently accepts these and then never or always matches:
 * tokens after a complete expression (RocketMQ ignores them: `a = 1 b = 2` is `a = 1` there); a
 * property used as a boolean (`NOT a`, `a AND b = 1`: property values are strings, so RocketMQ's
 * boolean cast is FALSE or NULL whatever the value); a unary minus on anything but a number
 * (RocketMQ yields NULL); and a constant boolean compared with a constant of another type.
 */
export function parseSql92(sql: string): SqlNode {
  const root = new Parser(tokenize(sql)).parseSelector();
  if (nodeDepth(root) > FILTER_LIMITS.maxNestingDepth) {
    throw sqlError(`expression is nested deeper than ${FILTER_LIMITS.maxNestingDepth} levels`);
  }
  return root;
}

const COMPARISONS: ReadonlySet<string> = new Set<SqlPunctuation>(['>', '>=', '<', '<=']);
const STRING_OPERATORS: ReadonlySet<string> = new Set<SqlStringOperator>([
  'CONTAINS',
  'STARTSWITH',
  'ENDSWITH',
]);
const NEGATABLE: ReadonlySet<string> = new Set<SqlKeyword>([
  'CONTAINS',
  'STARTSWITH',
  'ENDSWITH',
  'BETWEEN',
  'IN',
]);

function describe(token: SqlToken): string {
  return token.kind === 'end' ? 'end of expression' : showText(token.text);
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(private readonly tokens: readonly SqlToken[]) {}

  parseSelector(): SqlNode {
    const node = this.orExpression();
    const next = this.peek();
    if (next.kind !== 'end') {
      throw sqlError(
        next.kind === 'punct' && next.punct === ')'
          ? "unbalanced ')'"
          : `unexpected ${describe(next)} after a complete expression`,
        next.pos,
      );
    }
    return this.asBoolean(node);
  }

  // ---- token helpers -------------------------------------------------------------------------

  private peek(offset = 0): SqlToken {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]!;
  }

  private next(): SqlToken {
    const token = this.peek();
    if (token.kind !== 'end') this.index++;
    return token;
  }

  private isKeyword(token: SqlToken, keyword: SqlKeyword): boolean {
    return token.kind === 'keyword' && token.keyword === keyword;
  }

  private isPunct(token: SqlToken, punct: SqlPunctuation): boolean {
    return token.kind === 'punct' && token.punct === punct;
  }

  private expectKeyword(keyword: SqlKeyword, context: string): void {
    const token = this.next();
    if (!this.isKeyword(token, keyword)) {
      throw sqlError(`expected ${keyword} ${context}, found ${describe(token)}`, token.pos);
    }
  }

  private expectPunct(punct: SqlPunctuation, context: string): void {
    const token = this.next();
    if (!this.isPunct(token, punct)) {
      throw sqlError(`expected '${punct}' ${context}, found ${describe(token)}`, token.pos);
    }
  }

  private expectString(context: string): string {
    const token = this.next();
    if (token.kind !== 'string') {
      throw sqlError(`${context} takes a string literal, found ${describe(token)}`, token.pos);
    }
    return token.value;
  }

  private enter(pos: number): void {
    if (++this.depth > FILTER_LIMITS.maxNestingDepth) {
      throw sqlError(`expression is nested deeper than ${FILTER_LIMITS.maxNestingDepth} levels`, pos);
    }
  }

  // ---- grammar -------------------------------------------------------------------------------

  private orExpression(): SqlNode {
    const first = this.andExpression();
    if (!this.isKeyword(this.peek(), 'OR')) return first;
    const operands = [this.asBoolean(first)];
    while (this.isKeyword(this.peek(), 'OR')) {
      this.next();
      operands.push(this.asBoolean(this.andExpression()));
    }
    return { kind: 'logic', op: 'OR', operands: flatten('OR', operands), pos: first.pos };
  }

  private andExpression(): SqlNode {
    const first = this.equalityExpression();
    if (!this.isKeyword(this.peek(), 'AND')) return first;
    const operands = [this.asBoolean(first)];
    while (this.isKeyword(this.peek(), 'AND')) {
      this.next();
      operands.push(this.asBoolean(this.equalityExpression()));
    }
    return { kind: 'logic', op: 'AND', operands: flatten('AND', operands), pos: first.pos };
  }

  private equalityExpression(): SqlNode {
    let left = this.comparisonExpression();
    for (;;) {
      const token = this.peek();
      if (this.isPunct(token, '=') || this.isPunct(token, '<>')) {
        this.next();
        const right = this.comparisonExpression();
        this.checkEqualityOperands(left, right, token);
        left = { kind: 'compare', op: token.text as SqlComparisonOperator, left, right, pos: left.pos };
      } else if (this.isKeyword(token, 'IS')) {
        this.next();
        const negated = this.isKeyword(this.peek(), 'NOT');
        if (negated) this.next();
        this.expectKeyword('NULL', negated ? 'after IS NOT' : 'after IS');
        left = { kind: 'isNull', negated, operand: left, pos: left.pos };
      } else {
        return left;
      }
    }
  }

  private comparisonExpression(): SqlNode {
    let left = this.unaryExpression();
    for (;;) {
      const token = this.peek();
      if (token.kind === 'punct' && COMPARISONS.has(token.punct)) {
        this.next();
        const right = this.unaryExpression();
        this.checkOrderingOperand(left, token);
        this.checkOrderingOperand(right, token);
        left = { kind: 'compare', op: token.punct as SqlComparisonOperator, left, right, pos: left.pos };
        continue;
      }
      let negated = false;
      let operator = token;
      if (this.isKeyword(token, 'NOT')) {
        const after = this.peek(1);
        if (after.kind !== 'keyword' || !NEGATABLE.has(after.keyword)) return left;
        this.next();
        negated = true;
        operator = after;
      }
      if (operator.kind !== 'keyword') return left;
      const name = negated ? `NOT ${operator.keyword}` : operator.keyword;
      if (STRING_OPERATORS.has(operator.keyword)) {
        this.next();
        const search = this.expectString(name);
        left = {
          kind: 'stringMatch',
          op: operator.keyword as SqlStringOperator,
          negated,
          operand: left,
          search,
          pos: left.pos,
        };
      } else if (operator.keyword === 'BETWEEN') {
        this.next();
        const low = this.unaryExpression();
        this.expectKeyword('AND', `between the bounds of ${name}`);
        const high = this.unaryExpression();
        this.checkOrderingOperand(left, operator);
        this.checkOrderingOperand(low, operator);
        this.checkOrderingOperand(high, operator);
        if (
          low.kind === 'literal' &&
          high.kind === 'literal' &&
          (low.value as number) > (high.value as number)
        ) {
          throw sqlError(
            `${name} lower bound ${String(low.value)} exceeds upper bound ${String(high.value)}`,
            low.pos,
          );
        }
        left = { kind: 'between', negated, value: left, low, high, pos: left.pos };
      } else if (operator.keyword === 'IN') {
        this.next();
        if (left.kind !== 'property') throw sqlError(`${name} needs a property on its left`, operator.pos);
        left = { kind: 'in', negated, property: left.name, values: this.inList(name), pos: left.pos };
      } else {
        return left;
      }
    }
  }

  private inList(name: string): string[] {
    this.expectPunct('(', `after ${name}`);
    const values = [this.expectString(name)];
    while (this.isPunct(this.peek(), ',')) {
      const comma = this.next();
      if (values.length >= FILTER_LIMITS.maxInListSize) {
        throw sqlError(`${name} list has more than ${FILTER_LIMITS.maxInListSize} values`, comma.pos);
      }
      values.push(this.expectString(name));
    }
    this.expectPunct(')', `to close the ${name} list`);
    return values;
  }

  private unaryExpression(): SqlNode {
    const token = this.peek();
    if (this.isPunct(token, '+')) {
      this.next();
      this.enter(token.pos);
      const operand = this.unaryExpression();
      this.depth--;
      return operand;
    }
    if (this.isPunct(token, '-')) {
      this.next();
      this.enter(token.pos);
      const operand = this.unaryExpression();
      this.depth--;
      if (operand.kind !== 'literal' || typeof operand.value !== 'number') {
        throw sqlError("unary '-' applies to numbers only", token.pos);
      }
      return { kind: 'literal', value: -operand.value, pos: token.pos };
    }
    if (this.isKeyword(token, 'NOT')) {
      this.next();
      this.enter(token.pos);
      const operand = this.unaryExpression();
      this.depth--;
      return { kind: 'not', operand: this.asBoolean(operand, 'NOT'), pos: token.pos };
    }
    return this.primaryExpression();
  }

  private primaryExpression(): SqlNode {
    const token = this.next();
    switch (token.kind) {
      case 'string':
      case 'number':
        return { kind: 'literal', value: token.value, pos: token.pos };
      case 'identifier':
        return { kind: 'property', name: token.name, pos: token.pos };
      case 'keyword':
        if (token.keyword === 'TRUE') return { kind: 'literal', value: true, pos: token.pos };
        if (token.keyword === 'FALSE') return { kind: 'literal', value: false, pos: token.pos };
        if (token.keyword === 'NULL') return { kind: 'literal', value: null, pos: token.pos };
        break;
      case 'punct':
        if (token.punct === '(') {
          this.enter(token.pos);
          const inner = this.orExpression();
          this.expectPunct(')', `to close the '(' at position ${token.pos + 1}`);
          this.depth--;
          return inner;
        }
        break;
      case 'end':
        throw sqlError('unexpected end of expression', token.pos);
    }
    throw sqlError(`unexpected ${describe(token)}`, token.pos);
  }

  // ---- type checks (as RocketMQ's expression factories) --------------------------------------

  /** RocketMQ's `asBooleanExpression`, without the boolean cast of a property (see the file doc). */
  private asBoolean(node: SqlNode, context?: string): SqlNode {
    if (isBooleanNode(node)) return node;
    const where = context === undefined ? '' : ` after ${context}`;
    if (node.kind === 'property') {
      throw sqlError(
        `property ${showText(node.name)} used as a condition${where}; compare it instead` +
          (context === 'NOT' ? ` (NOT binds tighter than comparisons: write NOT (${node.name} = ...))` : ''),
        node.pos,
      );
    }
    const what = node.kind === 'literal' ? `a ${typeof node.value}` : 'this';
    throw sqlError(`${what} is not a condition${where}`, node.pos);
  }

  /** RocketMQ's `checkLessThanOperand`: `<`, `<=`, `>`, `>=`, BETWEEN take numbers and properties only. */
  private checkOrderingOperand(node: SqlNode, operator: SqlToken): void {
    if (node.kind === 'property') return;
    if (node.kind === 'literal' && typeof node.value === 'number') return;
    const what = node.kind === 'literal' ? (node.value === null ? 'NULL' : typeof node.value) : 'condition';
    throw sqlError(`${describe(operator)} compares numbers, not a ${what}`, node.pos);
  }

  /** RocketMQ's `checkEqualOperand` and `checkEqualOperandCompatability` (made symmetric). */
  private checkEqualityOperands(left: SqlNode, right: SqlNode, operator: SqlToken): void {
    for (const side of [left, right]) {
      if (side.kind === 'literal' && side.value === null) {
        throw sqlError(
          `NULL cannot be compared with ${describe(operator)}; use IS NULL / IS NOT NULL`,
          side.pos,
        );
      }
    }
    if (left.kind === 'literal' && right.kind === 'literal') {
      const lb = typeof left.value === 'boolean';
      const rb = typeof right.value === 'boolean';
      if (lb !== rb) {
        throw sqlError(
          `${showText(String(left.value))} cannot be compared with ${showText(String(right.value))}`,
          left.pos,
        );
      }
    }
  }
}

/** Merges nested AND (or OR) nodes into one list; evaluation order and result are unchanged. */
function flatten(op: 'AND' | 'OR', operands: SqlNode[]): SqlNode[] {
  const flat: SqlNode[] = [];
  for (const operand of operands) {
    if (operand.kind === 'logic' && operand.op === op) flat.push(...operand.operands);
    else flat.push(operand);
  }
  return flat;
}

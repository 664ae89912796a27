import { IllegalFilterExpressionError } from './errors.js';

/** Reserved words of RocketMQ's `SelectorParser.jj`, matched case-insensitively. */
export const SQL_KEYWORDS = [
  'NOT',
  'AND',
  'OR',
  'BETWEEN',
  'IN',
  'TRUE',
  'FALSE',
  'NULL',
  'IS',
  'CONTAINS',
  'STARTSWITH',
  'ENDSWITH',
] as const;
export type SqlKeyword = (typeof SQL_KEYWORDS)[number];

export type SqlPunctuation = '=' | '<>' | '<' | '<=' | '>' | '>=' | '(' | ')' | ',' | '+' | '-';

export type SqlToken =
  | { readonly kind: 'identifier'; readonly name: string; readonly pos: number; readonly text: string }
  | { readonly kind: 'keyword'; readonly keyword: SqlKeyword; readonly pos: number; readonly text: string }
  | { readonly kind: 'string'; readonly value: string; readonly pos: number; readonly text: string }
  | { readonly kind: 'number'; readonly value: number; readonly pos: number; readonly text: string }
  | { readonly kind: 'punct'; readonly punct: SqlPunctuation; readonly pos: number; readonly text: string }
  | { readonly kind: 'end'; readonly pos: number; readonly text: '' };

const KEYWORDS: ReadonlyMap<string, SqlKeyword> = new Map(SQL_KEYWORDS.map((k) => [k, k]));
const LONG_MAX = 9223372036854775807n;

// Character codes.
const TAB = 9;
const LF = 10;
const FF = 12;
const CR = 13;
const SPACE = 32;
const DOLLAR = 36;
const QUOTE = 39;
const STAR = 42;
const PLUS = 43;
const MINUS = 45;
const DOT = 46;
const SLASH = 47;
const ZERO = 48;
const NINE = 57;
const UNDERSCORE = 95;

const isDigit = (c: number): boolean => c >= ZERO && c <= NINE;
const isIdentStart = (c: number): boolean =>
  (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === UNDERSCORE || c === DOLLAR;
const isIdentPart = (c: number): boolean => isIdentStart(c) || isDigit(c);
const isSpace = (c: number): boolean => c === SPACE || c === TAB || c === LF || c === CR || c === FF;

export function sqlError(reason: string, pos?: number): IllegalFilterExpressionError {
  return new IllegalFilterExpressionError('SQL92', reason, pos);
}

/** A token or character as shown in an error message: quoted, bounded, control characters escaped. */
export function showText(text: string): string {
  const shown = text.length > 32 ? `${text.slice(0, 32)}…` : text;
  // eslint-disable-next-line no-control-regex
  return `'${shown.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}'`;
}

function describeChar(sql: string, pos: number): string {
  const c = sql.codePointAt(pos) ?? 0;
  const shown = String.fromCodePoint(c);
  if (c < SPACE || (c >= 0x7f && c <= 0x9f) || (c >= 0xd800 && c <= 0xdfff)) {
    return `U+${c.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return showText(shown);
}

/**
 * Splits a SQL92 filter expression into tokens, following the lexical rules of RocketMQ's
 * `SelectorParser.jj`: blanks are space, tab, CR, LF and FF; `--` line comments and block
 * comments are skipped; identifiers are ASCII `[A-Za-z_$][A-Za-z0-9_$]*` (no dots); strings are
 * single-quoted with `''` for a quote; integers are `0` or `[1-9][0-9]*` with an optional `L`;
 * decimals are `5.`, `.5`, `5.5`, `5E10`, `5.5e-3`. Keywords are case-insensitive.
 */
export function tokenize(sql: string): SqlToken[] {
  const tokens: SqlToken[] = [];
  const n = sql.length;
  let i = 0;
  while (i < n) {
    const c = sql.charCodeAt(i);
    if (isSpace(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === MINUS && sql.charCodeAt(i + 1) === MINUS) {
      // Line comment. RocketMQ requires it to end with a line break; the end of input is fine here.
      while (i < n && sql.charCodeAt(i) !== LF && sql.charCodeAt(i) !== CR) i++;
      continue;
    }
    if (c === SLASH && sql.charCodeAt(i + 1) === STAR) {
      const end = sql.indexOf('*/', i + 2);
      if (end < 0) throw sqlError('unterminated comment', start);
      i = end + 2;
      continue;
    }
    if (isIdentStart(c)) {
      i++;
      while (i < n && isIdentPart(sql.charCodeAt(i))) i++;
      const text = sql.slice(start, i);
      const keyword = KEYWORDS.get(text.toUpperCase());
      tokens.push(
        keyword === undefined
          ? { kind: 'identifier', name: text, pos: start, text }
          : { kind: 'keyword', keyword, pos: start, text },
      );
      continue;
    }
    if (c === QUOTE) {
      let value = '';
      let from = ++i;
      for (;;) {
        const q = sql.indexOf("'", i);
        if (q < 0) throw sqlError('unterminated string literal', start);
        if (sql.charCodeAt(q + 1) === QUOTE) {
          value += sql.slice(from, q + 1);
          i = from = q + 2;
          continue;
        }
        value += sql.slice(from, q);
        i = q + 1;
        break;
      }
      tokens.push({ kind: 'string', value, pos: start, text: sql.slice(start, i) });
      continue;
    }
    if (isDigit(c) || (c === DOT && isDigit(sql.charCodeAt(i + 1)))) {
      const token = scanNumber(sql, start);
      tokens.push(token);
      i = start + token.text.length;
      continue;
    }
    const punct = scanPunctuation(sql, i);
    if (punct !== undefined) {
      tokens.push({ kind: 'punct', punct, pos: start, text: punct });
      i += punct.length;
      continue;
    }
    throw sqlError(`unexpected character ${describeChar(sql, i)}${hintFor(c)}`, start);
  }
  tokens.push({ kind: 'end', pos: n, text: '' });
  return tokens;
}

function hintFor(c: number): string {
  if (c === 33) return "; use '<>' for not-equal";
  if (c === 34) return '; strings take single quotes';
  if (c === DOT) return '; property names may not contain dots';
  return '';
}

function scanPunctuation(sql: string, i: number): SqlPunctuation | undefined {
  const c = sql[i];
  const next = sql[i + 1];
  switch (c) {
    case '<':
      return next === '=' ? '<=' : next === '>' ? '<>' : '<';
    case '>':
      return next === '=' ? '>=' : '>';
    case '=':
    case '(':
    case ')':
    case ',':
    case '+':
    case '-':
      return c;
    default:
      return undefined;
  }
}

function scanNumber(sql: string, start: number): SqlToken {
  const n = sql.length;
  let i = start;
  while (i < n && isDigit(sql.charCodeAt(i))) i++;
  const intEnd = i;
  let decimal = false;
  if (sql.charCodeAt(i) === DOT) {
    decimal = true;
    i++;
    while (i < n && isDigit(sql.charCodeAt(i))) i++;
  }
  const e = sql.charCodeAt(i);
  if (e === 69 || e === 101) {
    let j = i + 1;
    const sign = sql.charCodeAt(j);
    if (sign === PLUS || sign === MINUS) j++;
    if (isDigit(sql.charCodeAt(j))) {
      decimal = true;
      while (j < n && isDigit(sql.charCodeAt(j))) j++;
      i = j;
    }
  }
  if (decimal) {
    const text = sql.slice(start, i);
    const value = Number(text);
    if (!Number.isFinite(value)) throw sqlError(`decimal literal ${showText(text)} is out of range`, start);
    return { kind: 'number', value, pos: start, text };
  }
  const digits = sql.slice(start, intEnd);
  if (digits.length > 1 && digits.charCodeAt(0) === ZERO) {
    throw sqlError(`integer literal ${showText(digits)} has a leading zero`, start);
  }
  const suffix = sql.charCodeAt(intEnd);
  const text = suffix === 76 || suffix === 108 ? sql.slice(start, intEnd + 1) : digits;
  // As RocketMQ (`new Long(text)`): integers must fit a signed 64-bit long.
  if (digits.length > 19 || BigInt(digits) > LONG_MAX) {
    throw sqlError(`integer literal ${showText(digits)} is out of the 64-bit range`, start);
  }
  return { kind: 'number', value: Number(digits), pos: start, text };
}

/** Patterns → subscriptions and dispatch. */
import { Filter } from '../../client/index.js';
import { PatternRoutes, formatPattern, parsePattern } from './pattern-routes.js';
import { InvalidPatternError } from './transport-errors.js';

test('a pattern is `topic` or `topic:tag`; spaces are ignored and `topic:*` means every tag', () => {
  expect(parsePattern('orders')).toEqual({ topic: 'orders', tag: undefined });
  expect(parsePattern('orders:created')).toEqual({ topic: 'orders', tag: 'created' });
  expect(parsePattern(' orders : created ')).toEqual({ topic: 'orders', tag: 'created' });
  expect(parsePattern('orders:*')).toEqual({ topic: 'orders', tag: undefined });
  expect(parsePattern('orders:')).toEqual({ topic: 'orders', tag: undefined });
  // Tags may contain ':' themselves; topics cannot.
  expect(parsePattern('orders:v2:created')).toEqual({ topic: 'orders', tag: 'v2:created' });
  expect(formatPattern({ topic: 'orders', tag: 'created' })).toBe('orders:created');
  expect(formatPattern({ topic: 'orders', tag: undefined })).toBe('orders');
});

test('illegal topics and tags, and object patterns, are refused with InvalidPatternError (40000)', () => {
  for (const bad of ['', 'has space', 'orders:a|b', '%RETRY%g', '{"cmd":"sum"}', 'x'.repeat(200)]) {
    expect(() => parsePattern(bad)).toThrow(InvalidPatternError);
  }
  expect(() => parsePattern('{"cmd":"sum"}')).toThrow(/object patterns are not supported/);
  expect(() => parsePattern(42 as unknown as string)).toThrow(InvalidPatternError);
  try {
    parsePattern('orders:a|b');
  } catch (err) {
    expect(err).toMatchObject({ code: 40000, pattern: 'orders:a|b' });
  }
});

test('several tags of one topic make one TAG subscription; a whole-topic pattern makes it ALL', () => {
  const routes = new PatternRoutes(['orders:created', 'orders:paid', 'audit', 'audit:special', 'users:new']);
  expect(routes.subscriptions()).toEqual([
    { topic: 'orders', filter: Filter.tag('created || paid') },
    { topic: 'audit', filter: Filter.ALL },
    { topic: 'users', filter: Filter.tag('new') },
  ]);
  expect(routes.topics).toEqual(['orders', 'audit', 'users']);
});

test('dispatch prefers the exact tag, then the topic; anything else has no handler', () => {
  const routes = new PatternRoutes(['orders:created', 'audit', 'audit:special']);
  expect(routes.match('orders', 'created')).toBe('orders:created');
  expect(routes.match('orders', 'paid')).toBeUndefined();
  expect(routes.match('orders', undefined)).toBeUndefined();
  expect(routes.match('audit', 'special')).toBe('audit:special');
  expect(routes.match('audit', 'other')).toBe('audit');
  expect(routes.match('audit', undefined)).toBe('audit');
  expect(routes.match('unknown', 'x')).toBeUndefined();
});

test('dispatch answers with the pattern as registered (the key of its handler)', () => {
  const routes = new PatternRoutes([' orders : created ']);
  expect(routes.match('orders', 'created')).toBe(' orders : created ');
});

test('two patterns for the same messages are refused', () => {
  expect(() => new PatternRoutes(['orders:created', 'orders: created'])).toThrow(/same messages/);
  expect(() => new PatternRoutes(['orders', 'orders:*'])).toThrow(InvalidPatternError);
});

test("a topic's filter replaces the derived one; a filter for a topic nobody serves is refused", () => {
  const routes = new PatternRoutes(['orders:created'], { orders: Filter.sql("region = 'eu'") });
  expect(routes.subscriptions()).toEqual([{ topic: 'orders', filter: Filter.sql("region = 'eu'") }]);
  expect(() => new PatternRoutes(['orders'], { audit: Filter.ALL })).toThrow(/no handler serves/);
});

test('no pattern, no subscription', () => {
  expect(new PatternRoutes([]).subscriptions()).toEqual([]);
});

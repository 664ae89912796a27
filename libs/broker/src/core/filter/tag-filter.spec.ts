import { tagHash } from '../../store/tag-hash.js';
import { compileFilter } from './compile-filter.js';
import { compileTagFilter, parseTagExpression } from './tag-filter.js';
import { type FilterableMessage } from './types.js';

const msg = (tag: string | undefined): FilterableMessage => ({ tag, userProperties: {} });

/** Both stages, as the broker runs them: the consume-queue hash first, then the record. */
function accepts(expression: string, tag: string | undefined): boolean {
  const filter = compileFilter({ type: 'TAG', expression });
  const stage1 = filter.tagsCodeFilter === undefined || filter.tagsCodeFilter(tagHash(tag));
  return stage1 && filter.matches(msg(tag));
}

describe('TAG filter', () => {
  it.each(['*', '', ' * ', '  ', '||', ' || || '])('%j subscribes to everything, untagged included', (e) => {
    const filter = compileFilter({ type: 'TAG', expression: e });
    expect(filter.tagsCodeFilter).toBeUndefined();
    expect(filter.matches(msg(undefined))).toBe(true);
    expect(filter.matches(msg('TagA'))).toBe(true);
    expect(parseTagExpression(e)).toBeUndefined();
  });

  it('treats a null or undefined expression from the wire as *', () => {
    for (const expression of [null, undefined]) {
      const filter = compileFilter({ type: 'TAG', expression: expression as unknown as string });
      expect(filter.tagsCodeFilter).toBeUndefined();
      expect(filter.matches(msg(undefined))).toBe(true);
    }
  });

  it('matches a single tag exactly (case-sensitive) at both stages', () => {
    expect(accepts('TagA', 'TagA')).toBe(true);
    expect(accepts('TagA', 'taga')).toBe(false);
    expect(accepts('TagA', 'TagAB')).toBe(false);
    expect(accepts('TagA', undefined)).toBe(false);
    const filter = compileFilter({ type: 'TAG', expression: 'TagA' });
    expect(filter.tagsCodeFilter?.(tagHash('TagA'))).toBe(true);
    expect(filter.tagsCodeFilter?.(tagHash('TagB'))).toBe(false);
    expect(filter.tagsCodeFilter?.(0)).toBe(false);
  });

  it('splits on ||, trims blanks and drops empty pieces', () => {
    expect([...(parseTagExpression(' TagA ||TagB||  || TagC ||') ?? [])]).toEqual(['TagA', 'TagB', 'TagC']);
    for (const tag of ['TagA', 'TagB', 'TagC']) expect(accepts('TagA || TagB||TagC', tag)).toBe(true);
    expect(accepts('TagA || TagB', 'TagD')).toBe(false);
    expect(accepts('TagA || TagB', undefined)).toBe(false);
    expect(accepts('TagA || TagB', ' TagA')).toBe(false);
  });

  it('keeps a single | inside a piece (such tags cannot be sent, so it matches nothing)', () => {
    expect([...(parseTagExpression('a|b || c') ?? [])]).toEqual(['a|b', 'c']);
    expect([...(parseTagExpression('a ||| b') ?? [])]).toEqual(['a', '| b']);
  });

  it('reads * next to other tags as a literal tag, as RocketMQ does', () => {
    expect(accepts('TagA || *', 'TagB')).toBe(false);
    expect(accepts('TagA || *', '*')).toBe(true);
  });

  it('lets hash collisions through stage 1 and rejects them at stage 2', () => {
    expect(tagHash('Aa')).toBe(tagHash('BB'));
    for (const expression of ['Aa', 'Aa || Other']) {
      const filter = compileTagFilter(expression);
      expect(filter.tagsCodeFilter?.(tagHash('BB'))).toBe(true);
      expect(filter.matches(msg('BB'))).toBe(false);
      expect(filter.matches(msg('Aa'))).toBe(true);
    }
  });

  it('rejects an untagged message at stage 2 even if a subscribed tag hashes to 0', () => {
    // "f5a5a608" is a printable string whose Java hashCode is 0, like "no tag".
    expect(tagHash('f5a5a608')).toBe(0);
    const filter = compileTagFilter('f5a5a608');
    expect(filter.tagsCodeFilter?.(tagHash(undefined))).toBe(true);
    expect(filter.matches(msg(undefined))).toBe(false);
    expect(filter.matches(msg(''))).toBe(false);
    expect(filter.matches(msg('f5a5a608'))).toBe(true);
  });

  it('handles unicode tags with the Java hash', () => {
    expect(accepts('标签 || 😀', '😀')).toBe(true);
    expect(accepts('标签 || 😀', '标签')).toBe(true);
    expect(accepts('标签', '标')).toBe(false);
  });

  it('returns frozen filters that keep type and expression', () => {
    const filter = compileTagFilter(' TagA ');
    expect(filter).toMatchObject({ type: 'TAG', expression: ' TagA ' });
    expect(Object.isFrozen(filter)).toBe(true);
    expect(filter.matches(msg('TagA'))).toBe(true);
  });
});

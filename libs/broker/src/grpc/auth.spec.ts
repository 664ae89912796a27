import { Metadata } from '@grpc/grpc-js';
import { ManualClock } from '../core/clock.js';
import { StatusCode } from '../status-code.js';
import {
  Authenticator,
  formatDateTime,
  isAllowed,
  parseAuthorization,
  parseDateTime,
  signDateTime,
} from './auth.js';

const NOW = Date.UTC(2025, 5, 30, 12, 0, 0);

describe('parseDateTime', () => {
  it("reads yyyyMMdd'T'HHmmss'Z' as UTC", () => {
    expect(parseDateTime('20250630T120000Z')).toBe(NOW);
    expect(formatDateTime(NOW)).toBe('20250630T120000Z');
  });

  it.each([
    '2025-06-30T12:00:00Z',
    '20250630T120000',
    '20250231T000000Z',
    '20251301T000000Z',
    '20250630T246000Z',
    '',
  ])('refuses %j', (text) => {
    expect(parseDateTime(text)).toBeUndefined();
  });
});

describe('parseAuthorization', () => {
  it('reads the header the official client sends', () => {
    expect(
      parseAuthorization('MQv2-HMAC-SHA1 Credential=AK1, SignedHeaders=x-mq-date-time, Signature=ABCDEF'),
    ).toEqual({ accessKey: 'AK1', signature: 'ABCDEF' });
  });

  it('takes the access key before a credential scope', () => {
    expect(parseAuthorization('MQv2-HMAC-SHA1 Credential=AK1/2025/cn, Signature=01')?.accessKey).toBe('AK1');
  });

  it.each([
    'Bearer token',
    'MQv2-HMAC-SHA1',
    'MQv2-HMAC-SHA1 Signature=01',
    'MQv2-HMAC-SHA1 Credential=AK1',
    'MQv2-HMAC-SHA1 Credential=, Signature=01',
  ])('refuses %j', (header) => {
    expect(parseAuthorization(header)).toBeUndefined();
  });
});

describe('isAllowed', () => {
  it('allows everything without a list, nothing with an empty one', () => {
    expect(isAllowed(undefined, 'orders')).toBe(true);
    expect(isAllowed([], 'orders')).toBe(false);
  });

  it('matches exact names, * and prefixes ending in *', () => {
    expect(isAllowed(['orders'], 'orders')).toBe(true);
    expect(isAllowed(['orders'], 'orders-eu')).toBe(false);
    expect(isAllowed(['*'], 'anything')).toBe(true);
    expect(isAllowed(['orders-*'], 'orders-eu')).toBe(true);
    expect(isAllowed(['orders-*'], 'payments')).toBe(false);
  });
});

describe('Authenticator', () => {
  const clock = new ManualClock(NOW);
  const auth = new Authenticator({ users: [{ accessKey: 'AK1', secretKey: 'secret-1' }] }, clock);

  function metadata(
    accessKey: string,
    secret: string,
    dateTime = formatDateTime(NOW),
    lower = false,
  ): Metadata {
    const md = new Metadata();
    md.set('x-mq-date-time', dateTime);
    const signature = signDateTime(secret, dateTime);
    md.set(
      'authorization',
      `MQv2-HMAC-SHA1 Credential=${accessKey}, SignedHeaders=x-mq-date-time, Signature=${lower ? signature.toLowerCase() : signature}`,
    );
    return md;
  }

  const codeOf = (fn: () => unknown): number | undefined => {
    try {
      fn();
      return undefined;
    } catch (err) {
      return (err as { code?: number }).code;
    }
  };

  it('returns the user of a good signature, upper or lower case', () => {
    expect(auth.authenticate(metadata('AK1', 'secret-1')).accessKey).toBe('AK1');
    expect(auth.authenticate(metadata('AK1', 'secret-1', undefined, true)).accessKey).toBe('AK1');
  });

  it('accepts a date-time within the skew on either side', () => {
    expect(auth.authenticate(metadata('AK1', 'secret-1', formatDateTime(NOW - 14 * 60_000))).accessKey).toBe(
      'AK1',
    );
    expect(auth.authenticate(metadata('AK1', 'secret-1', formatDateTime(NOW + 14 * 60_000))).accessKey).toBe(
      'AK1',
    );
  });

  it.each([
    ['a wrong secret', () => metadata('AK1', 'wrong')],
    ['an unknown access key', () => metadata('AK9', 'secret-1')],
    ['a stale date-time', () => metadata('AK1', 'secret-1', formatDateTime(NOW - 16 * 60_000))],
    ['a date-time from the future', () => metadata('AK1', 'secret-1', formatDateTime(NOW + 16 * 60_000))],
    ['a malformed date-time', () => metadata('AK1', 'secret-1', '2025-06-30')],
    ['no headers', () => new Metadata()],
    [
      'no date-time',
      () => {
        const md = metadata('AK1', 'secret-1');
        md.remove('x-mq-date-time');
        return md;
      },
    ],
    [
      'a signature over another date-time',
      () => {
        const md = metadata('AK1', 'secret-1');
        md.set('x-mq-date-time', formatDateTime(NOW - 1000));
        return md;
      },
    ],
  ])('answers UNAUTHORIZED for %s', (_what, build) => {
    expect(codeOf(() => auth.authenticate(build()))).toBe(StatusCode.UNAUTHORIZED);
  });

  it('honours a configured skew', () => {
    const strict = new Authenticator(
      { users: [{ accessKey: 'AK1', secretKey: 's' }], maxClockSkewMs: 1_000 },
      clock,
    );
    expect(codeOf(() => strict.authenticate(metadata('AK1', 's', formatDateTime(NOW - 2_000))))).toBe(
      StatusCode.UNAUTHORIZED,
    );
  });

  it.each([
    ['no users list', {}],
    ['an empty access key', { users: [{ accessKey: '', secretKey: 's' }] }],
    ['an access key with a comma', { users: [{ accessKey: 'a,b', secretKey: 's' }] }],
    ['an empty secret', { users: [{ accessKey: 'a', secretKey: '' }] }],
    [
      'a duplicate access key',
      {
        users: [
          { accessKey: 'a', secretKey: 's' },
          { accessKey: 'a', secretKey: 't' },
        ],
      },
    ],
    ['an allow list of non-strings', { users: [{ accessKey: 'a', secretKey: 's', topics: [1] }] }],
    ['a negative skew', { users: [], maxClockSkewMs: -1 }],
  ])('refuses a configuration with %s', (_what, options) => {
    expect(() => new Authenticator(options as never, clock)).toThrow(RangeError);
  });
});

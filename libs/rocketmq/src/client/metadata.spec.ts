import { parseAuthorization, signDateTime } from '@rocketnest/broker/grpc/auth.js';
import { callMetadata } from './metadata.js';

describe('callMetadata', () => {
  const at = Date.UTC(2025, 0, 2, 3, 4, 5);

  it('carries the official headers, a fresh request id and a UTC date-time', () => {
    const a = callMetadata({ clientId: 'h@1@0@x', namespace: '', credentials: undefined }, at);
    const b = callMetadata({ clientId: 'h@1@0@x', namespace: '', credentials: undefined }, at);
    const get = (name: string) => a.metadata.get(name)[0];
    expect(get('x-mq-language')).toBe('HTTP');
    expect(get('x-mq-protocol')).toBe('v2');
    expect(get('x-mq-client-id')).toBe('h@1@0@x');
    expect(get('x-mq-date-time')).toBe('20250102T030405Z');
    expect(get('x-mq-namespace')).toBe('');
    expect(get('x-mq-request-id')).toBe(a.requestId);
    expect(a.requestId).not.toBe(b.requestId);
    expect(a.metadata.get('authorization')).toEqual([]);
  });

  it('signs the date-time with the secret in the form the broker parses', () => {
    const { metadata } = callMetadata(
      {
        clientId: 'c',
        namespace: 'ns',
        credentials: { accessKey: 'AK', secretKey: 'SK', securityToken: 'tok' },
      },
      at,
    );
    const parsed = parseAuthorization(String(metadata.get('authorization')[0]));
    expect(parsed).toEqual({ accessKey: 'AK', signature: signDateTime('SK', '20250102T030405Z') });
    expect(metadata.get('x-mq-session-token')).toEqual(['tok']);
  });
});

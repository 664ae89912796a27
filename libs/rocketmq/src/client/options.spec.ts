import { DEFAULT_PORT, parseEndpoint, parseEndpoints, resolveClientOptions } from './options.js';

describe('endpoints', () => {
  it('parses host:port lists separated by , or ; and drops duplicates', () => {
    expect(parseEndpoints('a:1, b:2;a:1').map((e) => e.address)).toEqual(['a:1', 'b:2']);
  });
  it('defaults a missing port to 8081 and brackets IPv6', () => {
    expect(parseEndpoint('broker.local')).toEqual({
      host: 'broker.local',
      port: DEFAULT_PORT,
      address: 'broker.local:8081',
    });
    expect(parseEndpoint('[::1]:9876')).toEqual({ host: '::1', port: 9876, address: '[::1]:9876' });
  });
  it.each(['', ' , ', 'http://host:1', 'host:0', 'host:70000', 'host:12a', '::1:8081'])(
    'refuses %j with a RangeError',
    (text) => {
      expect(() => parseEndpoints(text)).toThrow(RangeError);
    },
  );
});

describe('resolveClientOptions', () => {
  it('applies the defaults: 3 s requests, 10 s startup, no namespace, plaintext', () => {
    const o = resolveClientOptions({ endpoints: '127.0.0.1:8081' });
    expect(o).toMatchObject({ requestTimeoutMs: 3_000, startupTimeoutMs: 10_000, namespace: '', tls: false });
  });
  it('refuses bad namespaces, credentials and timeouts, naming the option', () => {
    expect(() => resolveClientOptions({ endpoints: 'h:1', namespace: 'a b' })).toThrow(/namespace/);
    expect(() =>
      resolveClientOptions({ endpoints: 'h:1', credentials: { accessKey: '', secretKey: 's' } }),
    ).toThrow(/accessKey/);
    expect(() => resolveClientOptions({ endpoints: 'h:1', requestTimeoutMs: 10 })).toThrow(
      /requestTimeoutMs/,
    );
    expect(() => resolveClientOptions({ endpoints: 'h:1', startupTimeoutMs: Number.NaN })).toThrow(
      /startupTimeoutMs/,
    );
  });
});

import { BrokerConfigError, readBrokerConfig } from './broker-config.js';

describe('standalone broker configuration', () => {
  it('defaults to RocketMQ proxy port 8081, async flush, 1 GiB segments and no preallocation', () => {
    const config = readBrokerConfig({});
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8081,
      flushMode: 'async',
      segmentSize: 1024 * 1024 * 1024,
      preallocate: false,
    });
    expect(config.dataDir).toMatch(/data\/broker$/);
  });

  it('reads every setting from the environment', () => {
    const config = readBrokerConfig({
      BROKER_HOST: '0.0.0.0',
      BROKER_PORT: '9876',
      BROKER_DATA_DIR: '/var/lib/rocketnest',
      BROKER_FLUSH: 'sync',
      BROKER_SEGMENT_MB: '64',
      BROKER_PREALLOCATE: 'true',
    });
    expect(config).toEqual({
      host: '0.0.0.0',
      port: 9876,
      dataDir: '/var/lib/rocketnest',
      flushMode: 'sync',
      segmentSize: 64 * 1024 * 1024,
      preallocate: true,
    });
  });

  it.each([
    ['BROKER_FLUSH', 'fsync', /BROKER_FLUSH must be "sync" or "async"/],
    ['BROKER_PORT', '70000', /BROKER_PORT must be a port number/],
    ['BROKER_PORT', 'http', /BROKER_PORT must be a port number/],
    ['BROKER_SEGMENT_MB', '0', /BROKER_SEGMENT_MB must be a positive integer/],
    ['BROKER_SEGMENT_MB', '1.5', /BROKER_SEGMENT_MB must be a positive integer/],
  ])('rejects %s=%s with a clear error', (name, value, message) => {
    expect(() => readBrokerConfig({ [name]: value })).toThrow(BrokerConfigError);
    expect(() => readBrokerConfig({ [name]: value })).toThrow(message);
  });
});

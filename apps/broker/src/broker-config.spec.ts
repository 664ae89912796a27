import { resolve } from 'node:path';
import { BrokerConfigError, brokerOptionsOf, readBrokerConfig } from './broker-config.js';

describe('standalone broker configuration', () => {
  it('defaults to RocketMQ proxy port 8081, admin on loopback 8082, async flush, 1 GiB segments, no preallocation, no auth', () => {
    const config = readBrokerConfig({});
    expect(config).toEqual({
      host: '127.0.0.1',
      port: 8081,
      advertisedEndpoint: undefined,
      dataDir: resolve('./data/broker'),
      flushMode: 'async',
      segmentSize: 1024 * 1024 * 1024,
      preallocate: false,
      maxReceiveBatchSize: 32,
      configFile: undefined,
      user: undefined,
      admin: { host: '127.0.0.1', port: 8082, token: undefined },
    });
    expect(brokerOptionsOf(config)).toEqual({
      dataDir: resolve('./data/broker'),
      host: '127.0.0.1',
      port: 8081,
      flushMode: 'async',
      segmentSize: 1024 * 1024 * 1024,
      preallocate: false,
      core: { maxReceiveBatchSize: 32 },
      admin: { host: '127.0.0.1', port: 8082 },
    });
  });

  it('reads every setting from the environment and turns it into Broker options', () => {
    const config = readBrokerConfig({
      BROKER_HOST: '0.0.0.0',
      BROKER_PORT: '9876',
      BROKER_ADVERTISED_ENDPOINT: 'broker.internal:9876',
      BROKER_DATA_DIR: '/var/lib/rocketnest',
      BROKER_FLUSH: 'sync',
      BROKER_SEGMENT_MB: '64',
      BROKER_PREALLOCATE: 'true',
      BROKER_RECEIVE_BATCH_MAX: '128',
      BROKER_CONFIG: 'conf/broker.json',
      BROKER_ACCESS_KEY: 'svc',
      BROKER_SECRET_KEY: 'secret',
      BROKER_ADMIN_HOST: '0.0.0.0',
      BROKER_ADMIN_PORT: '0',
      BROKER_ADMIN_TOKEN: 'a-long-enough-admin-token',
    });
    expect(config).toEqual({
      host: '0.0.0.0',
      port: 9876,
      advertisedEndpoint: 'broker.internal:9876',
      dataDir: '/var/lib/rocketnest',
      flushMode: 'sync',
      segmentSize: 64 * 1024 * 1024,
      preallocate: true,
      maxReceiveBatchSize: 128,
      configFile: resolve('conf/broker.json'),
      user: { accessKey: 'svc', secretKey: 'secret' },
      admin: { host: '0.0.0.0', port: 0, token: 'a-long-enough-admin-token' },
    });
    expect(brokerOptionsOf(config)).toEqual({
      dataDir: '/var/lib/rocketnest',
      host: '0.0.0.0',
      port: 9876,
      advertisedEndpoint: 'broker.internal:9876',
      flushMode: 'sync',
      segmentSize: 64 * 1024 * 1024,
      preallocate: true,
      core: { maxReceiveBatchSize: 128 },
      config: resolve('conf/broker.json'),
      auth: { users: [{ accessKey: 'svc', secretKey: 'secret' }] },
      admin: { host: '0.0.0.0', port: 0, token: 'a-long-enough-admin-token' },
    });
  });

  it('turns the admin API off with BROKER_ADMIN_ENABLED=false', () => {
    const config = readBrokerConfig({ BROKER_ADMIN_ENABLED: 'false', BROKER_ADMIN_PORT: '1' });
    expect(config.admin).toBeUndefined();
    expect(brokerOptionsOf(config)).not.toHaveProperty('admin');
  });

  it.each([
    ['BROKER_FLUSH', 'fsync', /BROKER_FLUSH must be "sync" or "async"/],
    ['BROKER_PORT', '70000', /BROKER_PORT must be a port number/],
    ['BROKER_PORT', 'http', /BROKER_PORT must be a port number/],
    ['BROKER_PORT', '-1', /BROKER_PORT must be a port number/],
    [
      'BROKER_ADMIN_PORT',
      '8o82',
      /BROKER_ADMIN_PORT must be a port number \(0\.\.65535, 0 = any free port\), got "8o82"/,
    ],
    ['BROKER_SEGMENT_MB', '0', /BROKER_SEGMENT_MB must be a positive integer/],
    ['BROKER_SEGMENT_MB', '1.5', /BROKER_SEGMENT_MB must be a positive integer/],
    ['BROKER_RECEIVE_BATCH_MAX', '0', /BROKER_RECEIVE_BATCH_MAX must be an integer in 1\.\.1024, got "0"/],
    ['BROKER_RECEIVE_BATCH_MAX', '1025', /BROKER_RECEIVE_BATCH_MAX must be an integer in 1\.\.1024/],
    ['BROKER_RECEIVE_BATCH_MAX', '64k', /BROKER_RECEIVE_BATCH_MAX must be an integer in 1\.\.1024/],
    ['BROKER_PREALLOCATE', 'yes', /BROKER_PREALLOCATE must be "true" or "false", got "yes"/],
    ['BROKER_ADMIN_ENABLED', 'off', /BROKER_ADMIN_ENABLED must be "true" or "false", got "off"/],
    ['BROKER_ACCESS_KEY', 'svc', /BROKER_ACCESS_KEY and BROKER_SECRET_KEY must be set together/],
    ['BROKER_SECRET_KEY', 'secret', /BROKER_ACCESS_KEY and BROKER_SECRET_KEY must be set together/],
  ])('rejects %s=%s with a clear error', (name, value, message) => {
    expect(() => readBrokerConfig({ [name]: value })).toThrow(BrokerConfigError);
    expect(() => readBrokerConfig({ [name]: value })).toThrow(message);
  });
});

import { JsonPayloadCodec } from '../serialization/payload-codec.js';
import { resolveRocketMQOptions } from './rocketmq-options.js';

describe('resolveRocketMQOptions', () => {
  it('starts an embedded broker when neither endpoints nor ROCKETMQ_ENDPOINTS is given', () => {
    const resolved = resolveRocketMQOptions({ embedded: { dataDir: '/tmp/x' } }, {});
    expect(resolved.target).toEqual({ kind: 'embedded', options: { dataDir: '/tmp/x' } });
    expect(resolved.codec).toBeInstanceOf(JsonPayloadCodec);
    expect(resolved.autoStartListeners).toBe(true);
  });

  it('reads ROCKETMQ_ENDPOINTS, ROCKETMQ_NAMESPACE and the key pair from the environment when the options are absent', () => {
    const resolved = resolveRocketMQOptions(
      {},
      {
        ROCKETMQ_ENDPOINTS: 'mq:8081',
        ROCKETMQ_NAMESPACE: 'prod',
        ROCKETMQ_ACCESS_KEY: 'ak',
        ROCKETMQ_SECRET_KEY: 'sk',
      },
    );
    expect(resolved.target).toEqual({ kind: 'remote', endpoints: 'mq:8081' });
    expect(resolved.namespace).toBe('prod');
    expect(resolved.credentials).toEqual({ accessKey: 'ak', secretKey: 'sk' });
  });

  it('prefers explicit options over the environment', () => {
    const resolved = resolveRocketMQOptions(
      { endpoints: 'a:1', namespace: 'dev', credentials: { accessKey: 'x', secretKey: 'y' } },
      {
        ROCKETMQ_ENDPOINTS: 'b:2',
        ROCKETMQ_NAMESPACE: 'prod',
        ROCKETMQ_ACCESS_KEY: 'ak',
        ROCKETMQ_SECRET_KEY: 'sk',
      },
    );
    expect(resolved.target).toEqual({ kind: 'remote', endpoints: 'a:1' });
    expect(resolved.namespace).toBe('dev');
    expect(resolved.credentials).toEqual({ accessKey: 'x', secretKey: 'y' });
  });

  it('refuses half a key pair, a bad instance name and an out-of-range maxReconsumeTimes', () => {
    expect(() => resolveRocketMQOptions({}, { ROCKETMQ_ACCESS_KEY: 'ak' })).toThrow(/set together/);
    expect(() => resolveRocketMQOptions({ instanceName: 'pod 1' }, {})).toThrow(/instanceName/);
    expect(() => resolveRocketMQOptions({ consumer: { maxReconsumeTimes: -1 } }, {})).toThrow(
      /maxReconsumeTimes/,
    );
    expect(() => resolveRocketMQOptions({ endpoints: ' ' }, {})).toThrow(/endpoints/);
  });

  it('gives each module instance its own default instance name', () => {
    expect(resolveRocketMQOptions({}, {}).instanceName).not.toBe(resolveRocketMQOptions({}, {}).instanceName);
  });
});

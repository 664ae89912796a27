/**
 * Each service's settings: defaults, bad values refused with the variable's name, and the exported
 * lists of variables (which the compose file is checked against) naming every variable the code
 * reads.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  NOTIFICATION_SERVICE_ENV,
  readNotificationServiceConfig,
} from '../../notification-service/src/config.js';
import { ORDER_SERVICE_ENV, readOrderServiceConfig } from '../../order-service/src/config.js';
import { PAYMENT_SERVICE_ENV, readPaymentServiceConfig } from '../../payment-service/src/config.js';
import { SAMPLE_ENV } from '../../sample/src/config.js';
import { SampleConfigError } from './env.js';

const APPS = join(import.meta.dirname, '..', '..');

/** Variables the non-test sources of `dirs` read: `env.NAME`, `env['NAME']` and `envX(env, 'NAME', …)`. */
function variablesReadIn(dirs: readonly string[]): Set<string> {
  const names = new Set<string>();
  const visit = (path: string) => {
    if (statSync(path).isDirectory()) {
      for (const entry of readdirSync(path)) visit(join(path, entry));
      return;
    }
    if (!path.endsWith('.ts') || /\.(spec|e2e)\.ts$/.test(path) || path.includes(`${join('src', 'testing')}`))
      return;
    const text = readFileSync(path, 'utf8');
    for (const m of text.matchAll(/\benv\.([A-Z][A-Z0-9_]+)/g)) names.add(m[1]!);
    for (const m of text.matchAll(/\benv(?:Text|Integer|Number|Port)\(\s*env,\s*'([A-Z][A-Z0-9_]+)'/g))
      names.add(m[1]!);
  };
  for (const dir of dirs) visit(join(APPS, dir));
  return names;
}

describe('service settings', () => {
  it('have production defaults: ports 3000/3001/3002, a 30 min timeout, 16 retries, no chaos', () => {
    const order = readOrderServiceConfig({});
    expect(order).toMatchObject({ port: 3000, orderTimeoutMs: 1_800_000, duplicateRate: 0, rocketmq: {} });
    expect(order.database.url).toBeUndefined();
    expect(order.database.pgliteDataDir).toMatch(/data[/\\]sample[/\\]order-service$/);
    expect(readPaymentServiceConfig({})).toMatchObject({ port: 3001, maxReconsumeTimes: 16, failureRate: 0 });
    expect(readNotificationServiceConfig({}).port).toBe(3002);
  });

  it('read the broker, database and ports from the environment (PORT when the own variable is unset)', () => {
    const order = readOrderServiceConfig({
      ROCKETMQ_ENDPOINTS: 'broker:8081',
      ROCKETMQ_NAMESPACE: 'shop',
      DATABASE_URL: 'postgres://db/orders',
      PORT: '8080',
      INSTANCE_NAME: 'order-1',
    });
    expect(order).toMatchObject({
      port: 8080,
      rocketmq: { endpoints: 'broker:8081', namespace: 'shop', instanceName: 'order-1' },
      database: { url: 'postgres://db/orders' },
    });
    expect(readPaymentServiceConfig({ PORT: '8080', PAYMENT_PORT: '9000' }).port).toBe(9000);
  });

  it.each([
    ['ORDER_TIMEOUT_MS', 'soon', () => readOrderServiceConfig({ ORDER_TIMEOUT_MS: 'soon' })],
    ['ORDER_TIMEOUT_MS', '10', () => readOrderServiceConfig({ ORDER_TIMEOUT_MS: '10' })],
    ['ORDER_DUPLICATE_RATE', '1.5', () => readOrderServiceConfig({ ORDER_DUPLICATE_RATE: '1.5' })],
    ['PAYMENT_FAILURE_RATE', '-0.1', () => readPaymentServiceConfig({ PAYMENT_FAILURE_RATE: '-0.1' })],
    [
      'PAYMENT_MAX_RECONSUME_TIMES',
      '1000',
      () => readPaymentServiceConfig({ PAYMENT_MAX_RECONSUME_TIMES: '1000' }),
    ],
    ['NOTIFICATION_PORT', '70000', () => readNotificationServiceConfig({ NOTIFICATION_PORT: '70000' })],
    ['INSTANCE_NAME', 'a b', () => readNotificationServiceConfig({ INSTANCE_NAME: 'a b' })],
    ['BROKER_ADMIN_URL', 'broker:8082', () => readPaymentServiceConfig({ BROKER_ADMIN_URL: 'broker:8082' })],
  ])('refuse %s=%s with an error naming the variable', (variable, _value, read) => {
    expect(read).toThrow(SampleConfigError);
    expect(read).toThrow(variable);
  });

  it.each([
    ['order-service', ORDER_SERVICE_ENV],
    ['payment-service', PAYMENT_SERVICE_ENV],
    ['notification-service', NOTIFICATION_SERVICE_ENV],
  ])('the exported list of %s names every variable its code (and the shared code) reads', (service, list) => {
    const read = variablesReadIn([join(service, 'src'), join('shared', 'src')]);
    expect(read.size).toBeGreaterThan(3);
    const declared = new Set<string>(list);
    expect([...read].filter((name) => !declared.has(name))).toEqual([]);
  });

  it("the launcher's list covers the three services' and its own", () => {
    const read = variablesReadIn(['sample/src']);
    for (const name of read) expect(SAMPLE_ENV).toContain(name);
    for (const name of [...ORDER_SERVICE_ENV, ...PAYMENT_SERVICE_ENV, ...NOTIFICATION_SERVICE_ENV]) {
      expect(SAMPLE_ENV).toContain(name);
    }
  });
});

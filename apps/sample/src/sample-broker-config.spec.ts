import { readFileSync } from 'node:fs';
import { parseBrokerConfig } from '@rocketnest/broker/admin/broker-config-file.js';
import { sampleBrokerConfig } from './sample-broker-config.js';

const json = JSON.parse(readFileSync(new URL('../broker-config.json', import.meta.url), 'utf8')) as unknown;

describe('the sample broker config', () => {
  it('broker-config.json is the launcher config with the demo defaults (a compose broker behaves as npm start)', () => {
    expect(json).toEqual(sampleBrokerConfig());
  });

  it('is a valid built-in broker config: the payment group dead-letters after 3 retries, order-payment-result is FIFO', () => {
    const config = parseBrokerConfig(json, {});
    const payment = config.groups.find((g) => g.name === 'payment');
    expect(payment?.options.maxDeliveryAttempts).toBe(4);
    expect(config.groups.find((g) => g.name === 'order-payment-result')?.options.fifo).toBe(true);
  });
});

import { CoreHarness } from '../core/broker-core-testing.js';
import { RETRY_BACKOFF_MS } from '../core/limits.js';
import { applyBrokerConfig } from './apply-broker-config.js';
import { parseBrokerConfig } from './broker-config-file.js';
import { SpecError } from './spec-reader.js';

describe('applying the broker config to the core', () => {
  let h: CoreHarness;
  beforeEach(async () => {
    h = await CoreHarness.open();
  });
  afterEach(() => h.close());

  const config = parseBrokerConfig({
    topics: [{ name: 'orders', queueCount: 4, messageTypes: ['FIFO'] }, { name: 'audit' }],
    groups: [
      { name: 'billing', fifo: true, maxDeliveryAttempts: 3, retryBackoff: ['1s', '5s'] },
      { name: 'plain' },
    ],
  });

  it('creates what is missing, then finds everything unchanged on the next start (idempotent)', async () => {
    expect(applyBrokerConfig(h.core, config)).toEqual({
      created: ['topic orders', 'topic audit', 'group billing', 'group plain'],
      updated: [],
      unchanged: [],
    });
    const orders = h.core.getTopic('orders')!;
    expect(orders.queueCount).toBe(4);
    expect([...orders.messageTypes]).toEqual(['FIFO']);
    expect(h.core.getTopic('audit')!.queueCount).toBe(8);
    expect(h.core.getGroup('billing')).toMatchObject({
      fifo: true,
      maxDeliveryAttempts: 3,
      retryBackoffMs: [1_000, 5_000],
    });
    expect(h.core.getGroup('plain')).toMatchObject({ fifo: false, retryBackoffMs: RETRY_BACKOFF_MS });

    await h.reopen();
    expect(applyBrokerConfig(h.core, config)).toEqual({
      created: [],
      updated: [],
      unchanged: ['topic orders', 'topic audit', 'group billing', 'group plain'],
    });
  });

  it('updates only what differs and keeps the settings the file leaves out', () => {
    applyBrokerConfig(h.core, config);
    const changed = parseBrokerConfig({
      topics: [
        { name: 'orders', queueCount: 6 },
        { name: 'audit', messageTypes: ['NORMAL', 'DELAY'] },
      ],
      groups: [
        { name: 'billing', fifo: false },
        { name: 'plain', maxDeliveryAttempts: 17 },
      ],
    });
    expect(applyBrokerConfig(h.core, changed)).toEqual({
      created: [],
      updated: ['topic orders', 'topic audit', 'group billing'],
      unchanged: ['group plain'],
    });
    const orders = h.core.getTopic('orders')!;
    expect(orders.queueCount).toBe(6);
    expect([...orders.messageTypes]).toEqual(['FIFO']);
    expect([...h.core.getTopic('audit')!.messageTypes].sort()).toEqual(['DELAY', 'NORMAL']);
    expect(h.core.getGroup('billing')).toMatchObject({
      fifo: false,
      maxDeliveryAttempts: 3,
      retryBackoffMs: [1_000, 5_000],
    });
  });

  it('leaves topics and groups that the file does not list alone', () => {
    h.core.createTopic('created-by-a-client');
    applyBrokerConfig(h.core, config);
    expect(h.core.getTopic('created-by-a-client')).toBeDefined();
  });

  it('refuses a queue count that would shrink before changing anything, naming the entry', () => {
    h.core.createTopic('audit', { queueCount: 8 });
    const shrinking = parseBrokerConfig({
      topics: [{ name: 'orders' }, { name: 'audit', queueCount: 2 }],
      groups: [{ name: 'billing' }],
    });
    expect(() => applyBrokerConfig(h.core, shrinking)).toThrow(SpecError);
    expect(() => applyBrokerConfig(h.core, shrinking)).toThrow(
      /^topics\[1\]\.queueCount is 2, but topic "audit" already has 8 queues and a queue count cannot shrink/,
    );
    expect(h.core.getTopic('orders')).toBeUndefined();
    expect(h.core.getGroup('billing')).toBeUndefined();
  });
});

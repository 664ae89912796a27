import { parseDestination } from './destination.js';

describe('parseDestination', () => {
  it('reads topic and topic:tag as rocketmq-spring writes them', () => {
    expect(parseDestination('orders')).toEqual({ topic: 'orders', tag: undefined });
    expect(parseDestination('orders:created')).toEqual({ topic: 'orders', tag: 'created' });
    expect(parseDestination('orders:a:b')).toEqual({ topic: 'orders', tag: 'a:b' });
  });

  it('refuses an empty topic or tag', () => {
    for (const bad of ['', ':tag', 'orders:']) expect(() => parseDestination(bad)).toThrow(RangeError);
  });
});

import { Permission } from '@rocketnest/broker/grpc/proto-types.js';
import { NotFoundError } from '../errors.js';
import { routeOf } from '../route.js';
import { QueueSelector } from './queue-selector.js';

const route = (permissions: number[]) =>
  routeOf('t', {
    message_queues: permissions.map((permission, id) => ({
      topic: { name: 't' },
      id,
      permission,
      broker: { name: 'b', endpoints: { addresses: [{ host: 'h', port: 1 }] } },
    })),
  });

describe('QueueSelector', () => {
  it('rotates over writable queues only', () => {
    const selector = new QueueSelector();
    const r = route([Permission.READ_WRITE, Permission.READ, Permission.WRITE, Permission.READ_WRITE]);
    const picked = Array.from({ length: 6 }, () => selector.roundRobin(r).id);
    expect(new Set(picked)).toEqual(new Set([0, 2, 3]));
    expect(picked.slice(0, 3).sort()).toEqual([0, 2, 3]);
  });

  it('maps a message group to the same queue every time', () => {
    const selector = new QueueSelector();
    const r = route(Array(8).fill(Permission.READ_WRITE));
    const first = selector.forGroup(r, 'order-1').id;
    for (let i = 0; i < 10; i++) expect(selector.forGroup(r, 'order-1').id).toBe(first);
    const spread = new Set(Array.from({ length: 100 }, (_, i) => selector.forGroup(r, `g${i}`).id));
    expect(spread.size).toBeGreaterThan(4);
  });

  it('refuses a route without writable queues', () => {
    expect(() => new QueueSelector().roundRobin(route([Permission.READ]))).toThrow(NotFoundError);
  });
});

import { jest } from '@jest/globals';
import { Permission } from '@rocketnest/broker/grpc/proto-types.js';
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { NotFoundError, UnavailableError } from './errors.js';
import { MemoryLogger } from './testing/broker-fixture.js';
import { RouteCache } from './route-cache.js';
import { routeOf, type TopicRoute } from './route.js';

function routeWith(topic: string, queueCount: number, port = 8081): TopicRoute {
  return routeOf(topic, {
    message_queues: Array.from({ length: queueCount }, (_, id) => ({
      topic: { name: topic },
      id,
      permission: Permission.READ_WRITE,
      broker: { name: 'b', id: 0, endpoints: { addresses: [{ host: '127.0.0.1', port }] } },
      accept_message_types: [1, 2, 3, 4],
    })),
  });
}

describe('RouteCache', () => {
  const caches: RouteCache[] = [];
  afterEach(() => caches.splice(0).forEach((c) => c.close()));
  const make = (
    fetch: (topic: string) => Promise<TopicRoute>,
    onRoute = jest.fn(),
    logger = new MemoryLogger(),
  ) => {
    const cache = new RouteCache({ fetch, onRoute, logger, refreshIntervalMs: 20 });
    caches.push(cache);
    return { cache, onRoute, logger };
  };

  it('fetches once for concurrent callers and serves the cache afterwards', async () => {
    const fetch = jest.fn(async (topic: string) => routeWith(topic, 2));
    const { cache, onRoute } = make(fetch);
    const [a, b] = await Promise.all([cache.get('t'), cache.get('t')]);
    expect(a).toBe(b);
    expect(await cache.get('t')).toBe(a);
    expect(fetch).toHaveBeenCalledTimes(1);
    expect(onRoute).toHaveBeenCalledTimes(1);
  });

  it('refreshes periodically and reports a route only when it changed', async () => {
    let queues = 2;
    const { cache, onRoute } = make(async (topic) => routeWith(topic, queues));
    await cache.get('t');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(onRoute).toHaveBeenCalledTimes(1);
    queues = 4;
    await waitFor(() => onRoute.mock.calls.length === 2);
    expect(cache.peek('t')?.queues).toHaveLength(4);
  });

  it('keeps the last route when a refresh fails transiently, drops it on TOPIC_NOT_FOUND', async () => {
    let mode: 'ok' | 'down' | 'gone' = 'ok';
    const { cache, logger } = make(async (topic) => {
      if (mode === 'down') throw new UnavailableError('down');
      if (mode === 'gone') throw new NotFoundError(StatusCode.TOPIC_NOT_FOUND, 'gone');
      return routeWith(topic, 1);
    });
    await cache.get('t');
    mode = 'down';
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(cache.peek('t')).toBeDefined();
    mode = 'gone';
    await waitFor(() => cache.peek('t') === undefined);
    expect(logger.at('warn').join()).toMatch(/no longer exists/);
  });

  it('does not cache a failed first fetch', async () => {
    let fail = true;
    const { cache } = make(async (topic) => {
      if (fail) throw new UnavailableError('down');
      return routeWith(topic, 1);
    });
    await expect(cache.get('t')).rejects.toBeInstanceOf(UnavailableError);
    fail = false;
    await expect(cache.get('t')).resolves.toBeDefined();
  });
});

async function waitFor(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

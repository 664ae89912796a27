/**
 * Routes by topic: fetched once on first use (concurrent callers share one QueryRoute), then
 * refreshed every 30 s (the official clients' cadence) so that added queues, moved brokers and
 * permission changes reach the producer and consumers without a restart. A failed refresh keeps the
 * last good route (a broker restart must not stop sends that would succeed a second later); a topic
 * whose refresh says TOPIC_NOT_FOUND is dropped, so its next use fails as it should.
 */
import { StatusCode } from '@rocketnest/broker/status-code.js';
import { RocketMQClientError } from './errors.js';
import { type ClientLogger } from './logger.js';
import { sameRoute, type TopicRoute } from './route.js';

/** The official clients' route refresh period. */
export const ROUTE_REFRESH_INTERVAL_MS = 30_000;

export interface RouteCacheOptions {
  /** One QueryRoute (with its own deadline). */
  readonly fetch: (topic: string) => Promise<TopicRoute>;
  /** A route seen for the first time or changed. */
  readonly onRoute: (route: TopicRoute) => void;
  readonly logger: ClientLogger;
  readonly refreshIntervalMs?: number;
}

export class RouteCache {
  readonly #options: RouteCacheOptions;
  readonly #routes = new Map<string, TopicRoute>();
  readonly #inFlight = new Map<string, Promise<TopicRoute>>();
  #timer: NodeJS.Timeout | undefined;
  #refreshing = false;
  #closed = false;

  constructor(options: RouteCacheOptions) {
    this.#options = options;
    const interval = options.refreshIntervalMs ?? ROUTE_REFRESH_INTERVAL_MS;
    this.#timer = setInterval(() => void this.refreshAll(), interval);
    // The refresh alone must never keep a process alive.
    this.#timer.unref();
  }

  /** The cached route, if any (no call). */
  peek(topic: string): TopicRoute | undefined {
    return this.#routes.get(topic);
  }

  /** Every cached route. */
  all(): TopicRoute[] {
    return [...this.#routes.values()];
  }

  /** The route of `topic`, from the cache or one QueryRoute shared by concurrent callers. */
  get(topic: string): Promise<TopicRoute> {
    const cached = this.#routes.get(topic);
    if (cached) return Promise.resolve(cached);
    return this.#load(topic);
  }

  #load(topic: string): Promise<TopicRoute> {
    const pending = this.#inFlight.get(topic);
    if (pending) return pending;
    const loading = this.#options
      .fetch(topic)
      .then((route) => {
        if (!this.#closed) this.#store(route);
        return route;
      })
      .finally(() => this.#inFlight.delete(topic));
    this.#inFlight.set(topic, loading);
    return loading;
  }

  #store(route: TopicRoute): void {
    const previous = this.#routes.get(route.topic);
    this.#routes.set(route.topic, route);
    if (!previous || !sameRoute(previous, route)) this.#options.onRoute(route);
  }

  /** Re-fetches every cached route (the periodic task; also callable after a reconnect command). */
  async refreshAll(): Promise<void> {
    if (this.#refreshing || this.#closed) return;
    this.#refreshing = true;
    try {
      await Promise.all(
        [...this.#routes.keys()].map(async (topic) => {
          try {
            await this.#load(topic);
          } catch (err) {
            if (err instanceof RocketMQClientError && err.code === StatusCode.TOPIC_NOT_FOUND) {
              this.#routes.delete(topic);
              this.#options.logger.warn(`topic ${topic} no longer exists; its route is dropped`);
            } else {
              this.#options.logger.debug(
                `route refresh of ${topic} failed, keeping the last one: ${String(err)}`,
              );
            }
          }
        }),
      );
    } finally {
      this.#refreshing = false;
    }
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
  }
}

/**
 * The admin API's routing: `METHOD /path/:param` patterns, percent-decoded path parameters (a DLQ
 * topic is `/topics/%25DLQ%25billing`), strict query parameters, and the 404 / 405 answers.
 */
import { StatusCode } from '../status-code.js';
import { AdminHttpError } from './admin-http-errors.js';

export type AdminMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface AdminRequest {
  /** Path parameters by name, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  readonly query: URLSearchParams;
  /** The JSON body, or undefined when there is none. */
  body(): Promise<unknown>;
}

export interface AdminAnswer {
  readonly status: number;
  /** JSON-serializable; omitted for 204. */
  readonly body?: unknown;
}

export interface AdminRoute {
  readonly method: AdminMethod;
  /** `/groups/:group/lag`: literal segments and `:name` parameters. */
  readonly path: string;
  /** Query parameters the route reads; any other is refused (a typo must not be ignored). */
  readonly query?: readonly string[];
  /** Reachable without the admin token (health checks). */
  readonly public?: boolean;
  handle(request: AdminRequest): AdminAnswer | Promise<AdminAnswer>;
}

export interface RouteMatch {
  readonly route: AdminRoute;
  readonly params: Readonly<Record<string, string>>;
}

function segmentsOf(path: string): string[] {
  const trimmed = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
  return trimmed.split('/').slice(1);
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new AdminHttpError(
      400,
      StatusCode.BAD_REQUEST,
      `bad percent-encoding in the path: ${JSON.stringify(segment)}`,
    );
  }
}

export class AdminRouter {
  readonly #routes: { route: AdminRoute; segments: string[] }[];

  constructor(routes: readonly AdminRoute[]) {
    this.#routes = routes.map((route) => ({ route, segments: segmentsOf(route.path) }));
  }

  /**
   * The route for `method` and the raw (still percent-encoded) `pathname`.
   * @throws AdminHttpError 404 (no route has this path), 405 (other methods only, with `Allow`),
   *   400 (bad percent-encoding)
   */
  match(method: string, pathname: string): RouteMatch {
    const given = segmentsOf(pathname);
    const allowed: string[] = [];
    for (const { route, segments } of this.#routes) {
      const params = matchSegments(segments, given);
      if (!params) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length === 0) {
      throw new AdminHttpError(404, StatusCode.NOT_FOUND, `no admin route ${JSON.stringify(pathname)}`);
    }
    throw new AdminHttpError(
      405,
      StatusCode.BAD_REQUEST,
      `${method} is not allowed on ${pathname} (allowed: ${allowed.join(', ')})`,
      { allow: allowed.join(', ') },
    );
  }
}

function matchSegments(
  pattern: readonly string[],
  given: readonly string[],
): Record<string, string> | undefined {
  if (pattern.length !== given.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i]!;
    const g = given[i]!;
    if (p.startsWith(':')) {
      if (g === '') return undefined;
      params[p.slice(1)] = decode(g);
    } else if (p !== g) return undefined;
  }
  return params;
}

/**
 * @throws AdminHttpError 400 for a query parameter the route does not read, or one given twice
 */
export function checkQuery(query: URLSearchParams, allowed: readonly string[]): void {
  const seen = new Set<string>();
  for (const key of query.keys()) {
    if (!allowed.includes(key)) {
      throw new AdminHttpError(
        400,
        StatusCode.BAD_REQUEST,
        `unknown query parameter ${JSON.stringify(key)} (allowed here: ${allowed.join(', ') || 'none'})`,
      );
    }
    if (seen.has(key)) {
      throw new AdminHttpError(
        400,
        StatusCode.BAD_REQUEST,
        `query parameter ${JSON.stringify(key)} is given twice`,
      );
    }
    seen.add(key);
  }
}

/** A query parameter, or undefined. @throws AdminHttpError 400 when `required` and missing or empty */
export function queryText(query: URLSearchParams, key: string, required: true): string;
export function queryText(query: URLSearchParams, key: string, required?: false): string | undefined;
export function queryText(query: URLSearchParams, key: string, required = false): string | undefined {
  const value = query.get(key);
  if (value === null || value === '') {
    if (required)
      throw new AdminHttpError(
        400,
        StatusCode.BAD_REQUEST,
        `query parameter ${JSON.stringify(key)} is required`,
      );
    return undefined;
  }
  return value;
}

/** An integer query parameter in min..max, `fallback` when absent. @throws AdminHttpError 400 */
export function queryInteger(
  query: URLSearchParams,
  key: string,
  min: number,
  max: number,
  fallback: number,
): number {
  const text = queryText(query, key);
  if (text === undefined) return fallback;
  const n = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new AdminHttpError(
      400,
      StatusCode.BAD_REQUEST,
      `query parameter ${JSON.stringify(key)} must be an integer ${min}..${max}, got ${JSON.stringify(text)}`,
    );
  }
  return n;
}

/** `true` / `false` query parameter, `fallback` when absent. @throws AdminHttpError 400 */
export function queryBoolean(query: URLSearchParams, key: string, fallback: boolean): boolean {
  const text = queryText(query, key);
  if (text === undefined) return fallback;
  if (text === 'true' || text === 'false') return text === 'true';
  throw new AdminHttpError(
    400,
    StatusCode.BAD_REQUEST,
    `query parameter ${JSON.stringify(key)} must be true or false, got ${JSON.stringify(text)}`,
  );
}

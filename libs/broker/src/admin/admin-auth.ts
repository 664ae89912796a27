/**
 * Who may talk to the admin API. It can create and delete topics and move offsets, so:
 * - without a token it only listens on a loopback address (the server refuses to bind elsewhere),
 *   and even then refuses requests whose `Host` is not a loopback name: a web page that re-binds its
 *   own domain to 127.0.0.1 (DNS rebinding) would otherwise reach it from the browser;
 * - requests carrying an `Origin` header come from a browser and are refused (the API is for
 *   scripts and tools; a cross-site form POST must not delete a topic);
 * - with a token, every route but `/health` needs `Authorization: Bearer <token>`, compared in
 *   constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { StatusCode } from '../status-code.js';
import { AdminHttpError } from './admin-http-errors.js';

/** Shortest accepted admin token: a guessable token on an exposed port is no protection. */
export const MIN_ADMIN_TOKEN_LENGTH = 16;

/** `127.0.0.0/8`, `::1`, `::ffff:127.x.x.x` or the name `localhost`. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost') return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(h);
  return false;
}

/** The host part of a `Host` header: `127.0.0.1:8082` → `127.0.0.1`, `[::1]:8082` → `[::1]`. */
export function hostOfHeader(header: string): string {
  if (header.startsWith('[')) {
    const end = header.indexOf(']');
    return end < 0 ? header : header.slice(0, end + 1);
  }
  const colon = header.indexOf(':');
  return colon < 0 ? header : header.slice(0, colon);
}

/** SHA-256 first, so that tokens of different lengths compare in the same time too. */
export function tokensEqual(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * @throws RangeError for a token that is too short, or a non-loopback host without a token
 */
export function checkAdminExposure(host: string, token: string | undefined): void {
  if (token !== undefined && token.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new RangeError(`the admin token must be at least ${MIN_ADMIN_TOKEN_LENGTH} characters`);
  }
  if (token === undefined && !isLoopbackHost(host)) {
    throw new RangeError(
      `refusing to expose the admin API on ${host} without a token: ` +
        'set a token (BROKER_ADMIN_TOKEN) or bind it to a loopback address (127.0.0.1)',
    );
  }
}

export interface RequestCredentials {
  readonly host: string | undefined;
  readonly origin: string | undefined;
  readonly authorization: string | undefined;
}

/**
 * @param token undefined = no token configured (the server is then loopback-bound)
 * @param needsToken false for `/health`
 * @throws AdminHttpError 401 (no or wrong token) or 403 (browser request, foreign Host)
 */
export function authorizeRequest(
  request: RequestCredentials,
  token: string | undefined,
  needsToken: boolean,
): void {
  if (request.origin !== undefined) {
    throw new AdminHttpError(
      403,
      StatusCode.FORBIDDEN,
      'the admin API does not accept browser (cross-origin) requests',
    );
  }
  if (token === undefined) {
    if (request.host !== undefined && !isLoopbackHost(hostOfHeader(request.host))) {
      throw new AdminHttpError(
        403,
        StatusCode.FORBIDDEN,
        'the admin API is loopback-only: the Host header must name a loopback address',
      );
    }
    return;
  }
  if (!needsToken) return;
  const challenge = { 'www-authenticate': 'Bearer realm="rocketnest-broker-admin"' };
  const match = /^Bearer +(\S+) *$/i.exec(request.authorization ?? '');
  if (!match) {
    throw new AdminHttpError(
      401,
      StatusCode.UNAUTHORIZED,
      'missing "Authorization: Bearer <token>"',
      challenge,
    );
  }
  if (!tokensEqual(match[1]!, token)) {
    throw new AdminHttpError(401, StatusCode.UNAUTHORIZED, 'wrong admin token', challenge);
  }
}

/**
 * Connection options shared by the producer and the consumers, and their validation. Everything is
 * checked once, up front, with a `RangeError`/`TypeError` naming the option, so that a typo fails at
 * start rather than as a mysterious timeout later.
 */
import { type ChannelCredentials, type Interceptor } from '@grpc/grpc-js';
import { checkNamespace } from '@rocketnest/broker/grpc/namespace.js';
import { clientErrorOf } from './errors.js';
import { consoleLogger, type ClientLogger } from './logger.js';

/** RocketMQ 5 proxy's gRPC port: used when an endpoint names no port. */
export const DEFAULT_PORT = 8081;
/** Deadline of every unary call: the official clients' `requestTimeout`, 3 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 3_000;
/** How long `connect()` / `start()` may take before failing with StartupTimeoutError. */
export const DEFAULT_STARTUP_TIMEOUT_MS = 10_000;
/** The official clients' lower bound on `requestTimeout`. */
export const MIN_REQUEST_TIMEOUT_MS = 100;

export interface SessionCredentials {
  readonly accessKey: string;
  readonly secretKey: string;
  /** Sent as `x-mq-session-token` (temporary credentials, STS). */
  readonly securityToken?: string;
}

export interface ClientOptions {
  /**
   * The access point: `host:port`, several separated by `,` or `;` (tried in order for routes). A
   * missing port means 8081. IPv6 literals in brackets: `[::1]:8081`.
   */
  readonly endpoints: string;
  /** RocketMQ namespace (`x-mq-namespace`, and `resource_namespace` of every resource). */
  readonly namespace?: string;
  /** Access key and secret: every call is signed (HMAC-SHA1 of `x-mq-date-time`). */
  readonly credentials?: SessionCredentials;
  /** `true`: TLS with the system's roots; or grpc-js credentials of your own. Default plaintext. */
  readonly tls?: boolean | ChannelCredentials;
  /** Deadline of each unary call. Default 3 s. */
  readonly requestTimeoutMs?: number;
  /** Bound on `connect()` / `start()`. Default 10 s. */
  readonly startupTimeoutMs?: number;
  readonly logger?: ClientLogger;
  /** grpc-js interceptors on every call (tracing, metrics, tests). */
  readonly interceptors?: readonly Interceptor[];
}

export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** `host:port` (`[v6]:port`): the key of its channel. */
  readonly address: string;
}

/** Resolved options: defaults applied, endpoints parsed. */
export interface ResolvedClientOptions {
  readonly endpoints: readonly Endpoint[];
  readonly namespace: string;
  readonly credentials: SessionCredentials | undefined;
  readonly tls: boolean | ChannelCredentials;
  readonly requestTimeoutMs: number;
  readonly startupTimeoutMs: number;
  readonly logger: ClientLogger;
  readonly interceptors: readonly Interceptor[];
}

/** `host:port` of a host (brackets around an IPv6 literal) and port. */
export function formatAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/**
 * One `host[:port]` (or `[v6][:port]`).
 * @throws RangeError for an empty host or a port outside 1..65535
 */
export function parseEndpoint(text: string): Endpoint {
  const trimmed = text.trim();
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  if (bracketed) {
    host = bracketed[1]!;
    portText = bracketed[2];
  } else {
    const colon = trimmed.lastIndexOf(':');
    if (colon >= 0 && trimmed.indexOf(':') === colon) {
      host = trimmed.slice(0, colon);
      portText = trimmed.slice(colon + 1);
    } else if (colon >= 0) {
      throw new RangeError(`endpoint ${JSON.stringify(text)}: put an IPv6 address in brackets, [::1]:8081`);
    } else {
      host = trimmed;
    }
  }
  // A scheme prefix (http://, grpc://) is a common slip; the endpoint is a plain address.
  if (host === '' || /[\s/]/.test(host)) {
    throw new RangeError(`endpoint ${JSON.stringify(text)} needs a host, as in 127.0.0.1:8081`);
  }
  const port = portText === undefined ? DEFAULT_PORT : Number(portText);
  if (
    !Number.isInteger(port) ||
    port < 1 ||
    port > 65_535 ||
    (portText !== undefined && !/^\d+$/.test(portText))
  ) {
    throw new RangeError(`endpoint ${JSON.stringify(text)}: the port must be 1..65535`);
  }
  return { host, port, address: formatAddress(host, port) };
}

/**
 * `"host:port[,host:port]"` (`;` works too, as in the Java client), duplicates dropped.
 * @throws RangeError when empty or when one entry is malformed
 */
export function parseEndpoints(text: string): Endpoint[] {
  if (typeof text !== 'string' || text.trim() === '') {
    throw new RangeError('endpoints must be "host:port", several separated by ","');
  }
  const seen = new Set<string>();
  const endpoints: Endpoint[] = [];
  for (const part of text.split(/[,;]/)) {
    if (part.trim() === '') continue;
    const endpoint = parseEndpoint(part);
    if (seen.has(endpoint.address)) continue;
    seen.add(endpoint.address);
    endpoints.push(endpoint);
  }
  if (endpoints.length === 0) throw new RangeError('endpoints must name at least one host:port');
  return endpoints;
}

function positiveMs(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new RangeError(`${name} must be a number of milliseconds ≥ ${min}, got ${String(value)}`);
  }
  return value;
}

/**
 * Options with defaults applied.
 * @throws RangeError / TypeError naming the bad option
 */
export function resolveClientOptions(options: ClientOptions): ResolvedClientOptions {
  if (typeof options !== 'object' || options === null) throw new TypeError('client options are required');
  const endpoints = parseEndpoints(options.endpoints);
  let namespace = options.namespace ?? '';
  try {
    namespace = checkNamespace(namespace);
  } catch (err) {
    throw new RangeError(`namespace: ${clientErrorOf(err).message}`, { cause: err });
  }
  const credentials = options.credentials;
  if (credentials !== undefined) {
    if (typeof credentials.accessKey !== 'string' || credentials.accessKey.trim() === '') {
      throw new RangeError('credentials.accessKey must be a non-empty string');
    }
    if (typeof credentials.secretKey !== 'string' || credentials.secretKey === '') {
      throw new RangeError('credentials.secretKey must be a non-empty string');
    }
  }
  const interceptors = options.interceptors ?? [];
  if (!Array.isArray(interceptors) || !interceptors.every((i) => typeof i === 'function')) {
    throw new TypeError('interceptors must be a list of grpc-js interceptor functions');
  }
  return {
    endpoints,
    namespace,
    credentials,
    tls: options.tls ?? false,
    requestTimeoutMs: positiveMs(
      'requestTimeoutMs',
      options.requestTimeoutMs,
      DEFAULT_REQUEST_TIMEOUT_MS,
      MIN_REQUEST_TIMEOUT_MS,
    ),
    startupTimeoutMs: positiveMs('startupTimeoutMs', options.startupTimeoutMs, DEFAULT_STARTUP_TIMEOUT_MS),
    logger: options.logger ?? consoleLogger,
    interceptors,
  };
}

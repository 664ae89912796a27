/**
 * The built-in broker's HTTP admin API (the RocketMQ gRPC protocol has none): JSON over node:http,
 * loopback-only unless a token protects it (admin-auth.ts). Routes: health-route.ts,
 * topic-routes.ts, group-routes.ts, message-routes.ts, dead-letter-routes.ts.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type BrokerCoreLogger } from '../core/broker-core-types.js';
import { type AdminCore } from './admin-core.js';
import { authorizeRequest, checkAdminExposure } from './admin-auth.js';
import { errorAnswer } from './admin-http-errors.js';
import { ADMIN_MAX_BODY_BYTES, readJsonBody, sendJson } from './admin-http-io.js';
import { AdminRouter, checkQuery, type AdminRoute, type RouteMatch } from './admin-router.js';
import { deadLetterRoutes } from './dead-letter-routes.js';
import { groupRoutes } from './group-routes.js';
import { healthRoutes } from './health-route.js';
import { messageRoutes } from './message-routes.js';
import { topicRoutes } from './topic-routes.js';

/** The admin port by default: next to the gRPC port 8081 (RocketMQ proxy's), clear of RocketMQ's own. */
export const DEFAULT_ADMIN_PORT = 8082;
export const DEFAULT_ADMIN_HOST = '127.0.0.1';
/** A request must arrive completely within this time (slow-loris bound). */
export const ADMIN_REQUEST_TIMEOUT_MS = 30_000;
/** How long `close()` lets requests under way finish before cutting their connections. */
export const ADMIN_CLOSE_GRACE_MS = 2_000;

export interface AdminHttpServerOptions {
  readonly core: AdminCore;
  /** Default 127.0.0.1; any other than a loopback address needs `token`. */
  readonly host?: string;
  /** Default 8082; 0 = ephemeral. */
  readonly port?: number;
  /** `Authorization: Bearer <token>` required on every route but /health; ≥ 16 characters. */
  readonly token?: string;
  /** Default 1 MiB. */
  readonly maxBodyBytes?: number;
  readonly logger?: BrokerCoreLogger;
}

export function adminRoutes(core: AdminCore): AdminRoute[] {
  return [
    ...healthRoutes(core),
    ...topicRoutes(core),
    ...groupRoutes(core),
    ...deadLetterRoutes(core),
    ...messageRoutes(core),
  ];
}

const consoleLogger: BrokerCoreLogger = {
  log: (m) => console.log(`[broker-admin] ${m}`),
  warn: (m) => console.warn(`[broker-admin] ${m}`),
  error: (m) => console.error(`[broker-admin] ${m}`),
};

export class AdminHttpServer {
  readonly #host: string;
  readonly #port: number;
  readonly #token: string | undefined;
  readonly #maxBodyBytes: number;
  readonly #logger: BrokerCoreLogger;
  readonly #router: AdminRouter;
  readonly #server: Server;
  #address: { host: string; port: number } | undefined;
  #closing: Promise<void> | undefined;

  /** @throws RangeError for a non-loopback host without a token, a short token or a bad port */
  constructor(options: AdminHttpServerOptions) {
    this.#host = options.host ?? DEFAULT_ADMIN_HOST;
    this.#port = options.port ?? DEFAULT_ADMIN_PORT;
    if (!Number.isInteger(this.#port) || this.#port < 0 || this.#port > 65535) {
      throw new RangeError(`admin port ${String(options.port)} is not a port number`);
    }
    this.#token = options.token === '' ? undefined : options.token;
    checkAdminExposure(this.#host, this.#token);
    this.#maxBodyBytes = options.maxBodyBytes ?? ADMIN_MAX_BODY_BYTES;
    this.#logger = options.logger ?? consoleLogger;
    this.#router = new AdminRouter(adminRoutes(options.core));
    this.#server = createServer({ requestTimeout: ADMIN_REQUEST_TIMEOUT_MS }, (req, res) => {
      void this.#handle(req, res);
    });
  }

  /**
   * Binds; resolves with the bound address (the real port when 0 was asked).
   * @throws Error naming the address when it cannot bind (EADDRINUSE, EACCES, …)
   */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException): void => {
        reject(
          new Error(
            `the admin API cannot listen on ${this.#host}:${this.#port}: ` +
              (err.code === 'EADDRINUSE' ? 'the port is in use' : err.message),
            { cause: err },
          ),
        );
      };
      this.#server.once('error', onError);
      this.#server.listen({ host: this.#host, port: this.#port }, () => {
        this.#server.off('error', onError);
        this.#server.on('error', (err) => this.#logger.error(`admin server error: ${err.message}`));
        const bound = this.#server.address() as AddressInfo;
        this.#address = { host: this.#host, port: bound.port };
        resolve(this.#address);
      });
    });
  }

  get address(): { host: string; port: number } | undefined {
    return this.#address;
  }

  /** Stops accepting connections, lets requests under way finish (bounded), then cuts the rest. */
  close(graceMs = ADMIN_CLOSE_GRACE_MS): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      if (!this.#server.listening) {
        resolve();
        return;
      }
      const cut = setTimeout(() => this.#server.closeAllConnections(), graceMs);
      this.#server.close(() => {
        clearTimeout(cut);
        resolve();
      });
      this.#server.closeIdleConnections();
    });
    return this.#closing;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // Closing: answer, then drop the connection instead of keeping it alive.
    res.on('finish', () => {
      if (this.#closing) req.socket.end();
    });
    try {
      const url = new URL(req.url ?? '/', 'http://admin.invalid');
      let match: RouteMatch | undefined;
      let noRoute: unknown;
      try {
        match = this.#router.match(req.method ?? 'GET', url.pathname);
      } catch (err) {
        noRoute = err;
      }
      // Authorization first: without the token, no answer tells which routes exist.
      authorizeRequest(
        { host: req.headers.host, origin: req.headers.origin, authorization: req.headers.authorization },
        this.#token,
        match?.route.public !== true,
      );
      if (!match) throw noRoute;
      const { route, params } = match;
      checkQuery(url.searchParams, route.query ?? []);
      const answer = await route.handle({
        params,
        query: url.searchParams,
        body: () => readJsonBody(req, this.#maxBodyBytes),
      });
      sendJson(res, answer.status, answer.body);
    } catch (err) {
      const answer = errorAnswer(err);
      if (answer.httpStatus >= 500 && answer.httpStatus !== 501 && answer.httpStatus !== 503) {
        this.#logger.error(
          `${req.method} ${req.url} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
        );
      }
      if (!res.headersSent) sendJson(res, answer.httpStatus, answer.body, answer.headers);
      else res.destroy();
    }
  }
}

/**
 * Test fixture for the admin API: a real BrokerCore (CoreHarness, manual clock) behind a real
 * AdminHttpServer on an ephemeral loopback port, and a small HTTP client that returns status,
 * headers and parsed JSON.
 */
import { request as httpRequest } from 'node:http';
import { CoreHarness } from '../core/broker-core-testing.js';
import { type AdminCore } from './admin-core.js';
import { AdminHttpServer, type AdminHttpServerOptions } from './admin-http-server.js';

export interface AdminReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Parsed JSON, or undefined for an empty body. */
  readonly json: unknown;
  readonly text: string;
}

export interface AdminCall {
  readonly body?: unknown;
  /** Sent as is (no JSON encoding), with `contentType`. */
  readonly rawBody?: string | Buffer;
  readonly contentType?: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly token?: string;
}

/** One HTTP request with node:http (no Origin, exact control over Host and body). */
export function adminRequest(
  address: { host: string; port: number },
  method: string,
  path: string,
  call: AdminCall = {},
): Promise<AdminReply> {
  const body =
    call.rawBody !== undefined
      ? Buffer.from(call.rawBody)
      : call.body === undefined
        ? undefined
        : Buffer.from(JSON.stringify(call.body));
  const headers: Record<string, string> = { ...call.headers };
  if (body !== undefined) {
    headers['content-type'] ??= call.contentType ?? 'application/json';
    headers['content-length'] = String(body.length);
  }
  if (call.token !== undefined) headers.authorization = `Bearer ${call.token}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: address.host, port: address.port, method, path, headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            json: text === '' ? undefined : (JSON.parse(text) as unknown),
            text,
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

export class AdminHarness {
  private constructor(
    readonly h: CoreHarness,
    readonly server: AdminHttpServer,
    readonly address: { host: string; port: number },
  ) {}

  /** `wrap` may put something in front of the core (a stand-in browseQueue, a failing method). */
  static async open(
    options: Omit<AdminHttpServerOptions, 'core'> = {},
    wrap: (core: AdminCore) => AdminCore = (core) => core,
  ): Promise<AdminHarness> {
    const h = await CoreHarness.open();
    const server = new AdminHttpServer({
      host: '127.0.0.1',
      port: 0,
      logger: h.logger,
      ...options,
      core: wrap(h.core),
    });
    return new AdminHarness(h, server, await server.listen());
  }

  call(method: string, path: string, call?: AdminCall): Promise<AdminReply> {
    return adminRequest(this.address, method, path, call);
  }

  async close(): Promise<void> {
    await this.server.close();
    await this.h.close();
  }
}

/** `core` with some members replaced (methods of the real core stay bound to it). */
export function withOverrides(
  core: AdminCore,
  overrides: Partial<Record<keyof AdminCore, unknown>>,
): AdminCore {
  return new Proxy(core, {
    get(target, key) {
      if (Object.hasOwn(overrides, key)) return (overrides as Record<string | symbol, unknown>)[key];
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
    has(target, key) {
      return Object.hasOwn(overrides, key) || Reflect.has(target, key);
    },
  }) as AdminCore;
}

/**
 * A loopback TCP proxy in front of Postgres, to make it unreachable on demand: `cut()` drops every
 * open connection (their next statement, or a COMMIT in flight, gets no answer), `refuse()` also
 * stops accepting new ones, and `pause()` holds every byte in both directions until `resume()` (a
 * consumer frozen in a long GC pause or a partition that heals).
 */
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpProxy {
  /** The proxy's port on 127.0.0.1. */
  readonly port: number;
  /** Destroys every open connection (both sides); new ones are still accepted. */
  cut(): void;
  /** `cut()`, and new connections are refused from now on. */
  refuse(): Promise<void>;
  /** Holds all traffic (nothing is lost) until `resume()`. */
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function startTcpProxy(targetHost: string, targetPort: number): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  const held: Array<() => void> = [];
  let paused = false;
  const forward = (from: Socket, to: Socket): void => {
    from.on('data', (chunk) => {
      if (paused) held.push(() => to.write(chunk));
      else to.write(chunk);
    });
    from.on('end', () => to.end());
  };
  const server: Server = createServer((client) => {
    const upstream = createConnection({ host: targetHost, port: targetPort });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => undefined); // a cut connection errors on the other side; expected
    }
    forward(client, upstream);
    forward(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const cut = (): void => {
    held.length = 0;
    for (const s of sockets) s.destroy();
  };
  let closed = false;
  const close = async (): Promise<void> => {
    cut();
    if (closed) return;
    closed = true;
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return {
    port,
    cut,
    refuse: close,
    close,
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      for (const write of held.splice(0)) write();
    },
  };
}

/** `url` with its port replaced by `port` (to route a DataSource through the proxy). */
export function viaPort(url: string, port: number): string {
  const u = new URL(url);
  u.port = String(port);
  return u.toString();
}

/** The port of a postgres URL (5432 when it has none). */
export function portOf(url: string): number {
  return Number(new URL(url).port || 5432);
}

/**
 * The gRPC server's TCP listener: every accepted socket gets TCP_NODELAY before grpc-js sees it.
 *
 * grpc-js's own listener (`Server.bindAsync`) leaves Nagle's algorithm on for accepted sockets (its
 * client side turns it off, as gRPC's C core and Netty do on both sides). With Nagle on, a small
 * write made while an earlier one is still unacknowledged waits for the peer's ACK, which a
 * delayed-ACK peer holds for up to 40 ms: a Send receipt, or a ReceiveMessage frame written after
 * its batch, sits in the kernel. On this machine's loopback ACKs come quickly, so the effect is
 * small and inside the noise: at a fixed 1k msg/s (peer bench W3, 4 interleaved pairs) e2e p50
 * went from 7.1–13.1 ms (median 10.8) to 8.1–11.0 (8.8) and p99 from 53–78 (67) to 48–72 (52).
 * So the server listens here and hands each socket to grpc-js through its public connection
 * injector.
 *
 * Like `bindAsync`, a host name is bound on every address it resolves to (`localhost` → 127.0.0.1
 * and ::1), all on one port (the first bound address's, when port 0 asks for any); listening fails
 * only when no address can be bound.
 */
import { lookup } from 'node:dns/promises';
import { createServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';

export interface TcpListener {
  /** The bound port (the real one when 0 was asked). */
  readonly port: number;
  /** Stops accepting; resolves once every accepted socket has closed or `destroyAll` cut it. */
  close(): Promise<void>;
  /** Cuts every socket still open (after the grace of a shutdown). */
  destroyAll(): void;
}

/**
 * Listens on `host:port` (a host name on each of its addresses) and passes every accepted socket,
 * with TCP_NODELAY, to `accept`.
 * @throws the listen error of the first address when none can be bound (EADDRINUSE, EACCES, …)
 */
export async function listenTcp(
  host: string,
  port: number,
  accept: (socket: Socket) => void,
): Promise<TcpListener> {
  const addresses = await addressesOf(host);
  const sockets = new Set<Socket>();
  const servers: NetServer[] = [];
  const onConnection = (socket: Socket): void => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    accept(socket);
  };
  let boundPort = port;
  let firstError: unknown;
  for (const address of addresses) {
    const server = createServer({ noDelay: true, keepAlive: true }, onConnection);
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen({ host: address, port: boundPort }, () => {
          server.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      firstError ??= err;
      continue;
    }
    servers.push(server);
    boundPort = (server.address() as AddressInfo).port;
  }
  if (servers.length === 0) throw firstError;
  return {
    port: boundPort,
    close: () => Promise.all(servers.map(closeServer)).then(() => undefined),
    destroyAll: () => {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** The addresses to bind: literals and wildcards as they are, a name as every address it resolves to. */
async function addressesOf(host: string): Promise<string[]> {
  const bare = host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
  if (bare === '') return ['::'];
  const resolved = await lookup(bare, { all: true });
  return [...new Set(resolved.map((a) => a.address))];
}

/** Closes a net server whether or not it got to listen. */
function closeServer(server: NetServer): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) {
      resolve();
      return;
    }
    server.close(() => resolve());
  });
}

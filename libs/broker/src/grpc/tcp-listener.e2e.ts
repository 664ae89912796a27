import { lookup } from 'node:dns/promises';
import { createServer, connect, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import { listenTcp, type TcpListener } from './tcp-listener.js';

/** Node's own record of TCP_NODELAY on a socket (set with the option before the socket is handed over). */
function noDelayOf(socket: Socket): unknown {
  const key = Object.getOwnPropertySymbols(socket).find((s) => String(s) === 'Symbol(kSetNoDelay)');
  return key === undefined ? undefined : (socket as unknown as Record<symbol, unknown>)[key];
}

/** Connects and resolves once the listener has accepted the socket. */
async function connected(host: string, port: number, accepted: Promise<Socket>): Promise<Socket> {
  const client = connect({ host, port });
  client.on('error', () => undefined);
  await accepted;
  return client;
}

describe('listenTcp (the gRPC server listener)', () => {
  let listener: TcpListener | undefined;
  afterEach(async () => {
    listener?.destroyAll();
    await listener?.close();
    listener = undefined;
  });

  it('hands every accepted socket over with TCP_NODELAY, on the port it reports', async () => {
    let onAccept!: (socket: Socket) => void;
    const accepted = new Promise<Socket>((resolve) => (onAccept = resolve));
    listener = await listenTcp('127.0.0.1', 0, onAccept);
    expect(listener.port).toBeGreaterThan(0);
    const client = await connected('127.0.0.1', listener.port, accepted);
    expect(noDelayOf(await accepted)).toBe(true);
    client.destroy();
  });

  it('binds a host name on each address it resolves to, one port for all', async () => {
    const seen: string[] = [];
    listener = await listenTcp('localhost', 0, (socket) => {
      seen.push(socket.localAddress ?? '?');
      socket.destroy();
    });
    const addresses = [...new Set((await lookup('localhost', { all: true })).map((a) => a.address))];
    for (const address of addresses) {
      const client = connect({ host: address, port: listener.port });
      await new Promise<void>((resolve, reject) => {
        client.once('close', () => resolve());
        client.once('error', reject);
      });
    }
    expect(seen.sort()).toEqual(addresses.map((a) => a.replace(/^::ffff:/, '')).sort());
  });

  it('refuses a busy port with the listen error', async () => {
    const busy: NetServer = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    const port = (busy.address() as AddressInfo).port;
    try {
      await expect(listenTcp('127.0.0.1', port, () => undefined)).rejects.toMatchObject({
        code: 'EADDRINUSE',
      });
    } finally {
      await new Promise((resolve) => busy.close(resolve));
    }
  });

  it('refuses a host that does not resolve', async () => {
    await expect(listenTcp('no-such-host.invalid', 0, () => undefined)).rejects.toMatchObject({
      code: expect.stringMatching(/ENOTFOUND|EAI_AGAIN/),
    });
  });

  it('stops accepting on close and resolves once destroyAll cut the sockets still open', async () => {
    let onAccept!: (socket: Socket) => void;
    const accepted = new Promise<Socket>((resolve) => (onAccept = resolve));
    const opened = await listenTcp('127.0.0.1', 0, onAccept);
    const client = await connected('127.0.0.1', opened.port, accepted);
    const clientClosed = new Promise<void>((resolve) => client.once('close', () => resolve()));
    let closed = false;
    const closing = opened.close().then(() => (closed = true));
    // A new connection is refused at once, while the open one keeps the close pending.
    const refused = connect({ host: '127.0.0.1', port: opened.port });
    await expect(
      new Promise((resolve, reject) => {
        refused.once('connect', resolve);
        refused.once('error', reject);
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(closed).toBe(false);
    opened.destroyAll();
    await closing;
    await clientClosed;
    expect(closed).toBe(true);
  });
});

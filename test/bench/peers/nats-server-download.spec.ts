import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cachedNatsServerPath,
  isExecutable,
  pinnedNatsServer,
  versionAtLeast,
  type NatsServerPin,
} from './nats-server-download.js';

/** A .deb holding an executable usr/sbin/nats-server script, built with dpkg-deb as Debian's are. */
function buildFakeDeb(dir: string): Buffer {
  const root = join(dir, 'pkg');
  mkdirSync(join(root, 'DEBIAN'), { recursive: true });
  mkdirSync(join(root, 'usr', 'sbin'), { recursive: true });
  writeFileSync(
    join(root, 'DEBIAN', 'control'),
    'Package: fake-nats-server\nVersion: 9.9.9\nArchitecture: amd64\nMaintainer: test <t@example.org>\nDescription: test\n',
  );
  const binary = join(root, 'usr', 'sbin', 'nats-server');
  writeFileSync(binary, '#!/bin/sh\necho "nats-server: v9.9.9"\n');
  chmodSync(binary, 0o755);
  const deb = join(dir, 'fake.deb');
  const built = spawnSync('dpkg-deb', ['--build', root, deb], { encoding: 'utf8' });
  if (built.status !== 0) throw new Error(`dpkg-deb --build failed: ${built.stderr}`);
  return readFileSync(deb);
}

describe('the D1 JetStream nats-server download', () => {
  let dir: string;
  let server: Server;
  let base: string;
  let deb: Buffer;
  let requests = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rocketnest-nats-download-'));
    deb = buildFakeDeb(dir);
    server = createServer((req, res) => {
      requests++;
      if (req.url === '/nats.deb') res.writeHead(200).end(deb);
      else res.writeHead(404).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(dir, { recursive: true, force: true });
  });

  const pinOf = (overrides: Partial<NatsServerPin>): NatsServerPin => ({
    version: '9.9.9',
    url: `${base}/nats.deb`,
    sha256: createHash('sha256').update(deb).digest('hex'),
    ...overrides,
  });

  it('compares versions by major and minor', () => {
    expect(versionAtLeast('2.10.27', 2, 10)).toBe(true);
    expect(versionAtLeast('2.9.10', 2, 10)).toBe(false);
    expect(versionAtLeast('3.0.0', 2, 10)).toBe(true);
    expect(versionAtLeast('unknown', 2, 10)).toBe(false);
  });

  it('downloads, checks and unpacks the binary once, then serves it from the cache', async () => {
    const cache = join(dir, 'cache-ok');
    const pin = pinOf({});
    const before = requests;
    const binary = await pinnedNatsServer(cache, pin);
    expect(binary).toBe(cachedNatsServerPath(cache, pin));
    expect(isExecutable(binary as string)).toBe(true);
    expect(spawnSync(binary as string, ['--version'], { encoding: 'utf8' }).stdout).toContain('v9.9.9');
    expect(await pinnedNatsServer(cache, pin)).toBe(binary);
    expect(requests - before).toBe(1);
  });

  it('refuses a package whose SHA-256 is not the pinned one, and keeps nothing', async () => {
    const cache = join(dir, 'cache-sha');
    const pin = pinOf({ sha256: '0'.repeat(64) });
    const answer = await pinnedNatsServer(cache, pin);
    expect(answer).toEqual({
      reason: expect.stringMatching(/has SHA-256 [0-9a-f]{64}, not the pinned 0{64}/),
    });
    expect(isExecutable(cachedNatsServerPath(cache, pin))).toBe(false);
  });

  it('says what the server answered when the package is gone', async () => {
    const answer = await pinnedNatsServer(join(dir, 'cache-404'), pinOf({ url: `${base}/gone.deb` }));
    expect(answer).toEqual({ reason: expect.stringMatching(/gone\.deb answered 404/) });
  });

  it('says why when nothing answers at all', async () => {
    const answer = await pinnedNatsServer(
      join(dir, 'cache-down'),
      pinOf({ url: 'http://127.0.0.1:1/x.deb' }),
    );
    expect(answer).toEqual({
      reason: expect.stringMatching(/cannot download http:\/\/127\.0\.0\.1:1\/x\.deb/),
    });
  });

  it('says why when the bytes are not a Debian package', async () => {
    const garbage = Buffer.from('not a deb');
    const cache = join(dir, 'cache-garbage');
    const garbageServer = createServer((_req, res) => res.writeHead(200).end(garbage));
    await new Promise<void>((resolve) => garbageServer.listen(0, '127.0.0.1', resolve));
    const address = garbageServer.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    try {
      const answer = await pinnedNatsServer(cache, {
        version: '9.9.8',
        url: `http://127.0.0.1:${port}/garbage.deb`,
        sha256: createHash('sha256').update(garbage).digest('hex'),
      });
      expect(answer).toEqual({ reason: expect.stringMatching(/dpkg-deb could not unpack/) });
    } finally {
      await new Promise((resolve) => garbageServer.close(resolve));
    }
  });
});

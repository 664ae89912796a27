/**
 * The D1 JetStream: a second `nats-server` of the bench's own, on its own port and temp data dir,
 * with `jetstream { sync_interval: always }` (an fsync after every write; nats-server ≥ 2.10,
 * nats-server PR #4483). The setting is verified, not assumed: the server must start with it and
 * its monitoring endpoint (/varz) must report `sync_always: true`. A server too old for the option
 * refuses the config ("unknown field"); the harness then skips the class with that reason. When
 * this machine's nats-server is older than 2.10 (Debian bookworm's is 2.9.10), the pinned Debian
 * build of 2.10 is used instead, fetched once into the bench's cache (nats-server-download.ts).
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exitOf, freePort, outputTail } from '../common/child-process.js';
import { isExecutable, pinnedNatsServer, versionAtLeast } from './nats-server-download.js';

/** How long the server may take to accept connections and answer /varz. */
const NATS_READY_TIMEOUT_MS = 20_000;
const NATS_STOP_TIMEOUT_MS = 10_000;
const NATS_POLL_MS = 100;
const OUTPUT_TAIL_CHARS = 2000;
/** Where Debian and the usual installs put the binary, after $PATH. */
const EXTRA_BIN_DIRS = ['/usr/sbin', '/usr/local/sbin', '/usr/local/bin', '/usr/bin'];

export interface NatsSyncServer {
  readonly servers: string;
  readonly pid: number;
  readonly version: string;
  stop(): Promise<void>;
}

/** The nats-server binary: $NATS_SERVER_BIN, else the first on $PATH or in the usual dirs. */
export function findNatsServer(): string | undefined {
  const candidates = [
    ...(process.env.NATS_SERVER_BIN ? [process.env.NATS_SERVER_BIN] : []),
    ...[...(process.env.PATH ?? '').split(':').filter(Boolean), ...EXTRA_BIN_DIRS].map((d) =>
      join(d, 'nats-server'),
    ),
  ];
  return candidates.find(isExecutable);
}

/** `nats-server --version` → "2.9.10". */
export function natsServerVersion(binary: string): string {
  const out = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return /v?(\d+\.\d+\.\d+\S*)/.exec(`${out.stdout}${out.stderr}`)?.[1] ?? 'unknown';
}

async function varz(monitorPort: number): Promise<unknown> {
  const response = await fetch(`http://127.0.0.1:${monitorPort}/varz`);
  if (!response.ok) throw new Error(`/varz answered ${response.status}`);
  return response.json();
}

function syncAlwaysOf(body: unknown): boolean {
  const config = (body as { jetstream?: { config?: { sync_always?: unknown } } }).jetstream?.config;
  return config?.sync_always === true;
}

/**
 * A nats-server binary that knows `sync_interval` (≥ 2.10): $NATS_SERVER_BIN as given, else this
 * machine's when it is recent enough, else the pinned download kept in `downloadDir` (none without).
 */
async function syncCapableNatsServer(downloadDir: string | undefined): Promise<string | { reason: string }> {
  const given = process.env.NATS_SERVER_BIN;
  if (given) return isExecutable(given) ? given : { reason: `NATS_SERVER_BIN ${given} is not executable` };
  const local = findNatsServer();
  const localVersion = local === undefined ? undefined : natsServerVersion(local);
  if (local && localVersion && versionAtLeast(localVersion, 2, 10)) return local;
  const here = local ? `nats-server ${localVersion} here is older than 2.10` : 'no nats-server here';
  if (downloadDir === undefined) {
    // Started anyway: its refusal of the config is the reason the class is skipped with.
    return local ?? { reason: `${here} (set NATS_SERVER_BIN)` };
  }
  const pinned = await pinnedNatsServer(downloadDir);
  return typeof pinned === 'string' ? pinned : { reason: `${here}, and ${pinned.reason}` };
}

/**
 * Starts the server, or says why it cannot (no binary, refused config, setting not in effect).
 * `downloadDir`: see `syncCapableNatsServer`.
 */
export async function startNatsSyncServer(
  root: string,
  downloadDir?: string,
): Promise<NatsSyncServer | { reason: string }> {
  const binary = await syncCapableNatsServer(downloadDir);
  if (typeof binary !== 'string') return binary;
  const version = natsServerVersion(binary);
  const dir = mkdtempSync(join(root, 'nats-sync-'));
  const port = await freePort();
  const monitorPort = await freePort();
  const configFile = join(dir, 'nats.conf');
  writeFileSync(
    configFile,
    [
      `listen: 127.0.0.1:${port}`,
      `http: 127.0.0.1:${monitorPort}`,
      `jetstream {`,
      `  store_dir: ${JSON.stringify(join(dir, 'store'))}`,
      `  sync_interval: always`,
      `}`,
      '',
    ].join('\n'),
  );
  const child = spawn(binary, ['-c', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const output = outputTail([child.stdout, child.stderr], OUTPUT_TAIL_CHARS);
  let exited = false;
  child.once('exit', () => (exited = true));
  const stop = async (): Promise<void> => {
    child.kill('SIGTERM');
    await exitOf(child, NATS_STOP_TIMEOUT_MS);
    rmSync(dir, { recursive: true, force: true });
  };
  // Ready when /varz answers; a refused config makes the server exit at once instead.
  let body: unknown;
  const deadline = Date.now() + NATS_READY_TIMEOUT_MS;
  while (!exited && body === undefined && Date.now() < deadline) {
    body = await varz(monitorPort).catch(() => undefined);
    if (body === undefined) await new Promise((resolve) => setTimeout(resolve, NATS_POLL_MS));
  }
  if (exited || body === undefined) {
    await stop();
    const why = output().trim().split('\n').slice(-3).join(' | ') || 'no output';
    return { reason: `nats-server ${version} did not start with sync_interval: always (${why})` };
  }
  if (!syncAlwaysOf(body)) {
    await stop();
    return {
      reason: `nats-server ${version} started, but /varz does not report jetstream sync_always: true`,
    };
  }
  return { servers: `127.0.0.1:${port}`, pid: child.pid!, version, stop };
}

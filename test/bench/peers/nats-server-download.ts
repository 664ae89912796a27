/**
 * A nats-server that knows `sync_interval: always` (≥ 2.10) for the D1 JetStream class, when the
 * machine's own is older: Debian bookworm ships 2.9.10, and only the npm and Debian registries are
 * reachable here. Debian trixie's build of 2.10 runs on bookworm (a Go binary that needs glibc ≥
 * 2.34), so the bench fetches that package from deb.debian.org over HTTPS, checks it against the
 * SHA-256 pinned below (Debian's own index for that file), unpacks it with `dpkg-deb` and keeps the
 * binary in a cache directory (BENCH_CACHE_DIR, default `.cache/` of the working directory) for the
 * next run. Nothing is installed system-wide. Every failure is a reason the class is skipped with.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  constants,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';

/** A nats-server package to fetch: its version, where it is, and its SHA-256. */
export interface NatsServerPin {
  readonly version: string;
  readonly url: string;
  readonly sha256: string;
}

/** Debian trixie's nats-server package: version, file in the archive, and its SHA-256 there. */
export const PINNED_NATS_SERVER: NatsServerPin = Object.freeze({
  version: '2.10.27',
  url: 'https://deb.debian.org/debian/pool/main/n/nats-server/nats-server_2.10.27-1+b2_amd64.deb',
  sha256: '6d913ac987b78734c08537c2adeb1526cf735f216173a9170d94b185fcfe6f8a',
});

/** How long the download may take. */
const DOWNLOAD_TIMEOUT_MS = 120_000;

/** Whether `version` ("2.9.10") is at least `major.minor`. */
export function versionAtLeast(version: string, major: number, minor: number): boolean {
  const m = /^(\d+)\.(\d+)/.exec(version);
  if (!m) return false;
  const [maj, min] = [Number(m[1]), Number(m[2])];
  return maj > major || (maj === major && min >= minor);
}

/** Whether `file` exists and this process may run it. */
export function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The cached binary's path, whether or not it is there yet. */
export function cachedNatsServerPath(cacheDir: string, pin: NatsServerPin = PINNED_NATS_SERVER): string {
  return join(cacheDir, `nats-server-${pin.version}`, 'nats-server');
}

/**
 * The pinned nats-server binary: from the cache, else downloaded, checked and unpacked into it.
 * Resolves with its path, or with the reason it cannot be had.
 */
export async function pinnedNatsServer(
  cacheDir: string,
  pin: NatsServerPin = PINNED_NATS_SERVER,
): Promise<string | { reason: string }> {
  const binary = cachedNatsServerPath(cacheDir, pin);
  if (isExecutable(binary)) return binary;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return {
      reason: `no nats-server ${pin.version} package for ${process.platform}/${process.arch}`,
    };
  }
  let deb: Buffer;
  try {
    const response = await fetch(pin.url, {
      signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS),
    });
    if (!response.ok) return { reason: `${pin.url} answered ${response.status}` };
    deb = Buffer.from(await response.arrayBuffer());
  } catch (err) {
    return {
      reason: `cannot download ${pin.url}: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const sha256 = createHash('sha256').update(deb).digest('hex');
  if (sha256 !== pin.sha256) {
    return {
      reason: `${pin.url} has SHA-256 ${sha256}, not the pinned ${pin.sha256}`,
    };
  }
  mkdirSync(cacheDir, { recursive: true });
  const work = mkdtempSync(join(cacheDir, 'unpack-'));
  try {
    const debFile = join(work, 'nats-server.deb');
    writeFileSync(debFile, deb);
    const unpacked = spawnSync('dpkg-deb', ['-x', debFile, join(work, 'root')], { encoding: 'utf8' });
    if (unpacked.error || unpacked.status !== 0) {
      const why = unpacked.error?.message ?? unpacked.stderr.trim();
      return { reason: `dpkg-deb could not unpack the nats-server package: ${why}` };
    }
    // Renamed into place last: a run cut off halfway leaves no half-written binary behind.
    mkdirSync(dirname(binary), { recursive: true });
    const extracted = join(work, 'root', 'usr', 'sbin', 'nats-server');
    chmodSync(extracted, 0o755);
    renameSync(extracted, binary);
    return binary;
  } catch (err) {
    return {
      reason: `cannot unpack nats-server into ${cacheDir}: ${err instanceof Error ? err.message : String(err)}`,
    };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DiskFullError } from './errors.js';
import { MessageStore } from './message-store.js';
import { type AppendResult } from './message-store.js';

/** A 3 MiB tmpfs: a real ENOSPC from the kernel, not an injected one. Needs root (CI runs as root). */
function mountTinyDisk(): string | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'rocketnest-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=3m', 'tmpfs', dir], { stdio: 'ignore' });
    return dir;
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
}

const disk = mountTinyDisk();
if (!disk) console.warn('disk-full test skipped: cannot mount a tmpfs here (needs root)');
const maybe = disk ? it : it.skip;

afterAll(() => {
  if (!disk) return;
  execFileSync('umount', [disk]);
  rmSync(disk, { recursive: true, force: true });
});

describe('store on a full disk', () => {
  maybe(
    'rejects appends fast with DiskFullError, keeps serving reads, and resumes when space is freed',
    async () => {
      const ballast = join(disk!, 'ballast');
      writeFileSync(ballast, Buffer.alloc(1024 * 1024));
      const dataDir = join(disk!, 'store');
      const logs: string[] = [];
      const logger = {
        log: () => undefined,
        warn: (m: string) => logs.push(m),
        error: (m: string) => logs.push(m),
      };
      const options = {
        dataDir,
        flushMode: 'sync' as const,
        segmentSize: 512 * 1024,
        indexSlotCount: 1024,
        retentionIntervalMs: 0,
        logger,
      };
      let store = await MessageStore.open(options);
      const body = Buffer.alloc(4096, 1);
      const acked: AppendResult[] = [];
      let failure: unknown;
      const started = Date.now();
      for (let n = 0; n < 2000 && !failure; n++) {
        try {
          acked.push(
            await store.append({ topic: 'full', queueId: 0, body, messageId: `F-${n}`, keys: [`k${n}`] }),
          );
        } catch (err) {
          failure = err;
        }
      }
      expect(failure).toBeInstanceOf(DiskFullError);
      expect(Date.now() - started).toBeLessThan(30_000);
      expect(acked.length).toBeGreaterThan(100);

      // Still up: every acknowledged message reads back, and further appends fail the same way.
      const read = store.getMessages('full', 0, 0, 1024);
      expect(read.messages.length).toBe(acked.length);
      await expect(
        store.append({ topic: 'full', queueId: 0, body, messageId: 'again' }),
      ).rejects.toBeInstanceOf(DiskFullError);

      // Free space: writes resume without a restart.
      rmSync(ballast);
      const resumed = await store.append({ topic: 'full', queueId: 0, body, messageId: 'after' });
      expect(resumed.queueOffset).toBe(acked.length);
      await store.close();

      store = await MessageStore.open(options);
      expect(store.verify().corruptions).toEqual([]);
      const all = store.getMessages('full', 0, 0, 1024).messages;
      expect(all.map((m) => m.messageId)).toEqual([...acked.map((a) => a.messageId), 'after']);
      await store.close();
    },
    60_000,
  );
});

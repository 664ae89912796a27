import {
  closeSync,
  cpSync,
  existsSync,
  mkdtempSync,
  openSync,
  readdirSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runInNewContext } from 'node:vm';
import { setFlagsFromString } from 'node:v8';
import { type DispatchRequest, type StoreLogger } from './dispatch-request.js';
import { INDEX_ENTRY_SIZE, INDEX_HEADER_SIZE, IndexOptionsError, IndexStateError } from './index-file.js';
import { IndexService, type IndexServiceOptions } from './index-service.js';
import { MAX_READ_BATCH } from './limits.js';

const T0 = 1_700_000_000_000;
const RECORD = 100; // pretend every record is 100 bytes: message i lives at physical offset i × 100

function request(
  i: number,
  keys: readonly string[] = [],
  overrides: Partial<DispatchRequest> = {},
): DispatchRequest {
  return {
    topic: 'T',
    queueId: 0,
    queueOffset: i,
    physicalOffset: i * RECORD,
    size: RECORD,
    tagsCode: 0,
    storeTimestamp: T0 + i * 1000,
    messageId: `id-${i}`,
    keys,
    sysFlag: 0,
    ...overrides,
  };
}

function captureLogger(): StoreLogger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    log: (m) => lines.push(`log ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

function offsets(...messages: number[]): number[] {
  return messages.map((i) => i * RECORD);
}

function indexFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((n) => /^\d{20}$/.test(n))
    .sort();
}

describe('IndexService', () => {
  let root: string;
  let dir: string;
  let logger: ReturnType<typeof captureLogger>;
  const services: IndexService[] = [];

  function open(options: Partial<IndexServiceOptions> = {}, at = dir): IndexService {
    const service = new IndexService({ dir: at, slotCount: 101, entryCount: 10_000, logger, ...options });
    service.load();
    services.push(service);
    return service;
  }

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'rocketnest-index-'));
    dir = join(root, 'index');
    logger = captureLogger();
  });
  afterEach(() => {
    for (const s of services.splice(0)) s.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('finds messages by id and by key, each in its own namespace', () => {
    const index = open();
    expect(index.maxPhysicalOffset).toBe(-1);
    index.put(request(1, ['order-1', 'customer-7']));
    index.put(request(2, ['order-2', 'customer-7', '', 'customer-7']));
    index.put(request(3, ['id-1'], { topic: 'U' }));
    expect(index.maxPhysicalOffset).toBe(300);

    expect(index.lookupMessageId('id-2', 10)).toEqual(offsets(2));
    expect(index.lookupMessageId('nope', 10)).toEqual([]);
    expect(index.lookupKey('T', 'order-1', 10)).toEqual(offsets(1));
    expect(index.lookupKey('T', 'customer-7', 10)).toEqual(offsets(2, 1)); // newest first, key repeated once
    expect(index.lookupKey('U', 'customer-7', 10)).toEqual([]); // keys are per topic
    expect(index.lookupKey('T', 'id-1', 10)).toEqual([]); // a key is not an id
    expect(index.lookupKey('U', 'id-1', 10)).toEqual(offsets(3));
    expect(index.lookupMessageId('id-1', 10)).toEqual(offsets(1)); // an id is not a key
    expect(index.lookupKey('T', '', 10)).toEqual([]);
  });

  it('returns every colliding candidate newest first when many keys share few slots', () => {
    const index = open({ slotCount: 7 });
    for (let i = 0; i < 200; i++) index.put(request(i, [`k${i % 10}`]));
    // Every chain holds ~57 entries of ~30 different hashes; only the matching hash is returned.
    const expected = Array.from({ length: 20 }, (_, j) => (190 + 3 - 10 * j) * RECORD);
    expect(index.lookupKey('T', 'k3', 100)).toEqual(expected);
    index.commit();
    expect(index.lookupKey('T', 'k3', 100)).toEqual(expected);
    for (let i = 0; i < 200; i += 17) expect(index.lookupMessageId(`id-${i}`, 10)).toEqual(offsets(i));
  });

  it('bounds results by maxResults and MAX_READ_BATCH', () => {
    const index = open();
    for (let i = 0; i < MAX_READ_BATCH + 50; i++) index.put(request(i, ['hot']));
    expect(index.lookupKey('T', 'hot', 3)).toEqual(
      offsets(MAX_READ_BATCH + 49, MAX_READ_BATCH + 48, MAX_READ_BATCH + 47),
    );
    expect(index.lookupKey('T', 'hot', 0)).toEqual([]);
    expect(index.lookupKey('T', 'hot', -1)).toEqual([]);
    expect(index.lookupKey('T', 'hot', Number.NaN)).toEqual([]);
    expect(index.lookupKey('T', 'hot', 1_000_000)).toHaveLength(MAX_READ_BATCH);
  });

  it('filters keys by store time, across files', () => {
    const index = open({ entryCount: 8 });
    // Message i is stored at T0 + i s; 30 messages × 2 entries over 8-entry files.
    for (let i = 0; i < 30; i++) index.put(request(i, ['k']));
    expect(index.fileCount).toBe(8);
    expect(index.lookupKey('T', 'k', 100, T0 + 10_000, T0 + 14_000)).toEqual(offsets(14, 13, 12, 11, 10));
    expect(index.lookupKey('T', 'k', 100, T0 + 27_000)).toEqual(offsets(29, 28, 27));
    expect(index.lookupKey('T', 'k', 100, undefined, T0 + 1_000)).toEqual(offsets(1, 0));
    expect(index.lookupKey('T', 'k', 100, T0 + 5_000, T0 + 4_000)).toEqual([]);
    expect(index.lookupKey('T', 'k', 2, T0 + 10_000, T0 + 14_000)).toEqual(offsets(14, 13));
  });

  it('rolls over to a new file when one is full and looks up across files', () => {
    const index = open({ slotCount: 7, entryCount: 10 });
    for (let i = 0; i < 25; i++) index.put(request(i, ['shared']));
    expect(index.fileCount).toBe(5);
    expect(indexFiles(dir)).toEqual([0, 1, 2, 3, 4].map((n) => String(n).padStart(20, '0')));
    const all = Array.from({ length: 25 }, (_, j) => (24 - j) * RECORD);
    expect(index.lookupKey('T', 'shared', 100)).toEqual(all);
    expect(index.lookupKey('T', 'shared', 7)).toEqual(all.slice(0, 7));
    for (let i = 0; i < 25; i++) expect(index.lookupMessageId(`id-${i}`, 5)).toEqual(offsets(i));
  });

  it('persists across close and reopen, and keeps writing the newest file', () => {
    let index = open({ entryCount: 10 });
    for (let i = 0; i < 12; i++) index.put(request(i, ['k']));
    index.close();
    index.close(); // idempotent

    index = open({ entryCount: 10 });
    expect(index.fileCount).toBe(3);
    expect(index.maxPhysicalOffset).toBe(1100);
    expect(index.lookupKey('T', 'k', 100)).toEqual(offsets(11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    index.put(request(12, ['k']));
    expect(index.fileCount).toBe(3); // the newest file (4 of 10 entries) was still writable
    index.close();

    index = open({ entryCount: 10 });
    expect(index.lookupKey('T', 'k', 3)).toEqual(offsets(12, 11, 10));
    expect(logger.lines.filter((l) => !l.startsWith('log'))).toEqual([]);
  });

  it('after a crash that lost unflushed work, returns only flushed entries and takes a re-dispatch', () => {
    const index = open({ slotCount: 7, entryCount: 64 });
    for (let i = 0; i < 10; i++) index.put(request(i, ['k']));
    index.flush(); // checkpoint: 20 entries
    for (let i = 10; i < 20; i++) index.put(request(i, ['k']));
    index.commit(); // entries reach the file, but neither its slot table nor its header
    const crashed = join(root, 'crashed');
    cpSync(dir, crashed, { recursive: true }); // what a killed process leaves: page cache = file content

    const recovered = open({ slotCount: 7, entryCount: 64 }, crashed);
    // The stale slot table and header agree with each other: the unflushed entries are simply absent.
    expect(recovered.maxPhysicalOffset).toBe(900);
    expect(recovered.lookupKey('T', 'k', 100)).toEqual(offsets(9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    expect(recovered.lookupMessageId('id-15', 10)).toEqual([]);
    expect(recovered.lookupMessageId('id-9', 10)).toEqual(offsets(9));
    // Recovery re-dispatches from the checkpoint (here a little before it): nothing is doubled.
    for (let i = 5; i < 20; i++) recovered.put(request(i, ['k']));
    const all = Array.from({ length: 20 }, (_, j) => (19 - j) * RECORD);
    expect(recovered.lookupKey('T', 'k', 100)).toEqual(all);
    expect(recovered.lookupMessageId('id-15', 10)).toEqual(offsets(15));
    expect(recovered.lookupMessageId('id-9', 10)).toEqual(offsets(9));
    recovered.close();
    const again = open({ slotCount: 7, entryCount: 64 }, crashed);
    expect(again.lookupKey('T', 'k', 100)).toEqual(all);
  });

  it('survives a crash in the middle of a roll-over', () => {
    const index = open({ slotCount: 7, entryCount: 6 });
    for (let i = 0; i < 2; i++) index.put(request(i, ['k']));
    index.flush();
    for (let i = 2; i < 7; i++) index.put(request(i, ['k'])); // seals file 0 and 1, fills file 2 unflushed
    index.commit();
    const crashed = join(root, 'crashed');
    cpSync(dir, crashed, { recursive: true });
    const recovered = open({ slotCount: 7, entryCount: 6 }, crashed);
    // Sealing flushed files 0 and 1 completely; file 2's header still says 0 entries.
    expect(recovered.maxPhysicalOffset).toBe(500);
    expect(recovered.lookupKey('T', 'k', 100)).toEqual(offsets(5, 4, 3, 2, 1, 0));
    for (let i = 5; i < 7; i++) recovered.put(request(i, ['k']));
    expect(recovered.lookupKey('T', 'k', 100)).toEqual(offsets(6, 5, 4, 3, 2, 1, 0));
  });

  it('repairs a newest file whose header disagrees with its contents, without wrong results', () => {
    const index = open({ slotCount: 7 });
    for (let i = 0; i < 10; i++) index.put(request(i, ['k']));
    index.flush();
    for (let i = 10; i < 15; i++) index.put(request(i, ['k']));
    index.commit();
    const crashed = join(root, 'crashed');
    cpSync(dir, crashed, { recursive: true });
    const file = join(crashed, indexFiles(crashed)[0]!);
    // A torn flush: the header claims 1000 entries, and garbage follows the committed entries.
    const fd = openSync(file, 'r+');
    const count = Buffer.alloc(4);
    count.writeUInt32BE(1000);
    writeSync(fd, count, 0, 4, 36);
    const garbage = Buffer.alloc(INDEX_ENTRY_SIZE * 3 + 7, 0xab);
    writeSync(fd, garbage, 0, garbage.length, INDEX_HEADER_SIZE + 7 * 4 + 30 * INDEX_ENTRY_SIZE);
    closeSync(fd);

    const recovered = open({ slotCount: 7 }, crashed);
    expect(logger.lines.some((l) => l.startsWith('warn') && l.includes('1000 entries'))).toBe(true);
    const truth = new Set(Array.from({ length: 15 }, (_, i) => i * RECORD));
    const found = recovered.lookupKey('T', 'k', 100);
    for (const phy of found) expect(truth.has(phy)).toBe(true);
    // The committed entries were all intact, so the rebuild recovered them, garbage excluded.
    expect(found).toEqual(offsets(14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    expect(recovered.maxPhysicalOffset).toBe(1400); // not the garbage's offset: re-dispatch still works
    for (let i = 0; i < 15; i++) expect(recovered.lookupMessageId(`id-${i}`, 5)).toEqual(offsets(i));
  });

  it('never returns offsets outside the indexed ones when a sealed file is damaged', () => {
    const index = open({ slotCount: 7, entryCount: 40 });
    for (let i = 0; i < 40; i++) index.put(request(i, ['k']));
    index.close();
    const first = join(dir, indexFiles(dir)[0]!);
    const fd = openSync(first, 'r+');
    const noise = Buffer.alloc(15 * INDEX_ENTRY_SIZE);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 151 + 7) & 0xff;
    writeSync(fd, noise, 0, noise.length, INDEX_HEADER_SIZE + 7 * 4 + 10 * INDEX_ENTRY_SIZE);
    closeSync(fd);
    const reopened = open({ slotCount: 7, entryCount: 40 });
    const truth = new Set(Array.from({ length: 40 }, (_, i) => i * RECORD));
    for (const phy of reopened.lookupKey('T', 'k', 100)) expect(truth.has(phy)).toBe(true);
    for (let i = 0; i < 40; i++) {
      for (const phy of reopened.lookupMessageId(`id-${i}`, 5)) expect(phy).toBe(i * RECORD);
    }
    expect(reopened.lookupKey('T', 'k', 100)).toContain(39 * RECORD); // the newest entries still answer
  });

  it('sets aside files whose header is unusable', () => {
    let index = open({ entryCount: 4 });
    for (let i = 0; i < 4; i++) index.put(request(i)); // one full file
    index.close();
    writeFileSync(join(dir, '00000000000000000001'), Buffer.alloc(64, 0x5a)); // garbage
    writeFileSync(join(dir, '00000000000000000002'), ''); // created, then a crash
    index = open({ entryCount: 4 });
    expect(readdirSync(dir).sort()).toEqual(['00000000000000000000', '00000000000000000001.corrupt']);
    expect(logger.lines.filter((l) => l.startsWith('error'))).toHaveLength(1);
    expect(index.lookupMessageId('id-3', 5)).toEqual(offsets(3));
    index.put(request(4));
    expect(indexFiles(dir)).toEqual(['00000000000000000000', '00000000000000000003']);
    expect(index.lookupMessageId('id-4', 5)).toEqual(offsets(4));
  });

  it('deletes sealed files below a physical offset, never the newest', () => {
    const index = open({ entryCount: 10 });
    for (let i = 0; i < 50; i++) index.put(request(i)); // 5 files of 10 messages
    expect(index.fileCount).toBe(5);
    expect(index.deleteFilesBelow(0)).toBe(0);
    expect(index.deleteFilesBelow(19 * RECORD)).toBe(1); // file 1 ends at 1900, not below
    expect(index.deleteFilesBelow(20 * RECORD)).toBe(1);
    expect(index.fileCount).toBe(3);
    expect(index.lookupMessageId('id-5', 5)).toEqual([]);
    expect(index.lookupMessageId('id-25', 5)).toEqual(offsets(25));
    expect(index.deleteFilesBelow(1e15)).toBe(2);
    expect(index.fileCount).toBe(1);
    expect(indexFiles(dir)).toEqual(['00000000000000000004']);
    expect(index.lookupMessageId('id-49', 5)).toEqual(offsets(49));
    expect(index.maxPhysicalOffset).toBe(4900);
  });

  it('truncates above a physical offset, durably, and indexes the new log from there', () => {
    let index = open({ slotCount: 7, entryCount: 10 });
    for (let i = 0; i < 30; i++) index.put(request(i, ['k'])); // files of 5 messages
    index.commit();
    index.truncateAbove(12 * RECORD + 50);
    expect(index.maxPhysicalOffset).toBe(1200);
    expect(index.fileCount).toBe(3); // the 3 files wholly above were deleted, one was trimmed
    expect(index.lookupKey('T', 'k', 100)).toEqual(offsets(12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    expect(index.lookupMessageId('id-13', 5)).toEqual([]);
    index.close();

    index = open({ slotCount: 7, entryCount: 10 });
    expect(index.maxPhysicalOffset).toBe(1200);
    expect(index.lookupMessageId('id-13', 5)).toEqual([]);
    // The commit log grows again from the cut with other messages at the same offsets.
    for (let i = 13; i < 16; i++) index.put(request(i, ['k2'], { messageId: `new-${i}` }));
    expect(index.lookupMessageId('new-13', 5)).toEqual(offsets(13));
    expect(index.lookupMessageId('id-13', 5)).toEqual([]);
    expect(index.lookupKey('T', 'k', 100)).toEqual(offsets(12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0));
    expect(index.lookupKey('T', 'k2', 100)).toEqual(offsets(15, 14, 13));
  });

  it('truncates inside the writable file, staged entries included, even between duplicates', () => {
    const index = open({ slotCount: 7 });
    for (let i = 0; i < 6; i++) index.put(request(i, ['k']));
    index.flush();
    // A re-dispatch after a crash indexed 5 again (at maxPhysicalOffset), then went on.
    for (let i = 5; i < 9; i++) index.put(request(i, ['k']));
    index.truncateAbove(4 * RECORD);
    expect(index.lookupKey('T', 'k', 100)).toEqual(offsets(3, 2, 1, 0));
    expect(index.maxPhysicalOffset).toBe(300);
    index.put(request(4, ['k']));
    expect(index.lookupKey('T', 'k', 100)).toEqual(offsets(4, 3, 2, 1, 0));
    expect(index.truncateAbove(0)).toBeUndefined();
    expect(index.maxPhysicalOffset).toBe(-1);
    expect(index.fileCount).toBe(0);
    index.put(request(0, ['k']));
    expect(index.lookupKey('T', 'k', 100)).toEqual(offsets(0));
  });

  it('makes re-dispatched duplicates harmless', () => {
    const index = open();
    for (let i = 0; i < 5; i++) index.put(request(i, ['k']));
    index.put(request(4, ['k'])); // at maxPhysicalOffset: indexed again, deduplicated at lookup
    index.put(request(2, ['k'])); // below: skipped
    expect(index.lookupKey('T', 'k', 100)).toEqual(offsets(4, 3, 2, 1, 0));
    expect(index.lookupKey('T', 'k', 2)).toEqual(offsets(4, 3));
    expect(index.lookupMessageId('id-4', 100)).toEqual(offsets(4));
  });

  it('keeps at most maxOpenFiles sealed files open', () => {
    const fdDir = '/proc/self/fd';
    const index = open({ entryCount: 4, maxOpenFiles: 2 });
    for (let i = 0; i < 40; i++) index.put(request(i, ['k'])); // 20 files
    expect(index.fileCount).toBe(20);
    const fds = (): number => (existsSync(fdDir) ? readdirSync(fdDir).length : 0);
    const before = fds();
    const all = Array.from({ length: 40 }, (_, j) => (39 - j) * RECORD);
    for (let round = 0; round < 3; round++) expect(index.lookupKey('T', 'k', 100)).toEqual(all);
    for (let i = 0; i < 40; i++) expect(index.lookupMessageId(`id-${i}`, 5)).toEqual(offsets(i));
    expect(fds() - before).toBeLessThanOrEqual(2);
  });

  it('destroy removes every index file and the index can be rebuilt', () => {
    const index = open({ entryCount: 4 });
    for (let i = 0; i < 10; i++) index.put(request(i));
    writeFileSync(join(dir, '00000000000000000099.corrupt'), 'x');
    index.destroy();
    expect(existsSync(dir)).toBe(false);
    expect(() => index.lookupMessageId('id-1', 5)).toThrow(IndexStateError);
    index.load();
    expect(index.maxPhysicalOffset).toBe(-1);
    expect(index.lookupMessageId('id-1', 5)).toEqual([]);
    index.put(request(1));
    expect(index.lookupMessageId('id-1', 5)).toEqual(offsets(1));
    expect(indexFiles(dir)).toEqual(['00000000000000000000']);
  });

  it('refuses use before load or after close, and bad options', () => {
    const index = new IndexService({ dir, logger });
    expect(() => index.put(request(1))).toThrow(IndexStateError);
    expect(() => index.lookupKey('T', 'k', 1)).toThrow(IndexStateError);
    index.load();
    expect(() => index.load()).toThrow(IndexStateError);
    index.close();
    expect(() => index.flush()).toThrow(IndexStateError);
    expect(() => new IndexService({ dir, slotCount: 0 })).toThrow(IndexOptionsError);
    expect(() => new IndexService({ dir, entryCount: 1.5 })).toThrow(IndexOptionsError);
    expect(() => new IndexService({ dir, maxOpenFiles: 0 })).toThrow(IndexOptionsError);
  });

  it('keeps memory bounded by the writable file, however many entries and files', () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const used = (): number => {
      gc();
      gc();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    // 20k entries per file: 200k messages × (id + key) = 400k entries in 20 files.
    const index = open({ slotCount: 5_000, entryCount: 20_000 });
    const put = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        index.put(request(i, [`key-${i}`]));
        if (i % 1000 === 999) index.commit();
      }
    };
    put(0, 20_000);
    const baseline = used();
    put(20_000, 200_000);
    index.flush();
    const growth = used() - baseline;
    expect(index.fileCount).toBe(20);
    // Holding the 360k new entries in memory would take well over 10 MB; the index keeps one slot
    // table (20 KB) and an 80 KB staging buffer, plus a small object per file.
    expect(growth).toBeLessThan(4 * 1024 * 1024);
    expect(index.lookupMessageId('id-12345', 5)).toEqual(offsets(12345));
    expect(index.lookupKey('T', 'key-199999', 5)).toEqual(offsets(199_999));
    expect(index.lookupMessageId('id-0', 5)).toEqual(offsets(0));
  });
});

import {
  closeSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type StoreLogger } from './dispatch-request.js';
import {
  EntryReader,
  hashIndexKey,
  hashTopicKey,
  INDEX_ENTRY_SIZE,
  INDEX_HEADER_SIZE,
  INDEX_SLOT_SIZE,
  INDEX_STAGE_ENTRIES,
  IndexFile,
  IndexFileCorruptError,
  IndexStateError,
  indexKeyForKey,
  indexKeyForMessageId,
  type IndexQuery,
} from './index-file.js';
import { readUInt64 } from './uint64.js';

function captureLogger(): StoreLogger & { warnings: string[]; errors: string[] } {
  const warnings: string[] = [];
  const errors: string[] = [];
  return { warnings, errors, log: () => {}, warn: (m) => warnings.push(m), error: (m) => errors.push(m) };
}

function query(hash: number, maxResults = 100, begin = -Infinity, end = Infinity): IndexQuery {
  return { hash, maxResults, beginTimestamp: begin, endTimestamp: end, results: [], seen: new Set() };
}

function lookup(
  file: IndexFile,
  hash: number,
  maxResults = 100,
  begin = -Infinity,
  end = Infinity,
): number[] {
  const q = query(hash, maxResults, begin, end);
  const reader = new EntryReader();
  file.collect(q, reader);
  return q.results;
}

function readHeader(path: string): {
  indexCount: number;
  slotCount: number;
  beginPhy: number;
  endPhy: number;
} {
  const fd = openSync(path, 'r');
  const h = Buffer.alloc(INDEX_HEADER_SIZE);
  readSync(fd, h, 0, INDEX_HEADER_SIZE, 0);
  closeSync(fd);
  return {
    beginPhy: readUInt64(h, 16),
    endPhy: readUInt64(h, 24),
    slotCount: h.readUInt32BE(32),
    indexCount: h.readUInt32BE(36),
  };
}

describe('index keys and hashing', () => {
  it('hashes deterministically to a signed 32-bit value', () => {
    const h = hashIndexKey('order-42');
    expect(h).toBe(hashIndexKey('order-42'));
    expect(h).toBe(h | 0);
    expect(hashIndexKey('order-43')).not.toBe(h);
    expect(hashIndexKey('')).toBe(hashIndexKey(''));
  });

  it('hashes a topic key exactly like its index key string, without building it', () => {
    for (const [topic, key] of [
      ['orders', 'k1'],
      ['t', ''],
      ['日本', 'キー'],
    ] as const) {
      expect(hashTopicKey(topic, key)).toBe(hashIndexKey(indexKeyForKey(topic, key)));
    }
  });

  it('keeps message ids and business keys in different namespaces', () => {
    expect(indexKeyForMessageId('X')).toBe('X');
    expect(indexKeyForKey('T', 'X')).not.toBe(indexKeyForMessageId('X'));
    expect(indexKeyForKey('ab', 'c')).not.toBe(indexKeyForKey('a', 'bc'));
    expect(hashTopicKey('T', 'X')).not.toBe(hashIndexKey('X'));
  });

  it('spreads similar keys over the slots', () => {
    const slots = 101;
    const used = new Set<number>();
    for (let i = 0; i < 1000; i++) used.add((hashIndexKey(`msg-${i}`) >>> 0) % slots);
    expect(used.size).toBeGreaterThan(95);
  });
});

describe('IndexFile', () => {
  let dir: string;
  let logger: ReturnType<typeof captureLogger>;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rocketnest-indexfile-'));
    logger = captureLogger();
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('creates a file of header + sparse slot table', () => {
    const path = join(dir, 'f');
    const file = IndexFile.create(path, 7, logger);
    expect(statSync(path).size).toBe(INDEX_HEADER_SIZE + 7 * INDEX_SLOT_SIZE);
    expect(readHeader(path)).toEqual({ indexCount: 0, slotCount: 7, beginPhy: 0, endPhy: 0 });
    expect(file.isActive).toBe(true);
    file.close();
  });

  it('serves staged, committed and flushed entries, colliding hashes newest first', () => {
    const path = join(dir, 'f');
    const file = IndexFile.create(path, 7, logger);
    const a = hashIndexKey('a');
    const b = hashIndexKey('b');
    // Many keys in 7 slots: every chain mixes hashes; each lookup must return only its own.
    for (let i = 0; i < 50; i++) file.append(i % 2 === 0 ? a : b, 1000 + i, 1_700_000_000_000 + i);
    const evens = Array.from({ length: 25 }, (_, i) => 1000 + 48 - 2 * i);
    const odds = evens.map((x) => x + 1);
    expect(lookup(file, a)).toEqual(evens); // staged only
    expect(statSync(path).size).toBe(INDEX_HEADER_SIZE + 7 * INDEX_SLOT_SIZE);
    file.commit();
    expect(statSync(path).size).toBe(INDEX_HEADER_SIZE + 7 * INDEX_SLOT_SIZE + 50 * INDEX_ENTRY_SIZE);
    expect(lookup(file, a)).toEqual(evens);
    for (let i = 50; i < 52; i++) file.append(b, 1000 + i, 1_700_000_000_000 + i); // mixed staged + committed
    expect(lookup(file, b)).toEqual([1051, 1050, ...odds]);
    file.flush();
    expect(readHeader(path)).toEqual({ indexCount: 52, slotCount: 7, beginPhy: 1000, endPhy: 1051 });
    expect(lookup(file, b, 3)).toEqual([1051, 1050, 1049]);
    file.seal();
    expect(file.isActive).toBe(false);
    expect(lookup(file, b)).toEqual([1051, 1050, ...odds]); // from disk now
    expect(lookup(file, hashIndexKey('zzz'))).toEqual([]);
    expect(() => file.append(a, 1, 1)).toThrow(IndexStateError);
    file.close();
  });

  it('commits automatically when the staging buffer is full', () => {
    const path = join(dir, 'f');
    const file = IndexFile.create(path, 101, logger);
    const h = hashIndexKey('k');
    for (let i = 0; i <= INDEX_STAGE_ENTRIES; i++) file.append(h, i, 1000);
    expect(statSync(path).size).toBe(
      INDEX_HEADER_SIZE + 101 * INDEX_SLOT_SIZE + INDEX_STAGE_ENTRIES * INDEX_ENTRY_SIZE,
    );
    const q = query(h, 10_000);
    file.collect(q, new EntryReader());
    expect(q.results.length).toBe(INDEX_STAGE_ENTRIES + 1);
    expect(q.results[0]).toBe(INDEX_STAGE_ENTRIES);
    expect(q.results.at(-1)).toBe(0);
    file.close();
  });

  it('reopens with its own geometry and header', () => {
    const path = join(dir, 'f');
    const file = IndexFile.create(path, 13, logger);
    const h = hashIndexKey('k');
    file.append(h, 500, 1_000_000);
    file.append(h, 400, 2_000_000); // a re-dispatch below the previous offset: begin is the min
    file.close();
    const reopened = IndexFile.open(path, logger);
    expect(reopened.slotCount).toBe(13);
    expect(reopened.indexCount).toBe(2);
    expect(reopened.beginPhyOffset).toBe(400);
    expect(reopened.endPhyOffset).toBe(500);
    expect(reopened.beginTimestamp).toBe(1_000_000);
    expect(reopened.endTimestamp).toBe(2_000_000);
    expect(lookup(reopened, h)).toEqual([400, 500]);
    reopened.activate();
    reopened.append(h, 600, 3_000_000);
    expect(lookup(reopened, h)).toEqual([600, 400, 500]);
    reopened.close();
    expect(logger.warnings).toEqual([]);
  });

  it('filters by time at one-second resolution', () => {
    const file = IndexFile.create(join(dir, 'f'), 7, logger);
    const h = hashIndexKey('k');
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 10; i++) file.append(h, i, t0 + i * 10_000 + 500);
    expect(lookup(file, h, 100, t0 + 30_000, t0 + 50_000)).toEqual([4, 3]);
    // The 500 ms are lost to the second resolution: a bound inside the same second still matches.
    expect(lookup(file, h, 100, t0 + 30_900, t0 + 30_900)).toEqual([3]);
    expect(lookup(file, h, 100, t0 + 200_000)).toEqual([]);
    expect(lookup(file, h, 100, -Infinity, t0 - 1)).toEqual([]);
    file.close();
  });

  it('stops walking a chain once entries are older than the time range', () => {
    const path = join(dir, 'f');
    const file = IndexFile.create(path, 1, logger);
    const h = hashIndexKey('k');
    const t0 = 1_700_000_000_000;
    for (let i = 0; i < 10; i++) file.append(h, i, t0 + i * 600_000); // ten minutes apart
    file.close();
    // Break entry 2's link: a walk that reaches it would log a damaged chain.
    const fd = openSync(path, 'r+');
    const prev = Buffer.alloc(4);
    prev.writeUInt32BE(9);
    writeSync(fd, prev, 0, 4, INDEX_HEADER_SIZE + 4 + INDEX_ENTRY_SIZE + 16);
    closeSync(fd);
    const reopened = IndexFile.open(path, logger);
    expect(lookup(reopened, h, 100, t0 + 5 * 600_000)).toEqual([9, 8, 7, 6, 5]);
    expect(logger.warnings).toEqual([]);
    expect(lookup(reopened, h)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(logger.warnings.length).toBe(1);
    reopened.close();
  });

  it('tombstones entries at or above a physical offset, durably', () => {
    const path = join(dir, 'f');
    const file = IndexFile.create(path, 7, logger);
    const h = hashIndexKey('k');
    for (let i = 0; i < 10; i++) file.append(h, i * 100, 1000);
    file.flush();
    file.seal();
    expect(file.tombstoneFrom(500)).toBe(5);
    expect(lookup(file, h)).toEqual([400, 300, 200, 100, 0]);
    expect(file.endPhyOffset).toBe(400);
    file.close();
    const reopened = IndexFile.open(path, logger);
    expect(reopened.endPhyOffset).toBe(400);
    expect(lookup(reopened, h)).toEqual([400, 300, 200, 100, 0]);
    expect(reopened.tombstoneFrom(0)).toBe(0);
    reopened.close();
  });

  it('rejects files whose header cannot be trusted', () => {
    writeFileSync(join(dir, 'empty'), '');
    writeFileSync(join(dir, 'zeros'), Buffer.alloc(100));
    const short = Buffer.alloc(60);
    short.writeUInt32BE(1000, 32); // 1000 slots need 4040 bytes
    writeFileSync(join(dir, 'short'), short);
    const expectCorrupt = (name: string, empty: boolean): void => {
      let caught: unknown;
      try {
        IndexFile.open(join(dir, name), logger);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(IndexFileCorruptError);
      expect((caught as IndexFileCorruptError).empty).toBe(empty);
    };
    expectCorrupt('empty', true);
    expectCorrupt('zeros', true);
    expectCorrupt('short', false);
  });

  it('clamps a header that counts more entries than the file holds, and rebuilds the slot table', () => {
    const path = join(dir, 'f');
    const file = IndexFile.create(path, 7, logger);
    const h = hashIndexKey('k');
    for (let i = 0; i < 10; i++) file.append(h, i, 1000);
    file.close();
    // Claim 20 entries, and point every slot at entry 15, as a torn flush could leave it.
    const fd = openSync(path, 'r+');
    const count = Buffer.alloc(4);
    count.writeUInt32BE(20);
    writeSync(fd, count, 0, 4, 36);
    const slots = Buffer.alloc(7 * 4);
    for (let s = 0; s < 7; s++) slots.writeUInt32BE(15, s * 4);
    writeSync(fd, slots, 0, slots.length, INDEX_HEADER_SIZE);
    closeSync(fd);

    const sealed = IndexFile.open(path, logger);
    expect(sealed.wasInconsistent).toBe(true);
    expect(sealed.indexCount).toBe(10);
    expect(lookup(sealed, h)).toEqual([]); // sealed: the bad slot is refused, nothing wrong returned
    sealed.close();

    const active = IndexFile.open(path, logger);
    active.activate(); // rebuilds from entries 1..10
    expect(lookup(active, h)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
    active.append(h, 10, 1000);
    active.close();
    expect(readHeader(path)).toEqual({ indexCount: 11, slotCount: 7, beginPhy: 0, endPhy: 10 });
    expect(logger.warnings.some((w) => w.includes('rebuilt'))).toBe(true);
  });

  it('stops a rebuild at the first entry that is not a genuine continuation', () => {
    const path = join(dir, 'f');
    const file = IndexFile.create(path, 7, logger);
    const h = hashIndexKey('k');
    for (let i = 0; i < 10; i++) file.append(h, i + 100, 1000);
    file.close();
    // The file grew by two zeroed entries (space allocated, data never written) and the header
    // claims 20: clamped to the 12 entries present, then the replay rejects the zeros.
    truncateSync(path, INDEX_HEADER_SIZE + 7 * INDEX_SLOT_SIZE + 12 * INDEX_ENTRY_SIZE);
    const fd = openSync(path, 'r+');
    const count = Buffer.alloc(4);
    count.writeUInt32BE(20);
    writeSync(fd, count, 0, 4, 36);
    closeSync(fd);
    const reopened = IndexFile.open(path, logger);
    expect(reopened.indexCount).toBe(12);
    reopened.activate();
    expect(reopened.indexCount).toBe(10);
    expect(reopened.endPhyOffset).toBe(109);
    expect(logger.warnings.some((w) => w.includes('entry 11 holds zeros'))).toBe(true);
    expect(lookup(reopened, h, 3)).toEqual([109, 108, 107]);
    reopened.close();
    expect(statSync(path).size).toBe(INDEX_HEADER_SIZE + 7 * INDEX_SLOT_SIZE + 10 * INDEX_ENTRY_SIZE);
    expect(readHeader(path)).toEqual({ indexCount: 10, slotCount: 7, beginPhy: 100, endPhy: 109 });
  });

  it('walks a damaged chain to a bounded end', () => {
    const path = join(dir, 'f');
    const file = IndexFile.create(path, 1, logger);
    const h = hashIndexKey('k');
    for (let i = 0; i < 5; i++) file.append(h, i, 1000);
    file.close();
    // Entry 3 now links forward to entry 5: a loop 5 → 4 → 3 → 5 without the guard.
    const fd = openSync(path, 'r+');
    const prev = Buffer.alloc(4);
    prev.writeUInt32BE(5);
    writeSync(fd, prev, 0, 4, INDEX_HEADER_SIZE + 4 + 2 * INDEX_ENTRY_SIZE + 16);
    closeSync(fd);
    const reopened = IndexFile.open(path, logger);
    expect(lookup(reopened, h)).toEqual([4, 3, 2]);
    expect(logger.warnings.some((w) => w.includes('damaged chain'))).toBe(true);
    reopened.close();
  });
});

import {
  appendFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConsumeQueue,
  ConsumeQueueError,
  CQ_ENTRY_SIZE,
  FdPool,
  type ConsumeQueueEntry,
  type ConsumeQueueOptions,
} from './consume-queue.js';
import { type StoreLogger } from './dispatch-request.js';
import { IllegalQueueIdError, IllegalTopicError, StoreClosedError } from './errors.js';
import { offsetFileName } from './file-names.js';

class CapturingLogger implements StoreLogger {
  readonly logs: string[] = [];
  readonly warns: string[] = [];
  readonly errors: string[] = [];
  log(message: string): void {
    this.logs.push(message);
  }
  warn(message: string): void {
    this.warns.push(message);
  }
  error(message: string): void {
    this.errors.push(message);
  }
}

const TOPIC = 'orders';
let root: string;
let logger: CapturingLogger;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'cq-'));
  logger = new CapturingLogger();
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function open(options: Partial<ConsumeQueueOptions> = {}): ConsumeQueue {
  const cq = new ConsumeQueue({ dir: root, topic: TOPIC, queueId: 0, logger, ...options });
  cq.load();
  return cq;
}

/** Records of 100 bytes laid out back to back from physical offset 1000. */
const phy = (q: number): number => 1000 + q * 100;
const end = (q: number): number => phy(q) + 100;

function putRange(cq: ConsumeQueue, from: number, to: number, tags: (q: number) => number = () => 0): void {
  for (let q = from; q < to; q++) cq.put(q, phy(q), 100, tags(q));
}

const offsets = (entries: readonly ConsumeQueueEntry[]): number[] => entries.map((e) => e.queueOffset);
const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);
const queueDir = (): string => join(root, TOPIC, '0');
const fileNames = (): string[] => readdirSync(queueDir()).sort();
const fileSize = (offset: number): number => statSync(join(queueDir(), offsetFileName(offset))).size;

describe('ConsumeQueue', () => {
  it('round-trips entries through put, commit and read, in the documented byte layout', () => {
    const cq = open();
    cq.put(0, 0, 91, 0);
    cq.put(1, 91, 200, -123_456_789);
    cq.put(2, 2 ** 40 + 5, 1234, 0x7fff_ffff);
    expect(existsSync(queueDir())).toBe(false); // nothing touches the disk before commit
    cq.commit();

    expect(fileNames()).toEqual([offsetFileName(0)]);
    const bytes = readFileSync(join(queueDir(), offsetFileName(0)));
    expect(bytes.length).toBe(3 * CQ_ENTRY_SIZE);
    expect(bytes.readUInt32BE(20)).toBe(0); // physical offset, high half
    expect(bytes.readUInt32BE(24)).toBe(91); // physical offset, low half
    expect(bytes.readUInt32BE(28)).toBe(200); // size
    expect(bytes.readInt32BE(32)).toBe(-1); // tag hash sign-extended to 64 bits
    expect(bytes.readInt32BE(36)).toBe(-123_456_789);
    expect(bytes.readUInt32BE(40)).toBe(2 ** 8);
    expect(bytes.readUInt32BE(44)).toBe(5);

    const expected: ConsumeQueueEntry[] = [
      { queueOffset: 0, physicalOffset: 0, size: 91, tagsCode: 0 },
      { queueOffset: 1, physicalOffset: 91, size: 200, tagsCode: -123_456_789 },
      { queueOffset: 2, physicalOffset: 2 ** 40 + 5, size: 1234, tagsCode: 0x7fff_ffff },
    ];
    expect(cq.read(0, 10)).toEqual({ entries: expected, nextOffset: 3 });
    expect(cq.read(1, 1)).toEqual({ entries: [expected[1]], nextOffset: 2 });
    expect([cq.minOffset, cq.maxOffset]).toEqual([0, 3]);
    expect(cq.entryAt(1)).toEqual(expected[1]);
    expect(cq.entryAt(3)).toBeUndefined();
    expect(cq.lastEntry()).toEqual(expected[2]);
    cq.close();
  });

  it('serves staged entries from memory, alone or after committed ones', () => {
    const cq = open();
    putRange(cq, 0, 5);
    cq.commit();
    putRange(cq, 5, 8);
    expect(cq.stagedCount).toBe(3);
    expect(cq.maxOffset).toBe(8);
    expect(fileSize(0)).toBe(5 * CQ_ENTRY_SIZE);
    expect(offsets(cq.read(3, 10).entries)).toEqual([3, 4, 5, 6, 7]);
    expect(offsets(cq.read(6, 10).entries)).toEqual([6, 7]);
    expect(cq.entryAt(6)?.physicalOffset).toBe(phy(6));
    expect(cq.lastEntry()?.queueOffset).toBe(7);
    expect(fileSize(0)).toBe(5 * CQ_ENTRY_SIZE); // reads did not commit
    cq.commit();
    expect(cq.stagedCount).toBe(0);
    expect(fileSize(0)).toBe(8 * CQ_ENTRY_SIZE);
    cq.close();
  });

  it('skips entries whose tag hash fails the filter but advances past them', () => {
    const A = 111;
    const B = -222;
    const cq = open();
    putRange(cq, 0, 10, (q) => (q % 3 === 0 ? A : B));
    const isA = (t: number): boolean => t === A;
    expect(cq.read(0, 2, isA)).toMatchObject({ nextOffset: 4 });
    expect(offsets(cq.read(0, 2, isA).entries)).toEqual([0, 3]);
    // Five entries examined (4..8): only 6 passes.
    const limited = cq.read(4, 10, isA, 5);
    expect(offsets(limited.entries)).toEqual([6]);
    expect(limited.nextOffset).toBe(9);
    expect(cq.read(0, 100, () => false)).toEqual({ entries: [], nextOffset: 10 });
    expect(cq.read(0, 100, (t) => t === B).entries.every((e) => e.tagsCode === B)).toBe(true);
    cq.close();
  });

  it('spans files of entriesPerFile entries named by the byte offset of their first entry', () => {
    const cq = open({ entriesPerFile: 10 });
    putRange(cq, 0, 25);
    cq.commit();
    expect(fileNames()).toEqual([offsetFileName(0), offsetFileName(200), offsetFileName(400)]);
    expect(offsetFileName(200)).toBe('00000000000000000200');
    expect([fileSize(0), fileSize(200), fileSize(400)]).toEqual([200, 200, 100]);
    expect(offsets(cq.read(5, 12).entries)).toEqual(range(5, 17));
    expect(cq.read(8, 100)).toMatchObject({ nextOffset: 25 });
    expect(offsets(cq.read(8, 100).entries)).toEqual(range(8, 25));
    expect(cq.entryAt(19)?.physicalOffset).toBe(phy(19));
    expect(cq.entryAt(20)?.physicalOffset).toBe(phy(20));
    cq.close();
  });

  it('reloads after close, and after a commit without flush', () => {
    const first = open({ entriesPerFile: 10 });
    putRange(first, 0, 15, (q) => q);
    first.close();

    const second = open({ entriesPerFile: 10 });
    expect([second.minOffset, second.maxOffset]).toEqual([0, 15]);
    expect(second.lastEntry()).toEqual({ queueOffset: 14, physicalOffset: phy(14), size: 100, tagsCode: 14 });
    expect(second.read(0, 100).entries).toEqual(
      range(0, 15).map((q) => ({ queueOffset: q, physicalOffset: phy(q), size: 100, tagsCode: q })),
    );
    putRange(second, 15, 20);
    second.commit(); // written, not flushed, not closed
    putRange(second, 20, 22); // staged only: lost without a commit

    const third = open({ entriesPerFile: 10 });
    expect(third.maxOffset).toBe(20);
    expect(offsets(third.read(12, 100).entries)).toEqual(range(12, 20));
    third.close();
    second.close();
  });

  it('ignores a partial trailing entry and trailing holes on load, and deletes an all-hole last file', () => {
    const cq = open({ entriesPerFile: 10 });
    putRange(cq, 0, 12);
    cq.close();
    appendFileSync(join(queueDir(), offsetFileName(200)), Buffer.alloc(2 * CQ_ENTRY_SIZE + 7));
    writeFileSync(join(queueDir(), offsetFileName(400)), Buffer.alloc(3 * CQ_ENTRY_SIZE));

    const reopened = open({ entriesPerFile: 10 });
    expect([reopened.minOffset, reopened.maxOffset]).toEqual([0, 12]);
    expect(fileNames()).toEqual([offsetFileName(0), offsetFileName(200)]);
    expect(fileSize(200)).toBe(2 * CQ_ENTRY_SIZE);
    expect(logger.warns.length).toBe(2);
    putRange(reopened, 12, 14);
    reopened.close();
    expect(fileSize(200)).toBe(4 * CQ_ENTRY_SIZE);
  });

  it('starts an empty queue at the first offset put and keeps that on reload', () => {
    const cq = open({ entriesPerFile: 100 });
    cq.put(1234, phy(1234), 100, 0);
    cq.put(1235, phy(1235), 100, 0);
    expect([cq.minOffset, cq.maxOffset]).toEqual([1234, 1236]);
    expect(logger.warns).toEqual([]);
    cq.close();
    expect(fileNames()).toEqual([offsetFileName(12 * 100 * CQ_ENTRY_SIZE)]);
    expect(fileSize(24_000)).toBe(36 * CQ_ENTRY_SIZE); // sparse holes before entry 34 of the file

    const reopened = open({ entriesPerFile: 100 });
    expect([reopened.minOffset, reopened.maxOffset]).toEqual([1234, 1236]);
    expect(reopened.read(0, 10)).toMatchObject({ nextOffset: 1236 });
    expect(offsets(reopened.read(0, 10).entries)).toEqual([1234, 1235]);
    reopened.close();
  });

  it('truncates by physical offset within the last file and across files', () => {
    const cq = open({ entriesPerFile: 10 });
    putRange(cq, 0, 25);
    cq.commit();

    cq.truncateByPhysicalOffset(end(21));
    expect(cq.maxOffset).toBe(22);
    expect(fileSize(400)).toBe(2 * CQ_ENTRY_SIZE);
    expect(cq.lastEntry()?.queueOffset).toBe(21);

    cq.truncateByPhysicalOffset(end(14) - 1); // entry 14 no longer fits
    expect(cq.maxOffset).toBe(14);
    expect(fileNames()).toEqual([offsetFileName(0), offsetFileName(200)]);
    expect(fileSize(200)).toBe(4 * CQ_ENTRY_SIZE);

    cq.truncateByPhysicalOffset(end(9)); // exactly at a file boundary: the second file goes
    expect(cq.maxOffset).toBe(10);
    expect(fileNames()).toEqual([offsetFileName(0)]);
    expect(cq.lastEntry()?.queueOffset).toBe(9);

    const logsBefore = logger.logs.length;
    cq.truncateByPhysicalOffset(10 ** 12); // nothing past the end: no I/O, no log
    expect(logger.logs.length).toBe(logsBefore);

    putRange(cq, 10, 13);
    cq.truncateByPhysicalOffset(end(11)); // staged entries are committed and cut too
    expect(cq.maxOffset).toBe(12);
    expect(fileSize(200)).toBe(2 * CQ_ENTRY_SIZE);

    cq.truncateByPhysicalOffset(0);
    expect([cq.minOffset, cq.maxOffset]).toEqual([0, 0]);
    expect(cq.lastEntry()).toBeUndefined();
    expect(fileNames()).toEqual([]);
    putRange(cq, 0, 3);
    expect(offsets(cq.read(0, 10).entries)).toEqual([0, 1, 2]);
    cq.close();

    const reopened = open({ entriesPerFile: 10 });
    expect(reopened.maxOffset).toBe(3);
    reopened.close();
  });

  it('deletes expired files, never the last one, and moves minOffset to the first live entry', () => {
    const cq = open({ entriesPerFile: 10 });
    putRange(cq, 0, 35);
    cq.commit();

    expect(cq.deleteExpired(phy(12))).toBe(1);
    expect(fileNames()).toEqual([offsetFileName(200), offsetFileName(400), offsetFileName(600)]);
    expect(cq.minOffset).toBe(12);
    expect(cq.read(0, 3)).toMatchObject({ nextOffset: 15 }); // below minOffset: clamped
    expect(offsets(cq.read(0, 3).entries)).toEqual([12, 13, 14]);
    expect(cq.entryAt(11)).toBeUndefined();
    expect(cq.deleteExpired(phy(12))).toBe(0);
    expect(cq.deleteExpired(phy(5))).toBe(0);
    expect(cq.minOffset).toBe(12); // never moves down

    expect(cq.deleteExpired(phy(33))).toBe(2);
    expect(fileNames()).toEqual([offsetFileName(600)]);
    expect(cq.minOffset).toBe(33);
    expect(cq.search(() => true)).toBe(33);

    expect(cq.deleteExpired(10 ** 12)).toBe(0); // everything expired: the last file stays
    expect(fileNames()).toEqual([offsetFileName(600)]);
    expect([cq.minOffset, cq.maxOffset]).toEqual([35, 35]);
    expect(cq.read(0, 10)).toEqual({ entries: [], nextOffset: 35 });
    expect(cq.lastEntry()?.queueOffset).toBe(34);

    cq.put(35, 10 ** 12, 100, 0);
    expect(offsets(cq.read(0, 10).entries)).toEqual([35]);
    expect(cq.read(1000, 10)).toEqual({ entries: [], nextOffset: 36 }); // above maxOffset: clamped
    cq.close();

    // After a reload minOffset is the first entry on disk until retention runs again.
    const reopened = open({ entriesPerFile: 10 });
    expect(reopened.minOffset).toBe(30);
    reopened.deleteExpired(10 ** 12);
    expect(reopened.minOffset).toBe(35);
    reopened.close();
  });

  it('treats zeroed entries as holes that readers skip', () => {
    const cq = open({ entriesPerFile: 10 });
    putRange(cq, 0, 3);
    cq.put(6, phy(6), 100, 0);
    expect(logger.warns.length).toBe(1);
    expect(cq.maxOffset).toBe(7);
    expect(cq.read(0, 10)).toMatchObject({ nextOffset: 7 });
    expect(offsets(cq.read(0, 10).entries)).toEqual([0, 1, 2, 6]);
    expect(cq.entryAt(4)).toBeUndefined();
    cq.commit();
    const bytes = readFileSync(join(queueDir(), offsetFileName(0)));
    expect(bytes.subarray(3 * CQ_ENTRY_SIZE, 6 * CQ_ENTRY_SIZE).equals(Buffer.alloc(3 * CQ_ENTRY_SIZE))).toBe(
      true,
    );

    // A gap past a whole file: the file in between is never created.
    cq.put(27, phy(27), 100, 0);
    cq.commit();
    expect(fileNames()).toEqual([offsetFileName(0), offsetFileName(400)]);
    expect(offsets(cq.read(0, 100).entries)).toEqual([0, 1, 2, 6, 27]);
    expect(cq.search((e) => e.physicalOffset >= phy(3))).toBe(6);
    expect(cq.search((e) => e.physicalOffset >= phy(7))).toBe(27);
    cq.close();

    const reopened = open({ entriesPerFile: 10 });
    expect([reopened.minOffset, reopened.maxOffset]).toEqual([0, 28]);
    expect(offsets(reopened.read(0, 100).entries)).toEqual([0, 1, 2, 6, 27]);
    // Holes in a file count as examined; a missing file is skipped for free.
    expect(reopened.read(10, 5)).toEqual({ entries: [], nextOffset: 25 });
    expect(offsets(reopened.read(25, 5).entries)).toEqual([27]);

    reopened.put(4, phy(4), 100, 0); // filling a hole is an overwrite
    expect(offsets(reopened.read(0, 5).entries)).toEqual([0, 1, 2, 4]); // the hole at 3 was examined
    expect(offsets(reopened.read(0, 100).entries)).toEqual([0, 1, 2, 4, 6, 27]);

    reopened.truncateByPhysicalOffset(end(6)); // the holes before the removed entry go with it
    expect(reopened.maxOffset).toBe(7);
    expect(fileNames()).toEqual([offsetFileName(0)]);
    reopened.close();
  });

  it('puts idempotently: the same entry is a no-op, a different one is overwritten and logged', () => {
    const cq = open({ entriesPerFile: 10 });
    putRange(cq, 0, 15);
    cq.commit();
    const before = readFileSync(join(queueDir(), offsetFileName(0)));
    putRange(cq, 0, 15); // recovery re-dispatch of what is already there
    expect(logger.warns).toEqual([]);
    expect(cq.maxOffset).toBe(15);
    expect(readFileSync(join(queueDir(), offsetFileName(0))).equals(before)).toBe(true);

    cq.put(3, 99_999, 100, 0);
    expect(logger.warns.length).toBe(1);
    expect(cq.entryAt(3)?.physicalOffset).toBe(99_999);
    cq.put(14, 88_888, 50, 7); // the last entry
    expect(cq.lastEntry()).toEqual({ queueOffset: 14, physicalOffset: 88_888, size: 50, tagsCode: 7 });

    putRange(cq, 15, 18);
    cq.put(16, phy(16), 100, 0); // same staged entry
    expect(logger.warns.length).toBe(2);
    cq.put(16, 77_777, 100, 0); // different staged entry
    expect(logger.warns.length).toBe(3);
    expect(cq.stagedCount).toBe(3);

    // Overwrites of committed entries reach the file at once, staged ones with the commit.
    const peek = open({ entriesPerFile: 10 });
    expect(peek.entryAt(3)?.physicalOffset).toBe(99_999);
    expect(peek.maxOffset).toBe(15);
    peek.close();
    cq.commit();
    const after = open({ entriesPerFile: 10 });
    expect(after.entryAt(16)?.physicalOffset).toBe(77_777);
    after.close();
    cq.close();
  });

  it('ignores puts below minOffset', () => {
    const cq = open({ entriesPerFile: 10 });
    putRange(cq, 100, 103);
    cq.put(50, 1, 1, 0);
    expect([cq.minOffset, cq.maxOffset]).toEqual([100, 103]);
    expect(offsets(cq.read(0, 10).entries)).toEqual([100, 101, 102]);
    cq.close();
  });

  it('binary-searches with a monotone predicate over committed and staged entries', () => {
    const cq = open({ entriesPerFile: 10 });
    putRange(cq, 0, 50);
    cq.commit();
    putRange(cq, 50, 55);
    let calls = 0;
    const at = cq.search((e) => {
      calls++;
      return e.physicalOffset >= phy(37);
    });
    expect(at).toBe(37);
    expect(calls).toBeLessThanOrEqual(8);
    expect(cq.search((e) => e.physicalOffset >= phy(52))).toBe(52);
    expect(cq.search(() => true)).toBe(0);
    expect(cq.search(() => false)).toBe(55);
    cq.close();
  });

  it('commits by itself when the staging buffer is full', () => {
    const cq = open({ maxStagedEntries: 4 });
    putRange(cq, 0, 10);
    expect(cq.stagedCount).toBe(2);
    expect(fileSize(0)).toBe(8 * CQ_ENTRY_SIZE);
    expect(offsets(cq.read(0, 20).entries)).toEqual(range(0, 10));
    cq.close();
  });

  it('tells its listener when it starts needing a commit or a flush', () => {
    let staged = 0;
    let unflushed = 0;
    const cq = open({ listener: { staged: () => staged++, unflushed: () => unflushed++ } });
    cq.put(0, phy(0), 100, 0);
    cq.put(1, phy(1), 100, 0);
    expect([staged, unflushed]).toEqual([1, 0]);
    cq.commit();
    expect([staged, unflushed]).toEqual([1, 1]);
    cq.put(2, phy(2), 100, 0);
    cq.commit();
    expect([staged, unflushed]).toEqual([2, 1]);
    cq.flush();
    cq.flush();
    expect([staged, unflushed]).toEqual([2, 1]);
    cq.put(3, phy(3), 100, 0);
    cq.flush();
    expect([staged, unflushed]).toEqual([3, 2]);
    cq.close();
  });

  it('works with a descriptor pool smaller than its number of files', () => {
    const pool = new FdPool(1);
    const cq = open({ entriesPerFile: 5, fdPool: pool });
    putRange(cq, 0, 30);
    cq.commit();
    expect(fileNames().length).toBe(6);
    expect(pool.size).toBe(1);
    expect(offsets(cq.read(0, 30).entries)).toEqual(range(0, 30));
    cq.put(2, 5, 5, 5);
    cq.flush();
    cq.truncateByPhysicalOffset(end(17));
    expect(cq.maxOffset).toBe(18);
    expect(cq.deleteExpired(phy(11))).toBe(2);
    expect(pool.size).toBeLessThanOrEqual(1);
    cq.close();
    expect(pool.size).toBe(0);
  });

  it('refuses use after close, reopens with load, and destroy deletes its files', () => {
    const cq = open();
    putRange(cq, 0, 3);
    cq.close();
    cq.close(); // idempotent
    expect(() => cq.put(3, phy(3), 100, 0)).toThrow(StoreClosedError);
    expect(() => cq.read(0, 1)).toThrow(StoreClosedError);
    cq.load();
    expect(cq.maxOffset).toBe(3);
    cq.destroy();
    expect(existsSync(queueDir())).toBe(false);
    expect(existsSync(join(root, TOPIC))).toBe(false);
    expect(() => cq.commit()).toThrow(StoreClosedError);
  });

  it('validates names and entries', () => {
    for (const topic of ['../x', 'a.b', 'a/b', '', 'x'.repeat(256), 'é']) {
      expect(() => new ConsumeQueue({ dir: root, topic, queueId: 0 })).toThrow(IllegalTopicError);
    }
    expect(() => new ConsumeQueue({ dir: root, topic: 't', queueId: 70_000 })).toThrow(IllegalQueueIdError);
    expect(() => new ConsumeQueue({ dir: root, topic: 't', queueId: 1.5 })).toThrow(IllegalQueueIdError);
    expect(new ConsumeQueue({ dir: root, topic: '%RETRY%group|x', queueId: 0 }).directory).toBe(
      join(root, '%RETRY%group|x', '0'),
    );
    const cq = open();
    expect(() => cq.put(-1, 0, 1, 0)).toThrow(ConsumeQueueError);
    expect(() => cq.put(0, 0, 0, 0)).toThrow(ConsumeQueueError); // size 0 would read as a hole
    expect(() => cq.put(0, -5, 1, 0)).toThrow(ConsumeQueueError);
    expect(() => cq.put(0, 0, 2 ** 32, 0)).toThrow(ConsumeQueueError);
    expect(() => cq.read(1.5, 1)).toThrow(ConsumeQueueError);
    expect(cq.maxOffset).toBe(0);
    cq.close();
  });

  it('refuses files that do not fit entriesPerFile', () => {
    const cq = open({ entriesPerFile: 10 });
    putRange(cq, 0, 25);
    cq.close();
    expect(() => open({ entriesPerFile: 20 })).toThrow(ConsumeQueueError); // 00…0200 is not on a file boundary
    expect(() => open({ entriesPerFile: 5 })).toThrow(ConsumeQueueError); // files too long
  });
});

import { spawn, type ChildProcess } from 'node:child_process';
import {
  closeSync,
  mkdtempSync,
  openSync,
  readSync,
  rmSync,
  statSync,
  truncateSync,
  writeSync,
  appendFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listOffsetFiles, offsetFileName } from './file-names.js';
import { MessageStore } from './message-store.js';
import { type StoredMessage } from './message-record.js';
import { CRASH_QUEUES, CRASH_TOPIC, deterministicMessage } from './testing/deterministic-message.js';

const APPENDER = fileURLToPath(new URL('./testing/crash-appender.ts', import.meta.url));
const SEGMENT = 256 * 1024;

interface Ack {
  readonly n: number;
  readonly queueId: number;
  readonly queueOffset: number;
}

interface Child {
  readonly process: ChildProcess;
  readonly acks: Ack[];
  readonly ready: Promise<void>;
  readonly done: Promise<void>;
  readonly exited: Promise<void>;
}

function startAppender(dataDir: string, first: number, count: number | 'forever'): Child {
  const child = spawn(
    process.execPath,
    [
      '--import',
      '@swc-node/register/esm-register',
      APPENDER,
      dataDir,
      String(first),
      String(count),
      String(SEGMENT),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const acks: Ack[] = [];
  let onReady!: () => void;
  let onDone!: () => void;
  const ready = new Promise<void>((r) => (onReady = r));
  const done = new Promise<void>((r) => (onDone = r));
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('ACK ')) {
        const [, n, q, o] = line.split(' ');
        acks.push({ n: Number(n), queueId: Number(q), queueOffset: Number(o) });
      } else if (line.startsWith('READY')) onReady();
      else if (line === 'DONE') onDone();
    }
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<void>((resolve, reject) =>
    child.on('exit', (code, signal) =>
      signal === 'SIGKILL' ? resolve() : reject(new Error(`appender exited ${code ?? signal}: ${stderr}`)),
    ),
  );
  exited.catch(() => undefined);
  return { process: child, acks, ready: Promise.race([ready, exited.then(() => undefined)]), done, exited };
}

async function kill(child: Child): Promise<void> {
  child.process.kill('SIGKILL');
  await child.exited;
}

function quietLogger(sink: string[] = []): {
  log: (m: string) => void;
  warn: (m: string) => void;
  error: (m: string) => void;
} {
  return { log: () => undefined, warn: (m) => sink.push(`WARN ${m}`), error: (m) => sink.push(`ERROR ${m}`) };
}

async function openStore(dataDir: string, logs: string[] = []): Promise<MessageStore> {
  return MessageStore.open({
    dataDir,
    flushMode: 'sync',
    segmentSize: SEGMENT,
    retentionIntervalMs: 0,
    logger: quietLogger(logs),
  });
}

/** Every message of a queue, in order, with the corrupt entries reported alongside. */
function readQueue(store: MessageStore, queueId: number): { messages: StoredMessage[]; corrupted: string[] } {
  const messages: StoredMessage[] = [];
  const corrupted: string[] = [];
  let offset = store.minOffset(CRASH_TOPIC, queueId);
  for (;;) {
    const r = store.getMessages(CRASH_TOPIC, queueId, offset, 256);
    messages.push(...r.messages);
    corrupted.push(...r.corrupted.map((c) => c.message));
    if (r.nextOffset >= r.maxOffset) return { messages, corrupted };
    offset = r.nextOffset;
  }
}

function expectIdentical(stored: StoredMessage | undefined, n: number): void {
  const expected = deterministicMessage(n);
  expect(stored?.messageId).toBe(expected.messageId);
  expect(stored!.body.equals(expected.body)).toBe(true);
  expect(stored!.keys).toEqual(expected.keys);
  expect(stored!.tag).toBe(expected.tag);
  expect(stored!.userProperties).toEqual(expected.userProperties);
}

function lastSegment(dataDir: string): { path: string; start: number } {
  const starts = listOffsetFiles(join(dataDir, 'commitlog'));
  const start = starts[starts.length - 1]!;
  return { path: join(dataDir, 'commitlog', offsetFileName(start)), start };
}

let dataDir: string;
beforeEach(() => {
  dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-crash-'));
});
afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('store crash recovery with real processes', () => {
  it('every append acknowledged in sync mode survives SIGKILL at random moments, byte for byte', async () => {
    const acked: Ack[] = [];
    let seed = 20261121;
    const random = (): number => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
    for (let round = 0; round < 5; round++) {
      const child = startAppender(dataDir, round * 1_000_000, 'forever');
      await child.ready;
      await sleep(150 + Math.floor(random() * 700));
      await kill(child);
      acked.push(...child.acks);
    }
    expect(acked.length).toBeGreaterThan(100);
    console.log(`SIGKILL test: ${acked.length} acknowledged appends over 5 kills`);

    const store = await openStore(dataDir);
    try {
      expect(store.recoveryReport?.abnormal).toBe(true);
      const byQueue = new Map<number, StoredMessage[]>();
      for (let q = 0; q < CRASH_QUEUES; q++) {
        const { messages, corrupted } = readQueue(store, q);
        expect(corrupted).toEqual([]);
        byQueue.set(q, messages);
      }
      for (const ack of acked) {
        // Queue offsets are dense (checked below), so a message's offset is its index.
        expectIdentical(byQueue.get(ack.queueId)![ack.queueOffset], ack.n);
        expect((await store.queryByMessageId(`MSG-${ack.n}`)).map((m) => m.queueOffset)).toContain(
          ack.queueOffset,
        );
      }
      // Queue offsets are dense: no holes and no duplicates after five recoveries.
      for (const messages of byQueue.values()) {
        messages.forEach((m, i) => expect(m.queueOffset).toBe(i));
      }
      expect(store.verify().corruptions).toEqual([]);
    } finally {
      await store.close();
    }
  }, 120_000);

  /** Appends `count` messages in a child, waits until all are acknowledged, then kills it. */
  async function crashAfter(count: number): Promise<Ack[]> {
    const child = startAppender(dataDir, 0, count);
    await child.done;
    await kill(child);
    expect(child.acks).toHaveLength(count);
    return child.acks;
  }

  it('a truncated tail is cut back to the last whole record and appending resumes', async () => {
    const acks = await crashAfter(40);
    const { path } = lastSegment(dataDir);
    truncateSync(path, statSync(path).size - 100);
    const logs: string[] = [];
    const store = await openStore(dataDir, logs);
    try {
      const report = store.recoveryReport!;
      expect(report.truncated?.file).toBe(path);
      expect(logs.join('\n')).toMatch(/truncated torn tail of .*0{5}\d* at file offset \d+/);
      const found = await Promise.all(acks.map((a) => store.queryByMessageId(`MSG-${a.n}`)));
      const survivors = found.filter((hits) => hits.length > 0);
      expect(survivors.length).toBe(acks.length - 1);
      for (let q = 0; q < CRASH_QUEUES; q++) {
        const { messages } = readQueue(store, q);
        for (const m of messages) expectIdentical(m, Number(m.messageId.slice(4)));
      }
      const r = await store.append(deterministicMessage(999));
      expectIdentical(store.getMessageByPhysicalOffset(r.physicalOffset), 999);
    } finally {
      await store.close();
    }
    const again = await openStore(dataDir);
    expect(again.recoveryReport?.abnormal).toBe(false);
    expect(again.recoveryReport?.truncated).toBeUndefined();
    expectIdentical((await again.queryByMessageId('MSG-999'))[0], 999);
    await again.close();
  }, 60_000);

  it('garbage appended after the last record is truncated; every acknowledged record survives', async () => {
    const acks = await crashAfter(40);
    const { path } = lastSegment(dataDir);
    const sizeBefore = statSync(path).size;
    appendFileSync(path, Buffer.from(Array.from({ length: 3000 }, (_, i) => (i * 131 + 7) & 0xff)));
    const store = await openStore(dataDir);
    try {
      expect(store.recoveryReport!.truncated?.fileOffset).toBe(sizeBefore);
      expect(statSync(path).size).toBe(sizeBefore);
      for (const a of acks) expectIdentical((await store.queryByMessageId(`MSG-${a.n}`))[0], a.n);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a half-overwritten last record is dropped; the records before it are intact', async () => {
    const acks = await crashAfter(40);
    const { path, start } = lastSegment(dataDir);
    const verify = await openStore(dataDir);
    const last = (await verify.queryByMessageId(`MSG-${acks[acks.length - 1]!.n}`))[0]!;
    await verify.close();
    const fileOffset = last.physicalOffset - start;
    expect(fileOffset + last.size).toBe(statSync(path).size);
    const fd = openSync(path, 'r+');
    const half = Math.floor(last.size / 2);
    writeSync(fd, Buffer.alloc(last.size - half, 0xa5), 0, last.size - half, fileOffset + half);
    closeSync(fd);
    // Reopen as after a crash: put the abort marker back.
    appendFileSync(join(dataDir, 'abort'), '999999\n');
    const store = await openStore(dataDir);
    try {
      expect(store.recoveryReport!.truncated?.physicalOffset).toBe(last.physicalOffset);
      expect(await store.queryByMessageId(last.messageId)).toEqual([]);
      for (const a of acks)
        if (`MSG-${a.n}` !== last.messageId)
          expectIdentical((await store.queryByMessageId(`MSG-${a.n}`))[0], a.n);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('a flipped bit in an acknowledged record is reported with file and offset, never served, and later records still are', async () => {
    const acks = await crashAfter(60);
    const probe = await openStore(dataDir);
    const victim = (await probe.queryByMessageId(`MSG-${acks[20]!.n}`))[0]!;
    await probe.close();
    const segmentStart = victim.physicalOffset - (victim.physicalOffset % SEGMENT);
    const file = join(dataDir, 'commitlog', offsetFileName(segmentStart));
    const at = victim.physicalOffset - segmentStart + victim.size - 3; // inside the body
    const fd = openSync(file, 'r+');
    const byte = Buffer.alloc(1);
    readSync(fd, byte, 0, 1, at);
    byte[0]! ^= 0x10;
    writeSync(fd, byte, 0, 1, at);
    closeSync(fd);

    const logs: string[] = [];
    const store = await openStore(dataDir, logs);
    try {
      const { messages, corrupted } = readQueue(store, victim.queueId);
      expect(corrupted).toHaveLength(1);
      expect(corrupted[0]).toContain(file);
      expect(corrupted[0]).toContain(`file offset ${victim.physicalOffset - segmentStart}`);
      expect(logs.some((l) => l.startsWith('ERROR') && l.includes(file) && l.includes('not served'))).toBe(
        true,
      );
      expect(messages.find((m) => m.messageId === victim.messageId)).toBeUndefined();
      expect(await store.queryByMessageId(victim.messageId)).toEqual([]);
      const laterInQueue = acks.filter(
        (a) => a.queueId === victim.queueId && a.queueOffset > victim.queueOffset,
      );
      expect(laterInQueue.length).toBeGreaterThan(0);
      for (const a of laterInQueue)
        expectIdentical(
          messages.find((m) => m.queueOffset === a.queueOffset),
          a.n,
        );
      const audit = store.verify();
      expect(audit.corruptions).toHaveLength(1);
      expect(audit.corruptions[0]).toMatchObject({ file, physicalOffset: victim.physicalOffset });
    } finally {
      await store.close();
    }
  }, 60_000);
});

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConsumeQueueStore } from './consume-queue-store.js';
import { type DispatchRequest, type StoreLogger } from './dispatch-request.js';
import { IllegalQueueIdError, IllegalTopicError, StoreClosedError } from './errors.js';

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

let base: string;
let dir: string;
let logger: CapturingLogger;

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'cqs-'));
  dir = join(base, 'consumequeue');
  logger = new CapturingLogger();
});

afterEach(() => {
  rmSync(base, { recursive: true, force: true });
});

function openStore(entriesPerFile = 10): ConsumeQueueStore {
  const store = new ConsumeQueueStore({ dir, entriesPerFile, logger });
  store.load();
  return store;
}

let nextPhysical = 0;
function request(
  topic: string,
  queueId: number,
  queueOffset: number,
  size = 100,
  tagsCode = 0,
): DispatchRequest {
  const physicalOffset = nextPhysical;
  nextPhysical += size;
  return {
    topic,
    queueId,
    queueOffset,
    physicalOffset,
    size,
    tagsCode,
    storeTimestamp: 0,
    messageId: `m${physicalOffset}`,
    keys: [],
    sysFlag: 0,
  };
}

beforeEach(() => {
  nextPhysical = 0;
});

describe('ConsumeQueueStore', () => {
  it('routes dispatch requests to one queue per (topic, queue id)', () => {
    const store = openStore();
    store.put(request('b', 1, 0));
    store.put(request('a', 3, 0));
    store.put(request('a', 0, 0, 50, 9));
    store.put(request('a', 3, 1));
    store.commit();
    expect(store.topics()).toEqual(['a', 'b']);
    expect(store.queueIds('a')).toEqual([0, 3]);
    expect(store.queueIds('nope')).toEqual([]);
    expect(store.find('a', 3)?.maxOffset).toBe(2);
    expect(store.find('a', 1)).toBeUndefined();
    expect(store.find('a', 0)?.read(0, 10).entries).toEqual([
      { queueOffset: 0, physicalOffset: 200, size: 50, tagsCode: 9 },
    ]);
    expect(store.findOrCreate('a', 3)).toBe(store.find('a', 3));
    expect([...store.queues()].length).toBe(3);
    expect(existsSync(join(dir, 'a', '3', '00000000000000000000'))).toBe(true);
    store.close();
  });

  it('discovers topics with % and | in their names and skips anything else with a warning', () => {
    const legal = ['%RETRY%group-1', '%DLQ%group-1', 'LMQ|x|y', 'plain_Topic-9'];
    const store = openStore();
    for (const topic of legal) {
      store.put(request(topic, 0, 0));
      store.put(request(topic, 2, 0));
      store.put(request(topic, 2, 1));
    }
    store.close();

    mkdirSync(join(dir, 'bad name', '0'), { recursive: true });
    mkdirSync(join(dir, 'a.b', '0'), { recursive: true });
    writeFileSync(join(dir, 'README'), 'not a topic');
    for (const name of ['007', 'abc', '70000', '-1']) mkdirSync(join(dir, 'plain_Topic-9', name));
    writeFileSync(join(dir, 'plain_Topic-9', '3'), 'not a queue directory');

    const reopened = openStore();
    expect(reopened.topics()).toEqual([...legal].sort());
    for (const topic of legal) {
      expect(reopened.queueIds(topic)).toEqual([0, 2]);
      expect(reopened.find(topic, 2)?.maxOffset).toBe(2);
    }
    expect(logger.warns.length).toBe(8);
    expect(logger.warns.some((w) => w.includes('bad name'))).toBe(true);
    expect(logger.warns.some((w) => w.includes('007'))).toBe(true);
    reopened.close();
  });

  it('commits and flushes only the queues written since the last call', () => {
    const store = openStore();
    for (let q = 0; q < 200; q++) store.findOrCreate('idle', q);
    expect(store.stagedQueueCount).toBe(0);

    store.put(request('busy', 0, 0));
    store.put(request('busy', 0, 1));
    store.findOrCreate('idle', 7).put(0, 12_345, 10, 0); // a direct put is tracked as well
    expect(store.stagedQueueCount).toBe(2);
    expect(store.unflushedQueueCount).toBe(0);

    store.commit();
    expect(store.stagedQueueCount).toBe(0);
    expect(store.unflushedQueueCount).toBe(2);
    expect(store.find('busy', 0)?.stagedCount).toBe(0);

    store.flush();
    expect(store.unflushedQueueCount).toBe(0);

    store.put(request('busy', 0, 2));
    store.flush(); // commits first
    expect([store.stagedQueueCount, store.unflushedQueueCount]).toEqual([0, 0]);
    expect(store.find('busy', 0)?.read(0, 10).entries.length).toBe(3);
    store.close();
  });

  it('reports the highest physical end referenced by any queue', () => {
    const store = openStore();
    expect(store.maxPhysicalEnd()).toBe(0);
    store.put({ ...request('a', 0, 0), physicalOffset: 500, size: 100 });
    store.put({ ...request('b', 1, 0), physicalOffset: 1000, size: 24 });
    store.put({ ...request('a', 0, 1), physicalOffset: 600, size: 100 });
    expect(store.maxPhysicalEnd()).toBe(1024); // staged entries count
    store.commit();
    store.close();

    const reopened = openStore();
    expect(reopened.maxPhysicalEnd()).toBe(1024);
    reopened.truncateByPhysicalOffset(700);
    expect(reopened.maxPhysicalEnd()).toBe(700);
    expect(reopened.find('b', 1)?.maxOffset).toBe(0);
    expect(reopened.find('a', 0)?.maxOffset).toBe(2);
    reopened.truncateByPhysicalOffset(650);
    expect(reopened.maxPhysicalEnd()).toBe(600);
    reopened.close();
  });

  it('applies retention across all queues', () => {
    const store = openStore(10);
    for (let i = 0; i < 30; i++) {
      store.put(request('a', 0, i));
      store.put(request('b', 0, i));
    }
    store.commit();
    // Records of a and b interleave: entry i of each is at 200 i (+100 for b).
    expect(store.deleteExpired(200 * 15)).toBe(2);
    expect(store.find('a', 0)?.minOffset).toBe(15);
    expect(store.find('b', 0)?.minOffset).toBe(15);
    expect(store.deleteExpired(200 * 15)).toBe(0);
    store.close();
  });

  it('deletes a topic with its directory, and only that', () => {
    const store = openStore();
    store.put(request('gone', 0, 0));
    store.put(request('gone', 1, 0));
    store.put(request('kept', 0, 0));
    store.commit();
    store.deleteTopic('gone');
    expect(store.topics()).toEqual(['kept']);
    expect(existsSync(join(dir, 'gone'))).toBe(false);
    expect(store.stagedQueueCount + store.unflushedQueueCount).toBe(1);
    store.deleteTopic('..'); // not a topic: never a path
    store.deleteTopic('never-existed');
    expect(existsSync(join(dir, 'kept', '0'))).toBe(true);
    expect(store.findOrCreate('gone', 0).maxOffset).toBe(0);
    store.flush();
    store.close();
  });

  it('reopens with load after close, refuses new queues while closed, and destroy deletes the root', () => {
    const store = openStore();
    store.put(request('t', 0, 0));
    store.close();
    expect(() => store.findOrCreate('t', 1)).toThrow(StoreClosedError);
    expect(() => store.put(request('t', 0, 1))).toThrow(StoreClosedError);
    store.load();
    expect(store.find('t', 0)?.maxOffset).toBe(1);
    store.destroy();
    expect(existsSync(dir)).toBe(false);
    expect(store.topics()).toEqual([]);
  });

  it('rejects illegal topic names and queue ids', () => {
    const store = openStore();
    expect(() => store.findOrCreate('a/b', 0)).toThrow(IllegalTopicError);
    expect(() => store.findOrCreate('..', 0)).toThrow(IllegalTopicError);
    expect(() => store.findOrCreate('t', -1)).toThrow(IllegalQueueIdError);
    expect(() => store.put(request('t', 65_536, 0))).toThrow(IllegalQueueIdError);
    expect(store.topics()).toEqual([]);
    store.close();
  });
});

import { closeSync, fdatasync, openSync, readSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { readUInt64, writeUInt64 } from './uint64.js';

/**
 * What the store knows is safe on disk (RocketMQ's StoreCheckpoint, one 4 KiB page), kept in two
 * alternating pages so that a torn checkpoint write always leaves the previous one intact; each
 * page carries a generation and a CRC, and the newest valid page wins.
 */
export interface CheckpointState {
  /** Everything in the commit log below this offset was fdatasynced: recovery validates from here. */
  readonly commitLogFlushedOffset: number;
  /** Consume queues and index are durable for every record below this offset: re-dispatch from here. */
  readonly dispatchedOffset: number;
  /** Store timestamp of the last flushed message (RocketMQ physicMsgTimestamp). */
  readonly physicMsgTimestamp: number;
  /** Store timestamp of the last message covered by the flushed consume queues / index. */
  readonly logicsMsgTimestamp: number;
  readonly indexMsgTimestamp: number;
}

const PAGE_SIZE = 4096;
const MAGIC = 0x524e4350; // "RNCP"
const VERSION = 1;
const BODY_SIZE = 4 + 4 + 8 + 5 * 8;

export class Checkpoint {
  private generation = 0;
  private readonly page = Buffer.alloc(PAGE_SIZE);

  private constructor(
    readonly path: string,
    private readonly fd: number,
  ) {}

  static open(path: string): Checkpoint {
    closeSync(openSync(path, 'a')); // create if missing, then open for positional read/write
    return new Checkpoint(path, openSync(path, 'r+'));
  }

  /** The newest intact checkpoint, or undefined for a new store (or if both pages are damaged). */
  read(): CheckpointState | undefined {
    let best: { generation: number; state: CheckpointState } | undefined;
    for (let i = 0; i < 2; i++) {
      const buf = Buffer.alloc(PAGE_SIZE);
      if (readSync(this.fd, buf, 0, PAGE_SIZE, i * PAGE_SIZE) < BODY_SIZE + 4) continue;
      if (buf.readUInt32BE(0) !== MAGIC || buf.readUInt32BE(4) !== VERSION) continue;
      if (crc32(buf.subarray(0, BODY_SIZE)) !== buf.readUInt32BE(BODY_SIZE)) continue;
      const generation = readUInt64(buf, 8);
      if (best && best.generation >= generation) continue;
      best = {
        generation,
        state: {
          commitLogFlushedOffset: readUInt64(buf, 16),
          dispatchedOffset: readUInt64(buf, 24),
          physicMsgTimestamp: readUInt64(buf, 32),
          logicsMsgTimestamp: readUInt64(buf, 40),
          indexMsgTimestamp: readUInt64(buf, 48),
        },
      };
    }
    if (best) this.generation = best.generation;
    return best?.state;
  }

  /**
   * Writes the next generation into the older page and fdatasyncs it; resolves once it is durable.
   * The fdatasync runs off the event loop: it waits for an ext4 journal commit (5-20 ms measured
   * here under append load), which a synchronous call would take out of the store's thread once a
   * second. Callers run one write at a time (the store serialises its checkpoints).
   */
  write(state: CheckpointState): Promise<void> {
    const buf = this.page;
    this.generation++;
    buf.writeUInt32BE(MAGIC, 0);
    buf.writeUInt32BE(VERSION, 4);
    writeUInt64(buf, this.generation, 8);
    writeUInt64(buf, state.commitLogFlushedOffset, 16);
    writeUInt64(buf, state.dispatchedOffset, 24);
    writeUInt64(buf, state.physicMsgTimestamp, 32);
    writeUInt64(buf, state.logicsMsgTimestamp, 40);
    writeUInt64(buf, state.indexMsgTimestamp, 48);
    buf.writeUInt32BE(crc32(buf.subarray(0, BODY_SIZE)), BODY_SIZE);
    writeSync(this.fd, buf, 0, PAGE_SIZE, (this.generation % 2) * PAGE_SIZE);
    return new Promise((resolve, reject) => fdatasync(this.fd, (err) => (err ? reject(err) : resolve())));
  }

  close(): void {
    closeSync(this.fd);
  }
}

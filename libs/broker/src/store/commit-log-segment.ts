import {
  closeSync,
  fdatasync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  rmSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { offsetFileName } from './file-names.js';

/**
 * One commit-log segment file: `segmentSize` bytes of the log starting at `startOffset`, named by
 * that offset. All I/O is positional (pwrite/pread): Node has no mmap, and positional calls let
 * the writer and any number of readers share one descriptor without seeking.
 */
export class CommitLogSegment {
  readonly path: string;
  private fd: number;

  private constructor(
    readonly startOffset: number,
    readonly size: number,
    dir: string,
    fd: number,
  ) {
    this.path = join(dir, offsetFileName(startOffset));
    this.fd = fd;
  }

  static open(dir: string, startOffset: number, size: number, create: boolean): CommitLogSegment {
    const path = join(dir, offsetFileName(startOffset));
    const fd = openSync(path, create ? 'a+' : 'r+');
    // 'a+' would force appends to the end; reopen read-write now that the file exists.
    if (create) {
      closeSync(fd);
      return new CommitLogSegment(startOffset, size, dir, openSync(path, 'r+'));
    }
    return new CommitLogSegment(startOffset, size, dir, fd);
  }

  get endOffset(): number {
    return this.startOffset + this.size;
  }

  get fileName(): string {
    return offsetFileName(this.startOffset);
  }

  contains(offset: number): boolean {
    return offset >= this.startOffset && offset < this.startOffset + this.size;
  }

  /** Writes all of `buf[from, to)` at log offset `physicalOffset`, looping over short writes. */
  write(buf: Buffer, from: number, to: number, physicalOffset: number): void {
    let position = physicalOffset - this.startOffset;
    while (from < to) {
      const written = writeSync(this.fd, buf, from, to - from, position);
      from += written;
      position += written;
    }
  }

  /** Reads into `buf` at `bufOffset` up to `length` bytes from log offset `physicalOffset`; returns bytes read. */
  read(buf: Buffer, bufOffset: number, length: number, physicalOffset: number): number {
    let total = 0;
    while (total < length) {
      const n = readSync(
        this.fd,
        buf,
        bufOffset + total,
        length - total,
        physicalOffset - this.startOffset + total,
      );
      if (n === 0) break;
      total += n;
    }
    return total;
  }

  /** One asynchronous fdatasync; the caller guarantees at most one is in flight per log. */
  sync(callback: (err: NodeJS.ErrnoException | null) => void): void {
    fdatasync(this.fd, callback);
  }

  stat(): Stats {
    return fstatSync(this.fd);
  }

  /** Cuts the file at log offset `physicalOffset` (recovery of a torn tail). */
  truncate(physicalOffset: number): void {
    ftruncateSync(this.fd, Math.max(0, physicalOffset - this.startOffset));
  }

  /** Extends the file to its full size without writing data (sparse), when preallocation is on. */
  reserve(): void {
    if (this.stat().size < this.size) ftruncateSync(this.fd, this.size);
  }

  close(): void {
    if (this.fd >= 0) {
      closeSync(this.fd);
      this.fd = -1;
    }
  }

  destroy(): void {
    this.close();
    rmSync(this.path, { force: true });
  }
}

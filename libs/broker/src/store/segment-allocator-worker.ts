/**
 * The worker side of SegmentAllocator: zero-fills a segment-to-be under a temporary name, one
 * chunk per turn so that an abort is seen promptly, then reports it ready. It never touches a file
 * the commit log uses: the log renames a finished file into place itself.
 */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { type AllocatorReply, type AllocatorRequest } from './segment-allocator-protocol.js';

const port = parentPort;
if (!port) throw new Error('segment-allocator-worker must run in a worker thread');

const CHUNK = 1024 * 1024;
const zeros = Buffer.alloc(CHUNK);
let current:
  { readonly path: string; readonly size: number; fd: number; filled: number; aborted: boolean } | undefined;

function finish(reply: AllocatorReply): void {
  if (current && current.fd >= 0) closeSync(current.fd);
  current = undefined;
  port!.postMessage(reply);
}

function step(): void {
  const job = current;
  if (!job) return;
  if (job.aborted) {
    closeSync(job.fd);
    rmSync(job.path, { force: true });
    current = undefined;
    return;
  }
  try {
    const length = Math.min(CHUNK, job.size - job.filled);
    let done = 0;
    while (done < length) done += writeSync(job.fd, zeros, done, length - done, job.filled + done);
    job.filled += length;
  } catch (err) {
    rmSync(job.path, { force: true });
    finish({ type: 'failed', path: job.path, message: err instanceof Error ? err.message : String(err) });
    return;
  }
  if (job.filled < job.size) setImmediate(step);
  else finish({ type: 'ready', path: job.path });
}

port.on('message', (request: AllocatorRequest) => {
  if (request.op === 'abort') {
    if (current?.path === request.path) current.aborted = true;
    else rmSync(request.path, { force: true });
    return;
  }
  if (current) current.aborted = true;
  try {
    current = {
      path: request.path,
      size: request.size,
      fd: openSync(request.path, 'w'),
      filled: 0,
      aborted: false,
    };
  } catch (err) {
    port.postMessage({
      type: 'failed',
      path: request.path,
      message: err instanceof Error ? err.message : String(err),
    } satisfies AllocatorReply);
    return;
  }
  setImmediate(step);
});

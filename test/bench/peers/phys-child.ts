/**
 * Bench child: this machine's own baselines, measured in the same run as the systems
 * (PERFORMANCE.md (c) "phys"), each in a fresh process:
 *   - `group-commit`: the group-commit append ceiling as store-bench measures it (64 appenders,
 *     writeSync + one in-flight fdatasync, 1 KiB records): the D1 ceiling;
 *   - `fdatasync`: one 1 KiB append + its own fdatasync, p50/p99: the latency floor of an fsync;
 *   - `tcp`: pipelined loopback TCP between two processes, 1 KiB requests each answered by an
 *     8-byte ack, a window of 256 requests outstanding: the transport ceiling;
 *   - `tcp-server`: the other process of `tcp` (prints its port, acks until the client leaves).
 * Usage: phys-child <mode> <JSON {root, messages}>; phys.ts runs it.
 */
import { fork } from 'node:child_process';
import { connect, createServer, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { groupCommitCeiling, fdatasyncLatency, writeCeiling } from '../common/ceilings.js';
import { answerAndExit } from '../common/child-process.js';
import { nowMs } from '../common/measure.js';
import {
  FDATASYNC_SAMPLES,
  PHYS_MARKER,
  TCP_ACK_BYTES,
  TCP_REQUEST_BYTES,
  TCP_WINDOW,
  type PhysInput,
  type PhysMode,
  type PhysResult,
} from './phys.js';

const PORT_LINE = 'TCP_SERVER_PORT ';

function tcpServer(): void {
  const server = createServer((socket: Socket) => {
    socket.setNoDelay(true);
    let pending = 0;
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.length;
      const whole = Math.floor(pending / TCP_REQUEST_BYTES);
      if (whole === 0) return;
      pending -= whole * TCP_REQUEST_BYTES;
      socket.write(Buffer.alloc(whole * TCP_ACK_BYTES, 1));
    });
    socket.on('close', () => process.exit(0));
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    process.stdout.write(`${PORT_LINE}${typeof address === 'object' && address ? address.port : 0}\n`);
  });
}

async function tcpClient(count: number): Promise<PhysResult> {
  const server = fork(fileURLToPath(import.meta.url), ['tcp-server'], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let text = '';
    server.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      text += chunk;
      const match = new RegExp(`${PORT_LINE}(\\d+)`).exec(text);
      if (match) resolve(Number(match[1]));
    });
    server.once('exit', (code) => reject(new Error(`tcp server exited (${code})`)));
  });
  const socket = connect(port, '127.0.0.1');
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const request = Buffer.alloc(TCP_REQUEST_BYTES, 2);
  let sent = 0;
  let acked = 0;
  let ackBytes = 0;
  const sendUpTo = (limit: number): void => {
    const n = Math.min(limit, count) - sent;
    if (n <= 0) return;
    socket.write(n === 1 ? request : Buffer.concat(Array.from({ length: n }, () => request)));
    sent += n;
  };
  const startedAt = nowMs();
  const elapsedMs = await new Promise<number>((resolve, reject) => {
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      ackBytes += chunk.length;
      acked = Math.floor(ackBytes / TCP_ACK_BYTES);
      if (acked >= count) resolve(nowMs() - startedAt);
      else sendUpTo(acked + TCP_WINDOW);
    });
    sendUpTo(TCP_WINDOW);
  });
  socket.destroy();
  return { mode: 'tcp', perSecond: count / (elapsedMs / 1000) };
}

async function measure(mode: PhysMode, input: PhysInput): Promise<PhysResult> {
  switch (mode) {
    case 'group-commit':
      return { mode, perSecond: await groupCommitCeiling(input.root, input.messages) };
    case 'write':
      return { mode, perSecond: writeCeiling(input.root, input.messages) };
    case 'fdatasync': {
      const { p50Ms, p99Ms } = fdatasyncLatency(input.root, FDATASYNC_SAMPLES);
      return { mode, perSecond: 1000 / p50Ms, p50Ms, p99Ms };
    }
    case 'tcp':
      return tcpClient(input.messages);
  }
}

const mode = process.argv[2];
if (mode === 'tcp-server') {
  tcpServer();
} else {
  const raw = process.argv[3];
  if (mode === undefined || raw === undefined) {
    process.stderr.write('usage: phys-child <mode> <JSON {root, messages}>\n');
    process.exit(2);
  }
  answerAndExit(PHYS_MARKER, () => measure(mode as PhysMode, JSON.parse(raw) as PhysInput));
}

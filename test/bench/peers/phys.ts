/**
 * The machine's own baselines of a bench round (phys-child.ts measures them, each in a fresh
 * process): the group-commit ceiling (D1 throughput), one fdatasync (D1 latency floor), a bare
 * writeSync loop (D0 disk ceiling) and pipelined loopback TCP (transport ceiling).
 */
import { nodeArgsOf, runMarkedChild } from '../common/child-process.js';

export const PHYS_MARKER = 'PHYS_RESULT ';
export const TCP_REQUEST_BYTES = 1024;
export const TCP_ACK_BYTES = 8;
/** Requests outstanding on the pipelined TCP connection: the bench's publish window. */
export const TCP_WINDOW = 256;
/** Appends timed one by one for the fdatasync latency. */
export const FDATASYNC_SAMPLES = 1000;
const PHYS_TIMEOUT_MS = 120_000;

export type PhysMode = 'group-commit' | 'fdatasync' | 'write' | 'tcp';
export const PHYS_MODES: readonly PhysMode[] = ['group-commit', 'fdatasync', 'write', 'tcp'];

export interface PhysInput {
  /** Where the ceilings write their scratch files (the systems' data live on the same disk). */
  readonly root: string;
  /** Records (group-commit, write) or requests (tcp) per measurement. */
  readonly messages: number;
}

export interface PhysResult {
  readonly mode: PhysMode;
  /** Records/s (group-commit, write), requests/s (tcp); fdatasync: 1000 / p50 ms. */
  readonly perSecond: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

export function measurePhys(mode: PhysMode, input: PhysInput): Promise<PhysResult> {
  return runMarkedChild<PhysResult>({
    args: [...nodeArgsOf(import.meta.url, './phys-child'), mode, JSON.stringify(input)],
    marker: PHYS_MARKER,
    timeoutMs: PHYS_TIMEOUT_MS,
    label: `phys ${mode}`,
  });
}

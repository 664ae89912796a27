/**
 * A broker's CPU time and memory from /proc (Linux): read before and after each workload, so the
 * bench charges each system's server process — ours, beam.smp, nats-server — with what it spent.
 * The peers' PIDs are found by the port they listen on, as `ss -ltnp` does.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on every Linux build we run). */
export const USER_HZ = 100;
const TCP_LISTEN_STATE = '0A';

export interface ProcSample {
  /** User + system CPU seconds since the process started. */
  readonly cpuSeconds: number;
  /** Resident set now, and its high-water mark (VmHWM), in MiB. */
  readonly rssMb: number;
  readonly peakRssMb: number;
}

/** The process's counters now, or undefined when it is gone or /proc is not readable. */
export function sampleProc(pid: number): ProcSample | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[14 - 3]);
    const stime = Number(fields[15 - 3]);
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (name: string): number =>
      Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return {
      cpuSeconds: (utime + stime) / USER_HZ,
      rssMb: kib('VmRSS') / 1024,
      peakRssMb: kib('VmHWM') / 1024,
    };
  } catch {
    return undefined;
  }
}

/** What a process spent between two samples: CPU seconds, and its memory at the second. */
export interface ProcUsage {
  readonly cpuSeconds: number;
  readonly rssMb: number;
  readonly peakRssMb: number;
}

export function usageBetween(
  before: ProcSample | undefined,
  after: ProcSample | undefined,
): ProcUsage | undefined {
  if (!before || !after) return undefined;
  return { cpuSeconds: after.cpuSeconds - before.cpuSeconds, rssMb: after.rssMb, peakRssMb: after.peakRssMb };
}

function listeningInodes(port: number): Set<string> {
  const inodes = new Set<string>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text: string;
    try {
      text = readFileSync(table, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== TCP_LISTEN_STATE) continue;
      const localPort = parseInt(cols[1]!.split(':')[1]!, 16);
      if (localPort === port) inodes.add(cols[9]!);
    }
  }
  return inodes;
}

/** The PID of the process listening on TCP `port` on this machine, if one is visible to us. */
export function pidListeningOn(port: number): number | undefined {
  const inodes = listeningInodes(port);
  if (inodes.size === 0) return undefined;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${entry}/fd/${fd}`));
        if (match && inodes.has(match[1]!)) return Number(entry);
      } catch {
        // the fd closed while we looked
      }
    }
  }
  return undefined;
}

/** The command name of a process (`beam.smp`, `nats-server`, `node`). */
export function commandOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return undefined;
  }
}

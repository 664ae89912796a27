/**
 * The sample's processes as real OS processes, the way docker-compose.yml runs them (one process
 * per service, configured only through the environment): spawned from their TypeScript source
 * with the swc loader, their output kept for assertions and failure messages, always stopped.
 *
 * Every process started through a `ProcessGroup` is SIGKILLed by `stopAll()` (call it in
 * `afterAll`) and, as a last resort, when the test worker itself exits, so a failing or timed-out
 * test never leaves a service running on the shared machine.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The repository root (this file is test/e2e/support/). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..', '..');

/** How node runs a `.ts` entry point (see the brief: the e2e tests start their children so). */
export const TS_LOADER_ARGS = ['--import', '@swc-node/register/esm-register'] as const;

/** Output lines kept per process (the newest); enough for any failure message. */
const OUTPUT_LINES_KEPT = 2000;
/** Lines of output quoted in an error. */
const OUTPUT_LINES_QUOTED = 60;
/** A process asked to stop gracefully is SIGKILLed after this long. */
export const GRACEFUL_STOP_TIMEOUT_MS = 20_000;
/** Default wait for a line a process prints when it is ready (from source it compiles first). */
export const READY_TIMEOUT_MS = 90_000;

export interface ProcessSpec {
  /** Names the process in errors (`payment-service`). */
  readonly label: string;
  /** Node's arguments: `[...TS_LOADER_ARGS, 'apps/x/src/main.ts']`, or a built `.js`. */
  readonly args: readonly string[];
  /** The whole environment beyond PATH and HOME: nothing of the test's own leaks in. */
  readonly env: Readonly<Record<string, string>>;
  /** Default the repository root. */
  readonly cwd?: string;
  /** Run this instead of node (`npm`). */
  readonly command?: string;
  /**
   * Start it in a process group of its own and signal the whole group: for a command that starts
   * children of its own (`npm start` runs a shell that runs node), so none outlives the test.
   */
  readonly processGroup?: boolean;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The environment every child gets: enough to find node and npm, nothing else. */
export function baseEnv(): Record<string, string> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  return env;
}

/** One running process and what it printed. */
export class ServiceProcess {
  readonly label: string;
  readonly exited: Promise<ExitInfo>;
  readonly #child: ChildProcess;
  readonly #group: boolean;
  readonly #lines: string[] = [];
  #partial = '';
  #waiters: (() => void)[] = [];
  #exit: ExitInfo | undefined;

  constructor(spec: ProcessSpec) {
    this.label = spec.label;
    this.#group = spec.processGroup === true;
    this.#child = spawn(spec.command ?? process.execPath, [...spec.args], {
      cwd: spec.cwd ?? REPO_ROOT,
      env: { ...baseEnv(), ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: this.#group,
    });
    for (const stream of [this.#child.stdout!, this.#child.stderr!]) {
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => this.#collect(chunk));
    }
    this.exited = new Promise((resolve) => {
      this.#child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        this.#wake();
        resolve(this.#exit);
      });
      this.#child.once('error', (err) => {
        this.#lines.push(`spawn error: ${err.message}`);
        this.#exit = { code: -1, signal: null };
        this.#wake();
        resolve(this.#exit);
      });
    });
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Undefined while it runs. */
  get exit(): ExitInfo | undefined {
    return this.#exit;
  }

  /** Everything kept of its output, one entry per line. */
  get lines(): readonly string[] {
    return this.#lines;
  }

  /** The last lines of its output, for error messages. */
  tail(lines = OUTPUT_LINES_QUOTED): string {
    return this.#lines.slice(-lines).join('\n');
  }

  /**
   * The first kept line matching `pattern`; waits for it.
   * @throws Error (with the output's tail) when the process exits first or `timeoutMs` passes
   */
  async waitForLine(pattern: RegExp, timeoutMs = READY_TIMEOUT_MS): Promise<RegExpExecArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of this.#lines) {
        const match = pattern.exec(line);
        if (match) return match;
      }
      if (this.#exit !== undefined) {
        throw new Error(
          `${this.label} exited (${this.#exit.code ?? this.#exit.signal}) before printing ${pattern}:\n${this.tail()}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `${this.label} printed no line matching ${pattern} in ${timeoutMs} ms:\n${this.tail()}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 250);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Sends `signal` (to its whole group when it has one; no-op once it exited). */
  signal(signal: NodeJS.Signals): void {
    if (this.#group && this.#child.pid !== undefined) {
      // The group outlives its leader when a child ignores the leader's end: signal it regardless.
      try {
        process.kill(-this.#child.pid, signal);
      } catch {
        // no process left in the group
      }
      return;
    }
    if (this.#exit === undefined) this.#child.kill(signal);
  }

  /** SIGKILL, and its exit. */
  async kill(): Promise<ExitInfo> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /** SIGTERM, then SIGKILL if it has not exited within `timeoutMs`; its exit. */
  async stop(timeoutMs = GRACEFUL_STOP_TIMEOUT_MS): Promise<ExitInfo> {
    if (this.#exit !== undefined) return this.#exit;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), timeoutMs);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }

  /** SIGKILL without waiting (the worker's exit hook cannot wait). */
  killNow(): void {
    try {
      this.signal('SIGKILL');
    } catch {
      // already gone
    }
  }

  #collect(chunk: string): void {
    const text = this.#partial + chunk;
    const parts = text.split('\n');
    this.#partial = parts.pop() ?? '';
    for (const line of parts) if (line !== '') this.#lines.push(line);
    if (this.#lines.length > OUTPUT_LINES_KEPT) this.#lines.splice(0, this.#lines.length - OUTPUT_LINES_KEPT);
    this.#wake();
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }
}

const LIVE = new Set<ServiceProcess>();
let exitHookInstalled = false;

/** The processes of one test file; `stopAll()` in `afterAll` ends every one of them. */
export class ProcessGroup {
  readonly #started: ServiceProcess[] = [];

  start(spec: ProcessSpec): ServiceProcess {
    if (!exitHookInstalled) {
      exitHookInstalled = true;
      process.once('exit', () => {
        for (const p of LIVE) p.killNow();
      });
    }
    const started = new ServiceProcess(spec);
    this.#started.push(started);
    LIVE.add(started);
    void started.exited.then(() => LIVE.delete(started));
    return started;
  }

  /** Every process started, in order. */
  get processes(): readonly ServiceProcess[] {
    return this.#started;
  }

  /** SIGKILLs whatever still runs and waits for the exits. */
  async stopAll(): Promise<void> {
    await Promise.all(this.#started.map((p) => p.kill()));
  }

  /** The tails of every process, for a failure message. */
  describe(): string {
    return this.#started.map((p) => `--- ${p.label} (pid ${p.pid}) ---\n${p.tail()}`).join('\n');
  }
}

/**
 * Polls `probe` until it returns a value other than undefined (no fixed sleeps: the machine is
 * shared and slow at times).
 * @throws Error naming `what` (and `context()` if given) when `timeoutMs` passes
 */
export async function pollUntil<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs: number,
  context?: () => string,
  intervalMs = 250,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      const why = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${why}${context ? `\n${context()}` : ''}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/**
 * Child processes of the benches: where a sibling script is (its `.ts` source under Jest or
 * `--import @swc-node/register`, its `.js` build under `npm run bench:*`), free ports, bounded
 * waits for an exit, and children that answer with one marked JSON line on stdout.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { type Readable } from 'node:stream';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The TS loader a child running a `.ts` file needs (as the e2e tests start their children). */
const TS_LOADER = ['--import', '@swc-node/register/esm-register'];

/**
 * Node's arguments to run the script at `relative` (no extension) from the module at `fromUrl`:
 * the `.ts` source with the loader when that module itself runs from source, else the `.js` build.
 */
export function nodeArgsOf(fromUrl: string, relative: string): string[] {
  const self = fileURLToPath(fromUrl);
  const fromSource = self.endsWith('.ts');
  const file = join(dirname(self), `${relative}${fromSource ? '.ts' : '.js'}`);
  return fromSource ? [...TS_LOADER, file] : [file];
}

/** A port nobody listens on right now (a child given port 0 would not tell us the one it got). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Waits for a child's exit, bounded; SIGKILLs it when the bound passes. */
export function exitOf(child: ChildProcess, timeoutMs: number): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

/**
 * Keeps the last `chars` characters the child writes on `streams` (for error messages); the
 * returned function reads them.
 */
export function outputTail(streams: ReadonlyArray<Readable | null>, chars: number): () => string {
  let tail = '';
  for (const stream of streams) {
    stream?.setEncoding('utf8').on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-chars);
    });
  }
  return () => tail;
}

export interface MarkedChildOptions {
  /** Node's arguments (see `nodeArgsOf`) followed by the child's own. */
  readonly args: readonly string[];
  /** Starts the one stdout line that carries the child's JSON answer. */
  readonly marker: string;
  /** A child running longer is SIGKILLed and the call rejects. */
  readonly timeoutMs: number;
  /** Names the child in errors. */
  readonly label: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Every other stdout line, as it comes (progress). */
  readonly onLine?: (line: string) => void;
  /** Kills the child and rejects with the signal's reason (e.g. the server it talks to died). */
  readonly signal?: AbortSignal;
}

/** Runs a child that prints `<marker><JSON>`; resolves with the JSON, rejects with its stderr tail. */
export function runMarkedChild<T>(options: MarkedChildOptions): Promise<T> {
  const child = spawn(process.execPath, [...options.args], {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let answer: string | undefined;
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.startsWith(options.marker)) answer = line.slice(options.marker.length);
      else options.onLine?.(line);
    }
  });
  const stderr = outputTail([child.stderr], 4000);
  return new Promise((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    let aborted: unknown;
    const onAbort = (): void => {
      aborted = options.signal!.reason;
      child.kill('SIGKILL');
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      if (aborted !== undefined) {
        reject(
          new Error(
            `${options.label} stopped: ${aborted instanceof Error ? aborted.message : String(aborted)}`,
          ),
        );
        return;
      }
      if (pending.startsWith(options.marker)) answer = pending.slice(options.marker.length);
      if (code === 0 && answer !== undefined) {
        resolve(JSON.parse(answer) as T);
        return;
      }
      const why = timedOut ? `overran ${options.timeoutMs} ms` : `exited with ${code ?? signal}`;
      reject(new Error(`${options.label} ${why}\n${stderr()}`));
    });
  });
}

/** The child's side of `runMarkedChild`: prints the answer line and exits (clients leave timers behind). */
export function answerAndExit(marker: string, work: () => Promise<unknown>): void {
  work().then(
    (result) => process.stdout.write(`${marker}${JSON.stringify(result)}\n`, () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(
        `failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        () => process.exit(1),
      );
    },
  );
}

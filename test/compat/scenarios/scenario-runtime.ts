/**
 * What every compat scenario needs on the child-process side.
 *
 * A scenario is a small program that drives the unmodified official client (`rocketmq-client-nodejs`)
 * against a broker the Jest test started, and reports what it observed as one JSON line. It runs in
 * its own process because the official client can hang in `startup()` and its PushConsumer keeps
 * the process alive after `shutdown()` (PROTOCOL.md §7.6–7.7): the test kills it on overrun, and the
 * scenario always ends with `process.exit`.
 *
 * Protocol with the parent (compat-harness.ts): the input is a JSON file named by the one argument; the result is the
 * one stdout line starting with `RESULT_MARKER` (scenario-types.ts); a failure exits 1 after writing the error and the
 * client's log tail to stderr.
 */
import { readFileSync } from 'node:fs';
import { format } from 'node:util';
import { type MessageView } from 'rocketmq-client-nodejs';
import { RESULT_MARKER, type ObservedError, type ObservedMessage } from './scenario-types.js';

/** Client log lines kept for the failure report (the client logs a lot at INFO). */
const LOG_TAIL_LINES = 200;

/**
 * The official client's `ILogger`: keeps a tail in memory instead of writing
 * `~/logs/rocketmq/rocketmq_client_nodejs.log` (its default), and echoes to stderr when
 * `COMPAT_VERBOSE=1`. (The consume services build their own file logger regardless; the parent
 * points HOME at a temp dir for those.)
 */
export class TailLogger {
  readonly #lines: string[] = [];
  readonly #verbose = process.env.COMPAT_VERBOSE === '1';

  info(...args: unknown[]): void {
    this.#add('INFO', args);
  }
  warn(...args: unknown[]): void {
    this.#add('WARN', args);
  }
  error(...args: unknown[]): void {
    this.#add('ERROR', args);
  }
  debug(...args: unknown[]): void {
    if (this.#verbose) this.#add('DEBUG', args);
  }
  close(): void {}

  tail(): string {
    return this.#lines.join('\n');
  }

  #add(level: string, args: unknown[]): void {
    const line = `${new Date().toISOString()} ${level} ${format(...args)}`;
    this.#lines.push(line);
    if (this.#lines.length > LOG_TAIL_LINES) this.#lines.shift();
    if (this.#verbose) process.stderr.write(`${line}\n`);
  }
}

export const clientLogger = new TailLogger();

/** Reads the scenario's input: the JSON file named by argv[2]. */
export function scenarioInput<T>(): T {
  const file = process.argv[2];
  if (file === undefined) throw new Error('the scenario input file (JSON) is missing from argv[2]');
  return JSON.parse(readFileSync(file, 'utf8')) as T;
}

/**
 * Runs the scenario, prints its result line and exits 0; on a throw prints the error with the
 * client's log tail and exits 1. `process.exit` is deliberate: the official client leaves timers and
 * loggers behind.
 */
export function runScenario<R>(main: () => Promise<R>): void {
  main().then(
    (result) => {
      process.stdout.write(`${RESULT_MARKER}${JSON.stringify(result)}\n`, () => process.exit(0));
    },
    (err: unknown) => {
      const detail = err instanceof Error ? (err.stack ?? err.message) : String(err);
      const cause = err instanceof Error && err.cause !== undefined ? `\ncause: ${String(err.cause)}` : '';
      process.stderr.write(
        `scenario failed: ${detail}${cause}\n--- client log tail ---\n${clientLogger.tail()}\n`,
        () => process.exit(1),
      );
    },
  );
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `condition` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  condition: () => boolean,
  timeoutMs: number,
  everyMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** The client's getters return '' for unset proto strings (PROTOCOL.md §7.4): '' → null. */
function orNull(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}

export function observe(view: MessageView): ObservedMessage {
  return {
    messageId: view.messageId,
    topic: view.topic,
    bodyBase64: view.body.toString('base64'),
    tag: orNull(view.tag),
    keys: [...view.keys],
    properties: Object.fromEntries(view.properties),
    messageGroup: orNull(view.messageGroup),
    deliveryTimestamp: view.deliveryTimestamp ? view.deliveryTimestamp.getTime() : null,
    bornTimestamp: view.bornTimestamp ? view.bornTimestamp.getTime() : null,
    deliveryAttempt: view.deliveryAttempt ?? null,
    queueOffset: view.offset ?? null,
    corrupted: view.corrupted === true,
    receiptHandlePresent: typeof view.receiptHandle === 'string' && view.receiptHandle.length > 0,
    receivedAt: Date.now(),
  };
}

export function observeError(err: unknown): ObservedError {
  if (!(err instanceof Error)) return { name: typeof err, code: null, message: String(err), cause: null };
  const code = (err as { code?: unknown }).code;
  return {
    name: err.name,
    code: typeof code === 'number' ? code : null,
    message: err.message,
    cause: err.cause === undefined ? null : observeError(err.cause),
  };
}

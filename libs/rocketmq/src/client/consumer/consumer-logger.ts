/**
 * Where the consumer reports what the application cannot see otherwise: acks the server refused,
 * retries of failed calls, handlers that threw, messages left behind at shutdown. The client's
 * logger (`ClientLogger`: debug/info/warn/error) fits this shape.
 */
export interface ConsumerLogger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Default: warnings and errors on the console; routine messages are dropped. */
export const consoleConsumerLogger: ConsumerLogger = Object.freeze({
  info: () => undefined,
  warn: (m: string) => console.warn(`[rocketmq consumer] ${m}`),
  error: (m: string) => console.error(`[rocketmq consumer] ${m}`),
});

/**
 * Logs a repeating condition once per `intervalMs` per key (a receive loop failing every second
 * for an hour says so about once a minute, with a count).
 */
export class ThrottledLog {
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly logger: ConsumerLogger,
    private readonly intervalMs = 60_000,
  ) {}

  warn(key: string, message: string): void {
    const now = Date.now();
    const last = this.#last.get(key);
    if (last && now - last.at < this.intervalMs) {
      last.suppressed++;
      return;
    }
    const more = last && last.suppressed > 0 ? ` (${last.suppressed} more since the last report)` : '';
    this.#last.set(key, { at: now, suppressed: 0 });
    this.logger.warn(message + more);
  }

  /** The condition is over: the next occurrence is reported at once. */
  clear(key: string): void {
    this.#last.delete(key);
  }
}

export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return code === undefined ? err.message : `${err.message} (code ${String(code)})`;
  }
  return String(err);
}

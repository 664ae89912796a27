/** Where the idempotency layer reports what a person should know (mismatches, lost leases, cleanup). */
export interface IdempotencyLogger {
  log(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Warnings and errors to the console, routine lines dropped. */
export const consoleIdempotencyLogger: IdempotencyLogger = {
  log: () => undefined,
  warn: (m) => console.warn(`[idempotency] ${m}`),
  error: (m) => console.error(`[idempotency] ${m}`),
};

export const silentIdempotencyLogger: IdempotencyLogger = {
  log: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

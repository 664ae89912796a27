/**
 * The client's logger: four levels, printf-free strings. Console by default; pass `silentLogger` (or
 * your own adapter to pino, Nest's Logger, …) in the options. The client never logs message bodies.
 */
export interface ClientLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Console with a `[rocketmq]` prefix; debug is dropped unless `ROCKETMQ_CLIENT_DEBUG` is set. */
export const consoleLogger: ClientLogger = {
  debug: (m) => {
    if (process.env['ROCKETMQ_CLIENT_DEBUG']) console.debug(`[rocketmq] ${m}`);
  },
  info: (m) => console.info(`[rocketmq] ${m}`),
  warn: (m) => console.warn(`[rocketmq] ${m}`),
  error: (m) => console.error(`[rocketmq] ${m}`),
};

/** Drops everything (tests, or when the application reports errors itself). */
export const silentLogger: ClientLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * Starts one sample service as an HTTP application: shutdown hooks (SIGTERM/SIGINT drain the
 * listeners, settle their messages, close the producer and the database), then listen.
 */
import { type DynamicModule, type INestApplication, type LoggerService } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

export interface ServiceAppOptions {
  readonly port: number;
  /** Default: Nest's console logger. */
  readonly logger?: LoggerService | false;
  /** Listen on this host; default all interfaces (containers need that). */
  readonly host?: string;
  /**
   * Close on SIGTERM/SIGINT (default true). The one-process launcher handles the signals itself:
   * Nest's hooks re-raise the signal after the first app closed, before the others and the broker.
   */
  readonly shutdownHooks?: boolean;
}

export async function startServiceApp(
  module: DynamicModule,
  options: ServiceAppOptions,
): Promise<INestApplication> {
  const app = await NestFactory.create(module, {
    ...(options.logger === undefined ? {} : { logger: options.logger }),
    abortOnError: false,
  });
  if (options.shutdownHooks !== false) app.enableShutdownHooks();
  try {
    if (options.host === undefined) await app.listen(options.port);
    else await app.listen(options.port, options.host);
  } catch (err) {
    await app.close().catch(() => undefined);
    throw err;
  }
  return app;
}

/** The base URL a started app answers on (for logs and the launcher's banner). */
export async function urlOf(app: INestApplication): Promise<string> {
  const url = await app.getUrl();
  // `[::1]` / `[::]` read badly in a banner, and curl on some systems resolves localhost to IPv4.
  return url.replace('[::1]', 'localhost').replace('[::]', 'localhost').replace('127.0.0.1', 'localhost');
}

/** `main.ts` of a service: start, or say why not on one line and exit 1. */
export function runMain(name: string, start: () => Promise<INestApplication>): void {
  start().then(
    async (app) => console.log(`[${name}] listening on ${await urlOf(app)}`),
    (err: unknown) => {
      console.error(
        `[${name}] cannot start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`,
      );
      process.exit(1);
    },
  );
}

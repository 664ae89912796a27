import { resolve } from 'node:path';
import { type FlushMode, STANDALONE_SEGMENT_SIZE } from '@rocketnest/broker';

/** The standalone broker's settings, from the environment (names in docs/ARCHITECTURE.md). */
export interface BrokerConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly flushMode: FlushMode;
  readonly segmentSize: number;
  readonly preallocate: boolean;
}

export class BrokerConfigError extends Error {}

export function readBrokerConfig(env: NodeJS.ProcessEnv = process.env): BrokerConfig {
  const flush = env.BROKER_FLUSH ?? 'async';
  if (flush !== 'sync' && flush !== 'async') {
    throw new BrokerConfigError(`BROKER_FLUSH must be "sync" or "async", got ${JSON.stringify(flush)}`);
  }
  const port = Number(env.BROKER_PORT ?? 8081);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new BrokerConfigError(`BROKER_PORT must be a port number, got ${JSON.stringify(env.BROKER_PORT)}`);
  }
  const segmentMiB = Number(env.BROKER_SEGMENT_MB ?? STANDALONE_SEGMENT_SIZE / (1024 * 1024));
  if (!Number.isInteger(segmentMiB) || segmentMiB < 1) {
    throw new BrokerConfigError(
      `BROKER_SEGMENT_MB must be a positive integer, got ${JSON.stringify(env.BROKER_SEGMENT_MB)}`,
    );
  }
  return {
    host: env.BROKER_HOST ?? '127.0.0.1',
    port,
    dataDir: resolve(env.BROKER_DATA_DIR ?? './data/broker'),
    flushMode: flush,
    segmentSize: segmentMiB * 1024 * 1024,
    // Opt-in: an idle developer broker must not fill the disk (1 GiB per prepared segment).
    preallocate: env.BROKER_PREALLOCATE === 'true',
  };
}

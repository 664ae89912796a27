/**
 * The core suite on the embedded broker: `RocketMQModule.forRoot` without endpoints starts the
 * built-in broker in the process (here in a temp directory, with quick transaction check-backs).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CORE_BACKOFF_MS, defineCoreSuite } from './testing/core-suite.js';

const dataDir = mkdtempSync(join(tmpdir(), 'rocketnest-nest-core-'));

afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

describe('RocketMQModule on the embedded broker', () => {
  defineCoreSuite(() => ({
    moduleOptions: () => ({
      embedded: {
        dataDir,
        port: 0,
        broker: { core: { transaction: { firstCheckMs: 500, checkIntervalMs: 1_000 } } },
      },
      consumer: { backoff: CORE_BACKOFF_MS },
    }),
  }));
});

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NO_PROGRESS, PROGRESS_FILE_NAME, ProgressFile } from './transaction-progress.js';

let dir: string;
const warnings: string[] = [];
const logger = { log: () => undefined, warn: (m: string) => warnings.push(m), error: () => undefined };

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'rocketnest-tx-progress-'));
  warnings.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function onDisk(): unknown {
  return JSON.parse(readFileSync(join(dir, PROGRESS_FILE_NAME), 'utf8'));
}

describe('ProgressFile', () => {
  it('starts from nothing, not clean, when there is no file', () => {
    const file = ProgressFile.load(dir, logger);
    expect(file.loaded).toEqual(NO_PROGRESS);
    expect(file.previousRunClean).toBe(false);
  });

  it('persists an observed progress only once the store has flushed past it', () => {
    const file = ProgressFile.load(dir, logger);
    file.write(NO_PROGRESS, false);
    file.observe({ halfOffset: 3, opOffset: 1 }, 1_000);
    file.observe({ halfOffset: 5, opOffset: 4 }, 2_000);
    file.persistDurable(999);
    expect(onDisk()).toEqual({ version: 1, halfOffset: 0, opOffset: 0, clean: false });
    file.persistDurable(1_500);
    expect(onDisk()).toEqual({ version: 1, halfOffset: 3, opOffset: 1, clean: false });
    file.persistDurable(2_000, true);
    expect(onDisk()).toEqual({ version: 1, halfOffset: 5, opOffset: 4, clean: true });
    // Nothing new: a clean flag change alone is still written.
    file.persistDurable(9_999, false);
    expect(onDisk()).toEqual({ version: 1, halfOffset: 5, opOffset: 4, clean: false });
    const again = ProgressFile.load(dir, logger);
    expect(again.loaded).toEqual({ halfOffset: 5, opOffset: 4 });
    expect(again.previousRunClean).toBe(false);
  });

  it('ignores progress that is not ahead and keeps a bounded list of candidates', () => {
    const file = ProgressFile.load(dir, logger);
    file.write({ halfOffset: 10, opOffset: 10 }, true);
    file.observe({ halfOffset: 10, opOffset: 10 }, 5);
    for (let i = 11; i < 100; i++) file.observe({ halfOffset: i, opOffset: i }, i);
    file.persistDurable(50);
    expect(onDisk()).toMatchObject({ halfOffset: 10, opOffset: 10 }); // older candidates were dropped
    file.persistDurable(99);
    expect(onDisk()).toMatchObject({ halfOffset: 99, opOffset: 99 });
  });

  it('falls back to a full rescan when the file and its backup are unreadable', () => {
    writeFileSync(join(dir, PROGRESS_FILE_NAME), '{"version":1,"halfOffset":-4}');
    const file = ProgressFile.load(dir, logger);
    expect(file.loaded).toEqual(NO_PROGRESS);
    expect(warnings.join()).toContain('rescanning');
  });
});

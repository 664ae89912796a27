import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CorruptJsonFileError } from '../json-file.js';
import {
  freshTimerProgress,
  readTimerProgress,
  TIMER_PROGRESS_FILE,
  writeTimerProgress,
} from './timer-progress.js';
import { removeDir, tempDir } from './timer-testing.js';

describe('timer progress file', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('progress')));
  afterEach(() => removeDir(dir));

  it('is absent in a fresh directory', () => {
    expect(readTimerProgress(dir)).toBeUndefined();
  });

  it('round-trips geometry and per-queue progress', () => {
    const state = freshTimerProgress(60_000, 4);
    state.queues[2] = { offset: 17, readTo: 40, skipBelow: 123_456 };
    writeTimerProgress(dir, state);
    expect(readTimerProgress(dir)).toEqual(state);
  });

  it('falls back to the previous version when the file is damaged', () => {
    const first = freshTimerProgress(60_000, 3);
    writeTimerProgress(dir, first);
    const second = freshTimerProgress(60_000, 3);
    second.queues[0]!.offset = 5;
    writeTimerProgress(dir, second);
    writeFileSync(join(dir, TIMER_PROGRESS_FILE), '{"version":1,');
    expect(readTimerProgress(dir)).toEqual(first);
  });

  it('refuses content that does not validate rather than starting over', () => {
    for (const bad of [
      { version: 2 },
      { version: 1, bucketMs: 60_000, bucketCount: 2, queues: [{ offset: 0, readTo: 0, skipBelow: 0 }] },
      { version: 1, bucketMs: 60_000, bucketCount: 1, queues: [{ offset: -1, readTo: 0, skipBelow: 0 }] },
      { version: 1, bucketMs: 60_000, bucketCount: 1, queues: [{ offset: 5, readTo: 4, skipBelow: 0 }] },
      { version: 1, bucketMs: 60_000, bucketCount: 1, queues: [{ offset: 0, readTo: 0, skipBelow: 'x' }] },
      { version: 1, bucketMs: 'x', bucketCount: 1, queues: [{ offset: 0, readTo: 0, skipBelow: 0 }] },
    ]) {
      writeFileSync(join(dir, TIMER_PROGRESS_FILE), JSON.stringify(bad));
      expect(() => readTimerProgress(dir)).toThrow(CorruptJsonFileError);
    }
  });
});

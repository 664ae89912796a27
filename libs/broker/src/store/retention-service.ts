import { statfsSync } from 'node:fs';
import { type CommitLog } from './commit-log.js';
import { type ConsumeQueueStore } from './consume-queue-store.js';
import { type StoreLogger } from './dispatch-request.js';

export interface RetentionOptions {
  readonly commitLog: CommitLog;
  readonly consumeQueues: ConsumeQueueStore;
  readonly index: { deleteFilesBelow(minPhysicalOffset: number): unknown };
  /** Segments whose last write is older than this are deleted. */
  readonly retentionMs: number;
  /** While the disk is fuller than this ratio, the oldest segments go regardless of age. */
  readonly diskUsageLimit: number;
  /** Never delete what is not yet durable. */
  readonly flushedOffset: () => number;
  readonly logger: StoreLogger;
  /** Disk usage ratio of the store's filesystem (injectable for tests). */
  readonly diskUsage?: (dir: string) => number;
}

/** RocketMQ deletes at most a few files per round (`deleteCommitLogFilesInterval`) to spread the I/O. */
const MAX_SEGMENTS_PER_RUN = 10;

function statfsUsage(dir: string): number {
  const s = statfsSync(dir);
  return s.blocks === 0 ? 0 : 1 - s.bavail / s.blocks;
}

/**
 * Deletes expired commit-log segments (by age of their last write, or oldest-first while the disk
 * is too full), then the consume-queue and index files they make obsolete. Readers below the new
 * minimum are moved forward by the consume queues' corrected min offsets.
 */
export class RetentionService {
  constructor(private readonly options: RetentionOptions) {}

  run(now: number): number {
    const { commitLog, logger } = this.options;
    const usage = this.options.diskUsage ?? statfsUsage;
    let deleted = 0;
    while (deleted < MAX_SEGMENTS_PER_RUN) {
      const segments = commitLog.allSegments();
      const oldest = segments[0];
      if (!oldest || segments.length <= 1) break;
      if (oldest.endOffset > this.options.flushedOffset()) break;
      const age = now - oldest.stat().mtimeMs;
      const expired = age > this.options.retentionMs;
      const ratio = usage(commitLog.dir);
      const diskFull = ratio > this.options.diskUsageLimit;
      if (!expired && !diskFull) break;
      if (!commitLog.deleteOldest()) break;
      deleted++;
      logger.log(
        `deleted segment ${oldest.fileName} (${expired ? `older than ${Math.round(this.options.retentionMs / 3_600_000)} h` : `disk ${Math.round(ratio * 100)} % full`})`,
      );
    }
    if (deleted > 0) {
      const min = commitLog.minOffset;
      this.options.consumeQueues.deleteExpired(min);
      this.options.index.deleteFilesBelow(min);
    }
    return deleted;
  }
}

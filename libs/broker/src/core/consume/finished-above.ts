/**
 * What a graceful close knows and the offset table cannot say: the messages a group finished (acked,
 * filtered out, dead-lettered) above its committed offset. An offset is committed only once
 * everything below it is finished, so handlers that finish out of order leave finished messages
 * above it; without this file a restart would deliver them again. Apache RocketMQ's pop consumption
 * keeps the same knowledge durable in its revive topic's ack records.
 *
 * Written by `ConsumeEngine.close()`, read once by the next engine and then removed: after a crash
 * there is no such file and those messages come back (at least once, as promised). Each queue's
 * record is used only while the group's committed offset is still the one it was written with, so
 * an offset reset (or any other move) discards it.
 */
import { rmSync } from 'node:fs';
import { JSON_BACKUP_SUFFIX, readJsonFile, writeJsonFileAtomic } from '../json-file.js';

export const FINISHED_ABOVE_FILE = 'consumeProgress.json';
const FILE_VERSION = 1;

/** One queue of one group: its committed offset then, and the finished offsets above it. */
export interface FinishedAbove {
  readonly group: string;
  readonly topic: string;
  readonly queueId: number;
  readonly committed: number;
  readonly finished: readonly number[];
}

export function finishedAboveKey(group: string, topic: string, queueId: number): string {
  return `${group}\0${topic}\0${queueId}`;
}

/** Writes the records (durably: tmp + fsync + rename), or removes the file when there are none. */
export function saveFinishedAbove(path: string, records: readonly FinishedAbove[]): void {
  if (records.length === 0) {
    removeFinishedAbove(path);
    return;
  }
  writeJsonFileAtomic(path, { version: FILE_VERSION, queues: records }, 0);
}

/**
 * Reads the file left by the last graceful close and removes it. A damaged file is reported and
 * ignored: it only ever saves redeliveries.
 */
export function takeFinishedAbove(path: string, warn: (message: string) => void): Map<string, FinishedAbove> {
  const out = new Map<string, FinishedAbove>();
  try {
    const records = readJsonFile(path, parseFinishedAbove, warn) ?? [];
    for (const r of records) out.set(finishedAboveKey(r.group, r.topic, r.queueId), r);
  } catch (err) {
    warn(
      `ignoring ${path} (finished messages above the committed offsets may be redelivered): ${String(err)}`,
    );
  }
  removeFinishedAbove(path);
  return out;
}

function removeFinishedAbove(path: string): void {
  rmSync(path, { force: true });
  rmSync(path + JSON_BACKUP_SUFFIX, { force: true });
}

function parseFinishedAbove(raw: unknown): FinishedAbove[] {
  const file = raw as { version?: unknown; queues?: unknown };
  if (typeof file !== 'object' || file === null || file.version !== FILE_VERSION) {
    throw new TypeError('not a version 1 progress file');
  }
  if (!Array.isArray(file.queues)) throw new TypeError('queues is not a list');
  return file.queues.map((q: unknown, i: number) => {
    const r = q as Partial<FinishedAbove>;
    const ok =
      typeof r === 'object' &&
      r !== null &&
      typeof r.group === 'string' &&
      typeof r.topic === 'string' &&
      isOffset(r.queueId) &&
      isOffset(r.committed) &&
      Array.isArray(r.finished) &&
      r.finished.every((o) => isOffset(o) && o >= (r.committed as number));
    if (!ok) throw new TypeError(`queues[${i}] is malformed`);
    return r as FinishedAbove;
  });
}

function isOffset(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

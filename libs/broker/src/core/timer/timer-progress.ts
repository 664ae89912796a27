/**
 * The timer service's durable progress (RocketMQ's `delayOffset.json`, one entry per queue of
 * SCHEDULE_TOPIC), written atomically with the core's JSON helper.
 *
 * Per queue: `offset`, `readTo` and `skipBelow`, with the invariants
 *
 *   every parked record below `offset` was delivered (or lies in a bucket already finished);
 *   every parked record in [`offset`, `readTo`) due before `skipBelow` was delivered.
 *
 * So a restart reads each queue from `offset` and skips records in [`offset`, `readTo`) due before
 * `skipBelow`: a crash re-delivers only what was fired since the last write, not the whole bucket.
 * The skip range is bounded by queue offset, not by time, so records parked later are never skipped
 * whatever the clock does.
 *
 * The geometry is stored too: parked records were placed by it, so a restart keeps the stored
 * geometry even if the options changed (it only matters for new state directories).
 */
import { join } from 'node:path';
import { jsonArray, jsonObject, readJsonFile, writeJsonFileAtomic } from '../json-file.js';

export const TIMER_PROGRESS_FILE = 'timer-progress.json';
const VERSION = 1;

export interface TimerQueueProgress {
  offset: number;
  readTo: number;
  skipBelow: number;
}

export interface TimerProgressState {
  readonly bucketMs: number;
  readonly bucketCount: number;
  readonly queues: TimerQueueProgress[];
}

function finiteNumber(raw: unknown, what: string): number {
  if (typeof raw !== 'number' || !Number.isFinite(raw)) throw new TypeError(`${what} is not a finite number`);
  return raw;
}

function parse(raw: unknown): TimerProgressState {
  const o = jsonObject(raw, 'timer progress');
  if (o.version !== VERSION) throw new TypeError(`unknown version ${JSON.stringify(o.version)}`);
  const bucketMs = finiteNumber(o.bucketMs, 'bucketMs');
  const bucketCount = finiteNumber(o.bucketCount, 'bucketCount');
  const list = jsonArray(o.queues, 'queues');
  if (list.length !== bucketCount) throw new TypeError(`${list.length} queues for ${bucketCount} buckets`);
  const queues = list.map((entry, i) => {
    const q = jsonObject(entry, `queue ${i}`);
    const offset = finiteNumber(q.offset, `queue ${i} offset`);
    const readTo = finiteNumber(q.readTo, `queue ${i} readTo`);
    if (offset < 0 || !Number.isInteger(offset) || readTo < offset || !Number.isInteger(readTo)) {
      throw new TypeError(`queue ${i} offsets ${offset}..${readTo}`);
    }
    return { offset, readTo, skipBelow: finiteNumber(q.skipBelow, `queue ${i} skipBelow`) };
  });
  return { bucketMs, bucketCount, queues };
}

export function readTimerProgress(stateDir: string): TimerProgressState | undefined {
  return readJsonFile(join(stateDir, TIMER_PROGRESS_FILE), parse);
}

export function writeTimerProgress(stateDir: string, state: TimerProgressState): void {
  writeJsonFileAtomic(
    join(stateDir, TIMER_PROGRESS_FILE),
    {
      version: VERSION,
      bucketMs: state.bucketMs,
      bucketCount: state.bucketCount,
      queues: state.queues.map((q) => ({ offset: q.offset, readTo: q.readTo, skipBelow: q.skipBelow })),
    },
    0,
  );
}

export function freshTimerProgress(bucketMs: number, bucketCount: number): TimerProgressState {
  return {
    bucketMs,
    bucketCount,
    queues: Array.from({ length: bucketCount }, () => ({ offset: 0, readTo: 0, skipBelow: 0 })),
  };
}

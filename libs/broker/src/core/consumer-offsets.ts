/**
 * Committed consume offsets per (group, topic, queue), RocketMQ's `ConsumerOffsetManager`, persisted
 * in `<configDir>/consumerOffsets.json` in RocketMQ's layout (`offsetTable` keyed `topic@group`, then
 * queue id → offset).
 *
 * An offset is the queue offset of the next message the group has not finished: every message below
 * it was acked (or filtered out, or dead-lettered). `commit` only moves it forward; `reset` moves it
 * anywhere (an operator's "reset to timestamp").
 *
 * Durability: commits live in memory and are written at most `persistIntervalMs` (5 s, RocketMQ's
 * `flushConsumerOffsetInterval`) after the first unsaved one, and by `flush()` / `close()`. A crash
 * loses at most those last seconds of progress: the group then reads again from the older offset and
 * gets some acked messages a second time. Delivery stays at-least-once; nothing is ever skipped,
 * because an offset is only committed after everything below it is done, and a persisted offset is
 * never ahead of a commit.
 */
import { join } from 'node:path';
import { RocketError, StatusCode } from '../status-code.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import { quote } from './errors.js';
import {
  consoleStateFileLogger,
  jsonObject,
  readJsonFile,
  writeJsonFileAtomic,
  type StateFileLogger,
} from './json-file.js';
import { TOPIC_OR_GROUP_NAME_PATTERN } from './limits.js';

export const CONSUMER_OFFSETS_FILE = 'consumerOffsets.json';
/** RocketMQ `BrokerConfig.flushConsumerOffsetInterval`. */
export const OFFSET_PERSIST_INTERVAL_MS = 5_000;
const FILE_VERSION = 1;
/** The store's bound on queue ids. */
const MAX_QUEUE_ID = 0xffff;

/** An offset or queue id that is not a non-negative integer (RocketMQ ILLEGAL_OFFSET). */
export class IllegalOffsetError extends RocketError {
  constructor(reason: string) {
    super(StatusCode.ILLEGAL_OFFSET, `illegal offset: ${reason}`);
  }
}

export interface QueueOffset {
  readonly topic: string;
  readonly queueId: number;
  readonly offset: number;
}

export interface ConsumerOffsetsOptions {
  /** Where `consumerOffsets.json` lives. */
  readonly configDir: string;
  /** Schedules the periodic persist. Default: the system clock (unref'd timers). */
  readonly clock?: Clock;
  /** Longest time a commit stays only in memory. Default 5 s. */
  readonly persistIntervalMs?: number;
  /** Told of a failed periodic persist (retried next interval) or a fallback to the backup file. */
  readonly logger?: StateFileLogger;
}

export type OffsetResetListener = (group: string, topic: string, queueId: number, offset: number) => void;

function checkQueueId(queueId: number): void {
  if (!Number.isInteger(queueId) || queueId < 0 || queueId > MAX_QUEUE_ID) {
    throw new IllegalOffsetError(`queue id ${String(queueId)} is not an integer in 0..${MAX_QUEUE_ID}`);
  }
}

function checkOffset(offset: number): void {
  if (!Number.isSafeInteger(offset) || offset < 0) {
    throw new IllegalOffsetError(`offset ${String(offset)} is not a non-negative integer`);
  }
}

/** `@` separates topic and group in the file's keys; RocketMQ's name rules keep it out of names. */
function checkName(name: string, what: string): void {
  if (typeof name !== 'string' || !TOPIC_OR_GROUP_NAME_PATTERN.test(name)) {
    throw new IllegalOffsetError(
      `${what} ${typeof name === 'string' ? quote(name) : String(name)} is malformed`,
    );
  }
}

export class ConsumerOffsets {
  readonly path: string;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #logger: StateFileLogger;
  /** topic → group → queue id → offset. */
  readonly #table = new Map<string, Map<string, Map<number, number>>>();
  readonly #resetListeners = new Set<OffsetResetListener>();
  #dirty = false;
  #timer: TimerHandle | undefined;
  #closed = false;

  /**
   * Loads `consumerOffsets.json` (a missing file is an empty table).
   * @throws CorruptJsonFileError when the file and its backup are unusable.
   */
  constructor(options: ConsumerOffsetsOptions) {
    this.path = join(options.configDir, CONSUMER_OFFSETS_FILE);
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = options.persistIntervalMs ?? OFFSET_PERSIST_INTERVAL_MS;
    this.#logger = options.logger ?? consoleStateFileLogger;
    const loaded = readJsonFile(this.path, parseOffsetFile, (m) => this.#logger.warn(m));
    if (loaded)
      for (const { group, topic, queueId, offset } of loaded) this.#queues(group, topic).set(queueId, offset);
  }

  /** The committed offset, or undefined if the group never committed in this queue. */
  get(group: string, topic: string, queueId: number): number | undefined {
    return this.#table.get(topic)?.get(group)?.get(queueId);
  }

  /**
   * Moves the offset forward to `offset`. A lower or equal offset is ignored (a late or repeated
   * commit never rewinds a group). Returns whether the offset moved.
   * @throws IllegalOffsetError (ILLEGAL_OFFSET) for a bad queue id, offset or name
   */
  commit(group: string, topic: string, queueId: number, offset: number): boolean {
    checkQueueId(queueId);
    checkOffset(offset);
    const queues = this.#queues(group, topic);
    const current = queues.get(queueId);
    if (current !== undefined && offset <= current) return false;
    queues.set(queueId, offset);
    this.#markDirty();
    return true;
  }

  /**
   * Sets the offset, backwards or forwards (reset to a timestamp, skip a backlog), and tells the
   * `onReset` listeners so the delivery engine can drop what it read ahead. Persisted like a commit;
   * call `flush()` to make it durable at once.
   * @throws IllegalOffsetError (ILLEGAL_OFFSET) for a bad queue id, offset or name
   */
  reset(group: string, topic: string, queueId: number, offset: number): void {
    checkQueueId(queueId);
    checkOffset(offset);
    this.#queues(group, topic).set(queueId, offset);
    this.#markDirty();
    for (const listener of this.#resetListeners) listener(group, topic, queueId, offset);
  }

  /** Subscribes to `reset`; returns the unsubscribe function. */
  onReset(listener: OffsetResetListener): () => void {
    this.#resetListeners.add(listener);
    return () => this.#resetListeners.delete(listener);
  }

  /** Groups with an offset in `topic`, by name. */
  groupsOf(topic: string): string[] {
    return [...(this.#table.get(topic)?.keys() ?? [])].sort();
  }

  /** Every offset of `group` (only in `topic` if given), by topic then queue id. */
  forGroup(group: string, topic?: string): QueueOffset[] {
    const out: QueueOffset[] = [];
    const topics = topic === undefined ? [...this.#table.keys()].sort() : [topic];
    for (const t of topics) {
      const queues = this.#table.get(t)?.get(group);
      if (!queues) continue;
      for (const queueId of [...queues.keys()].sort((a, b) => a - b)) {
        out.push({ topic: t, queueId, offset: queues.get(queueId)! });
      }
    }
    return out;
  }

  /** Forgets every offset of `group`. Returns whether it had any. */
  deleteGroup(group: string): boolean {
    let found = false;
    for (const [topic, groups] of this.#table) {
      if (!groups.delete(group)) continue;
      found = true;
      if (groups.size === 0) this.#table.delete(topic);
    }
    if (found) this.#markDirty();
    return found;
  }

  /** Forgets every group's offsets in `topic`. Returns whether there were any. */
  deleteTopic(topic: string): boolean {
    if (!this.#table.delete(topic)) return false;
    this.#markDirty();
    return true;
  }

  /** Commits not yet on disk. */
  get dirty(): boolean {
    return this.#dirty;
  }

  /**
   * Writes the table now if anything changed. Throws what the write throws; the table then stays
   * dirty and the periodic persist retries it.
   */
  flush(): void {
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    if (!this.#dirty) return;
    // Cleared before writing: a commit made while writing is not possible (sync), and a failed
    // write sets it back.
    this.#dirty = false;
    try {
      writeJsonFileAtomic(this.path, this.#snapshot(), 0);
    } catch (err) {
      this.#markDirty(); // and retry on the next interval
      throw err;
    }
  }

  /**
   * Stops the periodic persist and flushes. Later commits still update the table but are only
   * written by an explicit `flush()` (a late ack after shutdown is at worst redelivered).
   */
  close(): void {
    this.#closed = true;
    this.flush();
  }

  // ------------------------------------------------------------------------------ internals

  #queues(group: string, topic: string): Map<number, number> {
    let groups = this.#table.get(topic);
    let queues = groups?.get(group);
    if (queues) return queues;
    // First offset of this pair: the names end up as `topic@group` keys, check them once.
    checkName(topic, 'topic');
    checkName(group, 'group');
    if (!groups) this.#table.set(topic, (groups = new Map()));
    groups.set(group, (queues = new Map()));
    return queues;
  }

  #markDirty(): void {
    this.#dirty = true;
    if (this.#timer !== undefined || this.#closed) return;
    this.#timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      try {
        this.flush();
      } catch (err) {
        this.#logger.error(`cannot persist ${this.path}, retrying in ${this.#intervalMs} ms: ${String(err)}`);
      }
    }, this.#intervalMs);
  }

  #snapshot(): object {
    const offsetTable: Record<string, Record<string, number>> = {};
    for (const [topic, groups] of this.#table) {
      for (const [group, queues] of groups) {
        if (queues.size === 0) continue;
        const entry: Record<string, number> = {};
        for (const [queueId, offset] of queues) entry[queueId] = offset;
        offsetTable[`${topic}@${group}`] = entry;
      }
    }
    return { version: FILE_VERSION, offsetTable };
  }
}

interface LoadedOffset {
  readonly group: string;
  readonly topic: string;
  readonly queueId: number;
  readonly offset: number;
}

function parseOffsetFile(raw: unknown): LoadedOffset[] {
  const file = jsonObject(raw, 'the file');
  if (file.version !== FILE_VERSION) throw new TypeError(`unsupported version ${String(file.version)}`);
  const out: LoadedOffset[] = [];
  for (const [key, value] of Object.entries(jsonObject(file.offsetTable, 'offsetTable'))) {
    const at = key.indexOf('@');
    const topic = key.slice(0, at);
    const group = key.slice(at + 1);
    if (at < 0 || !TOPIC_OR_GROUP_NAME_PATTERN.test(topic) || !TOPIC_OR_GROUP_NAME_PATTERN.test(group)) {
      throw new TypeError(`offsetTable key ${quote(key)} is not topic@group`);
    }
    for (const [q, offset] of Object.entries(jsonObject(value, `offsetTable[${quote(key)}]`))) {
      const queueId = Number(q);
      if (String(queueId) !== q || !Number.isInteger(queueId) || queueId < 0 || queueId > MAX_QUEUE_ID) {
        throw new TypeError(`offsetTable[${quote(key)}] has queue id ${quote(q)}`);
      }
      if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) {
        throw new TypeError(`offsetTable[${quote(key)}][${q}] = ${String(offset)} is not an offset`);
      }
      out.push({ group, topic, queueId, offset });
    }
  }
  return out;
}

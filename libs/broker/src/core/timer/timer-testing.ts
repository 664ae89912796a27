/**
 * Test helpers for the timer specs: a store in a temp directory, a quiet logger, and ways to let the
 * store's setImmediate-based commits and the service's loader run between ManualClock steps.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  MessageStore,
  type MessageToStore,
  type StoreLogger,
  type StoredMessage,
} from '../../store/index.js';
import type { ManualClock } from '../clock.js';

export interface CapturingLogger extends StoreLogger {
  readonly lines: string[];
}

export function capturingLogger(): CapturingLogger {
  const lines: string[] = [];
  return {
    lines,
    log: (m) => lines.push(`log ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `rn-timer-${prefix}-`));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

export async function openTestStore(dir: string, logger: StoreLogger): Promise<MessageStore> {
  return MessageStore.open({ dataDir: join(dir, 'store'), retentionIntervalMs: 0, logger });
}

/** Lets `turns` macrotask turns run (store commits, the bucket loader, promise callbacks). */
export async function settle(turns = 4): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Advances a ManualClock, then lets appends triggered on the way complete. */
export async function advance(clock: ManualClock, ms: number): Promise<void> {
  await clock.advanceAsync(ms);
  await settle();
}

/** Waits (real time) until `condition` holds, polling each turn; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/** All messages of a queue. */
export function readQueue(store: MessageStore, topic: string, queueId: number): StoredMessage[] {
  const out: StoredMessage[] = [];
  let offset = store.minOffset(topic, queueId);
  for (;;) {
    const r = store.getMessages(topic, queueId, offset, 1024);
    out.push(...r.messages.map((m) => ({ ...m, body: Buffer.from(m.body) })));
    if (r.nextOffset <= offset || r.nextOffset >= r.maxOffset) return out;
    offset = r.nextOffset;
  }
}

export function message(id: string, overrides: Partial<MessageToStore> = {}): MessageToStore {
  return {
    topic: 'orders',
    queueId: 0,
    body: Buffer.from(`body of ${id}`),
    messageId: id,
    ...overrides,
  };
}

/**
 * Test support for the consumer: a real built-in broker in a temp dir on an ephemeral port, messages
 * sent through its core (the producer is another helper's), a recording logger, and small waiting
 * helpers.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker, type BrokerOptions } from '@rocketnest/broker/broker.js';
import { newMessageId } from '@rocketnest/broker/grpc/testing/grpc-harness.js';
import { type ConsumerLogger } from '../consumer-logger.js';

export interface TestBroker {
  readonly broker: Broker;
  readonly endpoint: string;
  readonly logger: RecordingLogger;
  close(): Promise<void>;
}

export async function startTestBroker(
  options: Partial<Omit<BrokerOptions, 'dataDir'>> = {},
): Promise<TestBroker> {
  const dir = mkdtempSync(join(tmpdir(), 'rocketnest-consumer-'));
  const logger = new RecordingLogger();
  const broker = await Broker.start({ dataDir: dir, port: 0, logger, ...options });
  return {
    broker,
    endpoint: broker.address.endpoint,
    logger,
    async close() {
      await broker.close(0);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestMessage {
  readonly body?: string;
  readonly tag?: string;
  readonly keys?: string[];
  readonly properties?: Record<string, string>;
  readonly messageGroup?: string;
}

/** Sends `messages` to `topic` through the broker's core; resolves with their ids, in order. */
export async function sendMessages(
  broker: Broker,
  topic: string,
  messages: readonly TestMessage[],
): Promise<string[]> {
  const requests = messages.map((m) => ({
    topic,
    body: Buffer.from(m.body ?? 'hello'),
    messageId: newMessageId(),
    ...(m.tag === undefined ? {} : { tag: m.tag }),
    ...(m.keys === undefined ? {} : { keys: m.keys }),
    ...(m.properties === undefined ? {} : { userProperties: m.properties }),
    ...(m.messageGroup === undefined ? {} : { messageGroup: m.messageGroup }),
  }));
  // One send per message group keeps each group's order as given (and spreads groups over queues).
  const ids: string[] = [];
  const CHUNK = 256;
  for (let i = 0; i < requests.length; i += CHUNK) {
    const results = await broker.core.send(requests.slice(i, i + CHUNK));
    for (const result of results) {
      if (!result.ok) throw new Error(`send failed: ${JSON.stringify(result)}`);
      ids.push(result.messageId);
    }
  }
  return ids;
}

/** Remembers every line; `problems()` = warnings and errors. Serves the broker too (`log`). */
export class RecordingLogger implements ConsumerLogger {
  readonly lines: { level: 'info' | 'warn' | 'error'; message: string }[] = [];
  info(message: string): void {
    this.lines.push({ level: 'info', message });
  }
  log(message: string): void {
    this.info(message);
  }
  warn(message: string): void {
    this.lines.push({ level: 'warn', message });
  }
  error(message: string): void {
    this.lines.push({ level: 'error', message });
  }
  problems(): string[] {
    return this.lines.filter((l) => l.level !== 'info').map((l) => `${l.level}: ${l.message}`);
  }
}

/** Polls `probe` until it returns true; rejects with `what` after `timeoutMs`. */
export async function waitFor(probe: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Message ids in `%DLQ%<group>` (every queue of it). */
export function deadLetterIds(broker: Broker, group: string): string[] {
  const ids: string[] = [];
  for (let queueId = 0; queueId < 16; queueId++) {
    let offset = 0;
    for (;;) {
      const page = broker.core.browseQueue(`%DLQ%${group}`, queueId, offset, 64);
      ids.push(...page.messages.map((m) => m.messageId));
      if (page.messages.length === 0 || page.nextOffset >= page.maxOffset) break;
      offset = page.nextOffset;
    }
  }
  return ids;
}

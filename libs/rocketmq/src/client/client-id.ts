/**
 * Client ids as the official clients make them: `host@pid@index@time-base36`, the key under which a
 * RocketMQ proxy keeps a client's settings, telemetry stream and leases. The index counts clients of
 * this process, so that two clients started in the same millisecond still differ.
 */
import { hostname } from 'node:os';

let nextIndex = 0;

/** A fresh client id (`x-mq-client-id`). */
export function createClientId(now: number = Date.now()): string {
  const index = nextIndex++;
  return `${hostname()}@${process.pid}@${index}@${now.toString(36)}`;
}

/**
 * Test helper: listeners record what they saw under a key; tests wait for a count by polling (no
 * fixed sleeps), with a generous deadline for a loaded machine.
 */
import { Injectable } from '@nestjs/common';

export const WAIT_TIMEOUT_MS = 45_000;
const POLL_MS = 20;

@Injectable()
export class Recorder {
  readonly #events = new Map<string, unknown[]>();

  record(key: string, value: unknown): void {
    let list = this.#events.get(key);
    if (!list) {
      list = [];
      this.#events.set(key, list);
    }
    list.push(value);
  }

  get<T>(key: string): T[] {
    return [...((this.#events.get(key) as T[] | undefined) ?? [])];
  }

  /** Resolves with the key's events once there are at least `count`. @throws after `timeoutMs` */
  async waitFor<T>(key: string, count: number, timeoutMs = WAIT_TIMEOUT_MS): Promise<T[]> {
    await until(() => this.get(key).length >= count, `${count} event(s) under ${key}`, timeoutMs);
    return this.get<T>(key);
  }
}

/** Polls `condition` until true. @throws Error naming `what` after `timeoutMs` */
export async function until(
  condition: () => boolean,
  what: string,
  timeoutMs = WAIT_TIMEOUT_MS,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

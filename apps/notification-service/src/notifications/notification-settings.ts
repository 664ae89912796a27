/** This instance's settings, changed at run time by `config-changed` broadcasts. */
import { Injectable } from '@nestjs/common';

export const DEFAULT_SETTINGS: Readonly<Record<string, string>> = { greeting: 'Hello' };
/** Most settings one instance keeps (a broadcast cannot grow it without bound). */
export const MAX_SETTINGS = 100;

@Injectable()
export class NotificationSettings {
  readonly #values = new Map<string, string>(Object.entries(DEFAULT_SETTINGS));

  get(key: string): string {
    return this.#values.get(key) ?? '';
  }

  /** @returns false when the setting is new and the instance already holds MAX_SETTINGS */
  set(key: string, value: string): boolean {
    if (!this.#values.has(key) && this.#values.size >= MAX_SETTINGS) return false;
    this.#values.set(key, value);
    return true;
  }

  all(): Record<string, string> {
    return Object.fromEntries(this.#values);
  }
}

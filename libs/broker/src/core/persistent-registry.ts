/**
 * The persistence shared by the topic and group registries: named, frozen entries kept in a map and
 * stored as `{version, <listKey>: [...]}` in one JSON state file (see json-file.ts). Every change is
 * written before it becomes visible.
 */
import { quote } from './errors.js';
import {
  consoleStateFileLogger,
  jsonArray,
  jsonObject,
  readJsonFile,
  writeJsonFileAtomic,
  type StateFileLogger,
} from './json-file.js';

export interface PersistentRegistryOptions<T extends { readonly name: string }> {
  /** The state file. */
  readonly path: string;
  /** The file's format version; any other version is unusable. */
  readonly version: number;
  /** The file's key holding the entries (`topics`, `groups`). */
  readonly listKey: string;
  /** One entry, in load errors (`topic`, `group`). */
  readonly noun: string;
  /** Checks a stored entry's name (called before the duplicate check); throws if it is unusable. */
  readonly checkName: (name: string, index: number) => void;
  /** Builds the frozen entry from a stored one whose name and `createdAt` were checked; may throw. */
  readonly fromJson: (entry: Record<string, unknown>, name: string, createdAt: number) => T;
  /** The stored form of an entry. Default: the entry itself. */
  readonly toJson?: (entry: T) => unknown;
  /** Called after an entry was deleted and the deletion persisted. */
  readonly onDelete?: ((name: string) => void) | undefined;
  /** Told when the file was unusable and its backup was loaded. Default: console. */
  readonly logger?: StateFileLogger | undefined;
}

export class PersistentRegistry<T extends { readonly name: string }> {
  readonly #options: PersistentRegistryOptions<T>;
  #entries = new Map<string, T>();

  /**
   * Loads the file (a missing file is an empty registry).
   * @throws CorruptJsonFileError when the file and its backup are unusable.
   */
  constructor(options: PersistentRegistryOptions<T>) {
    this.#options = options;
    const logger = options.logger ?? consoleStateFileLogger;
    const loaded = readJsonFile(
      options.path,
      (raw) => this.#parse(raw),
      (m) => logger.warn(m),
    );
    if (loaded) this.#entries = loaded;
  }

  get path(): string {
    return this.#options.path;
  }

  get(name: string): T | undefined {
    return this.#entries.get(name);
  }

  has(name: string): boolean {
    return this.#entries.has(name);
  }

  /** Every entry, by name. */
  list(): T[] {
    return [...this.#entries.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  /** Persists the registry with `entry` (already frozen) in it, then makes it visible. */
  put(entry: T): T {
    const next = new Map(this.#entries);
    next.set(entry.name, entry);
    this.#save(next);
    return entry;
  }

  /** Deletes an entry, then calls `onDelete`. Returns false if it did not exist. */
  delete(name: string): boolean {
    if (!this.#entries.has(name)) return false;
    const next = new Map(this.#entries);
    next.delete(name);
    this.#save(next);
    this.#options.onDelete?.(name);
    return true;
  }

  /** Write first, swap after: a failed write (disk full) leaves the registry as it was. */
  #save(next: Map<string, T>): void {
    const { path, version, listKey, toJson } = this.#options;
    const entries = [...next.values()];
    writeJsonFileAtomic(path, { version, [listKey]: toJson ? entries.map(toJson) : entries });
    this.#entries = next;
  }

  #parse(raw: unknown): Map<string, T> {
    const { version, listKey, noun, checkName, fromJson } = this.#options;
    const file = jsonObject(raw, 'the file');
    if (file.version !== version) throw new TypeError(`unsupported version ${String(file.version)}`);
    const entries = new Map<string, T>();
    for (const [i, item] of jsonArray(file[listKey], listKey).entries()) {
      const e = jsonObject(item, `${listKey}[${i}]`);
      if (typeof e.name !== 'string') throw new TypeError(`${listKey}[${i}].name is not a string`);
      checkName(e.name, i);
      if (entries.has(e.name)) throw new TypeError(`${noun} ${quote(e.name)} is listed twice`);
      const createdAt = e.createdAt;
      if (typeof createdAt !== 'number' || !Number.isFinite(createdAt)) {
        throw new TypeError(`${listKey}[${i}].createdAt is not a number`);
      }
      entries.set(e.name, fromJson(e, e.name, createdAt));
    }
    return entries;
  }
}

/**
 * Small durable JSON state files of the broker core (topics, groups, consumer offsets, …), written so
 * that a crash or power loss at any instant leaves a readable file behind.
 *
 * The scheme (RocketMQ's `MixAll.string2File` + `ConfigManager.loadBak`, made atomic):
 *
 *   write: 1. write the new content to `<file>.tmp` and fsync it;
 *          2. rename `<file>` → `<file>.bak` (the previous good version);
 *          3. rename `<file>.tmp` → `<file>`;
 *          4. fsync the directory, so both renames are durable.
 *   read:  `<file>` if it parses and validates; otherwise `<file>.bak` if that does; `<file>.tmp` is
 *          never read (it may be torn) and the next write truncates it.
 *
 * A crash before step 3 leaves the previous version readable (as `<file>`, or as `<file>.bak` between
 * steps 2 and 3), so a write is all-or-nothing. The `.bak` also rescues a main file damaged later
 * (disk fault, a hand edit gone wrong): the reader falls back one version. If neither copy is usable
 * the reader throws CorruptJsonFileError naming the file rather than silently starting empty, which
 * would lose every topic or rewind every consumer group.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { RocketError, StatusCode } from '../status-code.js';

/** Suffix of the copy being written; ignored on read. */
export const JSON_TMP_SUFFIX = '.tmp';
/** Suffix of the previous good version, read when the main file is missing or unusable. */
export const JSON_BACKUP_SUFFIX = '.bak';

/** Where owners of state files report a fallback to the backup or a failed background write. */
export interface StateFileLogger {
  warn(message: string): void;
  error(message: string): void;
}

export const consoleStateFileLogger: StateFileLogger = {
  warn: (m) => console.warn(`[broker] ${m}`),
  error: (m) => console.error(`[broker] ${m}`),
};

/** A state file exists but neither it nor its backup parses and validates. */
export class CorruptJsonFileError extends RocketError {
  constructor(
    readonly path: string,
    reason: string,
    options?: { cause?: unknown },
  ) {
    super(StatusCode.INTERNAL_ERROR, `state file ${path} is unreadable: ${reason}`, options);
  }
}

type Attempt<T> =
  { kind: 'missing' } | { kind: 'ok'; value: T } | { kind: 'bad'; reason: string; cause: unknown };

function attempt<T>(path: string, validate: ((raw: unknown) => T) | undefined): Attempt<T> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { kind: 'missing' };
    return { kind: 'bad', reason: `cannot read it (${(err as Error).message})`, cause: err };
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { kind: 'bad', reason: `not valid JSON (${(err as Error).message})`, cause: err };
  }
  try {
    return { kind: 'ok', value: validate ? validate(raw) : (raw as T) };
  } catch (err) {
    return { kind: 'bad', reason: `invalid content (${(err as Error).message})`, cause: err };
  }
}

/**
 * Reads a state file written by `writeJsonFileAtomic`. `validate` turns the parsed JSON into a `T`
 * or throws (any error: it is reported as the cause); without it the JSON is returned unchecked.
 * Returns `undefined` when neither the file nor its backup exists (a fresh broker). When the backup
 * had to be used, `onBackupUsed` gets a message to log (the last write may be lost).
 * @throws CorruptJsonFileError (INTERNAL_ERROR) naming the file when it exists but neither it nor its
 *   backup is usable.
 */
export function readJsonFile<T>(
  path: string,
  validate?: (raw: unknown) => T,
  onBackupUsed?: (message: string) => void,
): T | undefined {
  const main = attempt(path, validate);
  if (main.kind === 'ok') return main.value;
  const backupPath = path + JSON_BACKUP_SUFFIX;
  const backup = attempt(backupPath, validate);
  if (backup.kind === 'ok') {
    const why = main.kind === 'missing' ? 'is missing' : main.reason;
    onBackupUsed?.(`state file ${path} ${why}; using the previous version ${backupPath}`);
    return backup.value;
  }
  if (main.kind === 'bad') {
    const note = backup.kind === 'bad' ? `; its backup ${backupPath} too: ${backup.reason}` : ', no backup';
    throw new CorruptJsonFileError(path, main.reason + note, { cause: main.cause });
  }
  // The main file is missing (a crash between the two renames) and the backup is damaged.
  if (backup.kind === 'bad') {
    throw new CorruptJsonFileError(backupPath, backup.reason, { cause: backup.cause });
  }
  return undefined;
}

/**
 * Writes `value` as JSON (`space`-indented, default 2: these files are meant to be readable) with the
 * tmp + fsync + rename + fsync-directory scheme described above. Creates the directory if needed.
 * Synchronous: the files are small, and callers rely on "returned = durable".
 */
export function writeJsonFileAtomic(path: string, value: unknown, space = 2): void {
  const text = JSON.stringify(value, null, space);
  if (text === undefined) throw new TypeError(`cannot write ${path}: the value has no JSON form`);
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const tmpPath = path + JSON_TMP_SUFFIX;
  const fd = openSync(tmpPath, 'w');
  try {
    const data = Buffer.from(text + '\n', 'utf8');
    let written = 0;
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(path, path + JSON_BACKUP_SUFFIX);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  renameSync(tmpPath, path);
  fsyncDirectory(dir);
}

/** Makes renames in `dir` durable. Platforms that cannot open a directory (Windows) are skipped. */
function fsyncDirectory(dir: string): void {
  let fd: number;
  try {
    fd = openSync(dir, 'r');
  } catch {
    return;
  }
  try {
    fsyncSync(fd);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'EISDIR' && code !== 'EINVAL') throw err;
  } finally {
    closeSync(fd);
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers for `validate` callbacks
// ---------------------------------------------------------------------------------------------

/** `raw` as a plain JSON object, or a TypeError naming `what`. */
export function jsonObject(raw: unknown, what: string): Record<string, unknown> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new TypeError(`${what} is not a JSON object`);
  }
  return raw as Record<string, unknown>;
}

/** `raw` as a JSON array, or a TypeError naming `what`. */
export function jsonArray(raw: unknown, what: string): unknown[] {
  if (!Array.isArray(raw)) throw new TypeError(`${what} is not a JSON array`);
  return raw;
}

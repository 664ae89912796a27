/**
 * The broker's run counter ("epoch"), persisted in `<configDir>/broker-epoch.json` and incremented at
 * every open. Receipt handles carry it (receipt-handle.ts): leases live in memory only, so a handle
 * issued by an earlier run can never be honoured, and the epoch lets the codec say exactly that
 * ("issued by broker epoch N") even when the operator configured a fixed handle secret.
 */
import { randomInt } from 'node:crypto';
import { join } from 'node:path';
import {
  CorruptJsonFileError,
  jsonObject,
  readJsonFile,
  writeJsonFileAtomic,
  type StateFileLogger,
} from './json-file.js';

export const BROKER_EPOCH_FILE = 'broker-epoch.json';
const FILE_VERSION = 1;
const TWO_32 = 0x1_0000_0000;

function parseEpochFile(raw: unknown): number {
  const file = jsonObject(raw, 'the file');
  if (file.version !== FILE_VERSION) throw new TypeError(`unsupported version ${String(file.version)}`);
  const epoch = file.epoch;
  if (typeof epoch !== 'number' || !Number.isInteger(epoch) || epoch < 0 || epoch >= TWO_32) {
    throw new TypeError(`epoch ${String(epoch)} is not a u32`);
  }
  return epoch;
}

/**
 * Reads the previous run's epoch and persists and returns the next one (u32, wrapping). An unreadable
 * file is not fatal: the run then takes a random epoch (handles of the old runs stay rejected, with
 * near certainty) and the file is rewritten.
 */
export function nextBrokerEpoch(configDir: string, logger?: StateFileLogger): number {
  const path = join(configDir, BROKER_EPOCH_FILE);
  let epoch: number;
  try {
    const saved = readJsonFile(path, parseEpochFile, (m) => logger?.warn(m));
    epoch = saved === undefined ? 1 : (saved + 1) % TWO_32;
  } catch (err) {
    if (!(err instanceof CorruptJsonFileError)) throw err;
    logger?.warn(`${err.message}; starting a new epoch at random`);
    epoch = randomInt(1, 2 ** 31);
  }
  writeJsonFileAtomic(path, { version: FILE_VERSION, epoch });
  return epoch;
}

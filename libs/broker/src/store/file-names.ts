import { readdirSync } from 'node:fs';

/** RocketMQ names segment files by their 20-digit, zero-padded start offset. */
export function offsetFileName(offset: number): string {
  return String(offset).padStart(20, '0');
}

const OFFSET_NAME = /^\d{20}$/;

/** Start offsets of the offset-named files in `dir`, ascending; other files are ignored. */
export function listOffsetFiles(dir: string): number[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  return names
    .filter((n) => OFFSET_NAME.test(n))
    .map(Number)
    .sort((a, b) => a - b);
}

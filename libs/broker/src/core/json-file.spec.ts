import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StatusCode } from '../status-code.js';
import {
  CorruptJsonFileError,
  jsonArray,
  jsonObject,
  readJsonFile,
  writeJsonFileAtomic,
} from './json-file.js';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'json-file-'));
  file = join(dir, 'state.json');
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface State {
  n: number;
}

function validateState(raw: unknown): State {
  const o = jsonObject(raw, 'state');
  if (typeof o.n !== 'number') throw new TypeError('n is not a number');
  return { n: o.n };
}

function readError(path: string): CorruptJsonFileError {
  try {
    readJsonFile(path, validateState);
  } catch (err) {
    return err as CorruptJsonFileError;
  }
  throw new Error('expected readJsonFile to throw');
}

describe('readJsonFile / writeJsonFileAtomic', () => {
  it('reads undefined when nothing was ever written', () => {
    expect(readJsonFile(file, validateState)).toBeUndefined();
  });

  it('round-trips a value and leaves no temporary file behind', () => {
    writeJsonFileAtomic(file, { n: 1 });
    expect(readJsonFile(file, validateState)).toEqual({ n: 1 });
    expect(existsSync(file + '.tmp')).toBe(false);
    expect(readFileSync(file, 'utf8')).toBe('{\n  "n": 1\n}\n');
  });

  it('keeps the previous version as .bak', () => {
    writeJsonFileAtomic(file, { n: 1 });
    expect(existsSync(file + '.bak')).toBe(false);
    writeJsonFileAtomic(file, { n: 2 });
    expect(JSON.parse(readFileSync(file + '.bak', 'utf8'))).toEqual({ n: 1 });
    expect(readJsonFile(file, validateState)).toEqual({ n: 2 });
  });

  it('creates the directory and honours the indentation argument', () => {
    const nested = join(dir, 'a', 'b', 'state.json');
    writeJsonFileAtomic(nested, { n: 3 }, 0);
    expect(readFileSync(nested, 'utf8')).toBe('{"n":3}\n');
  });

  it('refuses a value without a JSON form', () => {
    expect(() => writeJsonFileAtomic(file, undefined)).toThrow(TypeError);
    expect(existsSync(file)).toBe(false);
  });

  it('returns the unchecked JSON without a validator', () => {
    writeJsonFileAtomic(file, [1, 'two']);
    expect(readJsonFile<unknown[]>(file)).toEqual([1, 'two']);
  });

  describe('crash safety', () => {
    it('ignores a torn .tmp next to a good file', () => {
      writeJsonFileAtomic(file, { n: 1 });
      writeFileSync(file + '.tmp', '{"n": 9');
      expect(readJsonFile(file, validateState)).toEqual({ n: 1 });
    });

    it('ignores a torn .tmp of a first write that never completed', () => {
      writeFileSync(file + '.tmp', '{"n": 9');
      expect(readJsonFile(file, validateState)).toBeUndefined();
    });

    it('overwrites a stale .tmp on the next write', () => {
      writeFileSync(file + '.tmp', 'garbage garbage garbage garbage');
      writeJsonFileAtomic(file, { n: 5 });
      expect(readJsonFile(file, validateState)).toEqual({ n: 5 });
    });

    it('reads the backup when a crash fell between the two renames', () => {
      writeJsonFileAtomic(file, { n: 1 });
      writeJsonFileAtomic(file, { n: 2 });
      // State after step 2 of a third write: main renamed to .bak, .tmp complete but not renamed.
      renameSync(file, file + '.bak');
      writeFileSync(file + '.tmp', '{"n": 3}');
      expect(readJsonFile(file, validateState)).toEqual({ n: 2 });
    });

    it('recovers a corrupt main file from a valid backup', () => {
      writeJsonFileAtomic(file, { n: 1 });
      writeJsonFileAtomic(file, { n: 2 });
      writeFileSync(file, '{"n": 2, "trunc');
      const warnings: string[] = [];
      expect(readJsonFile(file, validateState, (m) => warnings.push(m))).toEqual({ n: 1 });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toContain(file + '.bak');
      expect(warnings[0]).toContain('not valid JSON');
    });

    it('recovers a main file that parses but does not validate', () => {
      writeJsonFileAtomic(file, { n: 1 });
      writeJsonFileAtomic(file, { n: 2 });
      writeFileSync(file, '{"n": "two"}');
      expect(readJsonFile(file, validateState)).toEqual({ n: 1 });
    });

    it('throws a typed error naming the file when the main file is corrupt and there is no backup', () => {
      writeFileSync(file, '\0\0\0\0');
      const err = readError(file);
      expect(err).toBeInstanceOf(CorruptJsonFileError);
      expect(err.code).toBe(StatusCode.INTERNAL_ERROR);
      expect(err.path).toBe(file);
      expect(err.message).toContain(file);
      expect(err.message).toContain('not valid JSON');
      expect(err.message).toContain('no backup');
      expect(err.cause).toBeInstanceOf(SyntaxError);
    });

    it('names the main file and the backup when both are corrupt', () => {
      writeFileSync(file, '{');
      writeFileSync(file + '.bak', '{"n": false}');
      const err = readError(file);
      expect(err.path).toBe(file);
      expect(err.message).toContain(file + '.bak');
      expect(err.message).toContain('invalid content (n is not a number)');
    });

    it('names the backup when the main file is missing and the backup is corrupt', () => {
      writeFileSync(file + '.bak', 'nope');
      const err = readError(file);
      expect(err).toBeInstanceOf(CorruptJsonFileError);
      expect(err.path).toBe(file + '.bak');
    });

    it('reports an unreadable main file (a directory in its place)', () => {
      writeJsonFileAtomic(join(file, 'x.json'), { n: 1 });
      const err = readError(file);
      expect(err.path).toBe(file);
      expect(err.message).toContain('cannot read it');
    });
  });

  describe('validation helpers', () => {
    it('accepts objects and arrays and names what is wrong', () => {
      expect(jsonObject({ a: 1 }, 'x')).toEqual({ a: 1 });
      expect(() => jsonObject([], 'the thing')).toThrow('the thing is not a JSON object');
      expect(() => jsonObject(null, 'x')).toThrow(TypeError);
      expect(jsonArray([1], 'x')).toEqual([1]);
      expect(() => jsonArray({}, 'list')).toThrow('list is not a JSON array');
    });
  });
});

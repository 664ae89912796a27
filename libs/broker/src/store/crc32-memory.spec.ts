import { crc32 } from 'node:zlib';
import { seededRandom } from '../testing/seeded-random.js';
import { Crc32Memory } from './crc32-memory.js';

function filled(memory: Crc32Memory, seed: number): Buffer {
  const random = seededRandom(seed);
  const bytes = memory.bytes;
  for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(random() * 256);
  return bytes;
}

describe('Crc32Memory', () => {
  it('computes the same CRC-32 as zlib for every length up to 300 bytes at unaligned offsets', () => {
    const memory = Crc32Memory.create(4096);
    const bytes = filled(memory, 1);
    for (const from of [0, 1, 2, 3, 5, 8, 13, 1000]) {
      for (let length = 0; length <= 300; length++) {
        expect(memory.crc32(from, from + length)).toBe(crc32(bytes.subarray(from, from + length)));
      }
    }
  });

  it('computes the same CRC-32 as zlib over a large range and the whole buffer', () => {
    const size = 3 * 1024 * 1024 + 7;
    const memory = Crc32Memory.create(size);
    const bytes = filled(memory, 2);
    expect(memory.crc32(0, size)).toBe(crc32(bytes));
    expect(memory.crc32(12_345, 2_000_001)).toBe(crc32(bytes.subarray(12_345, 2_000_001)));
  });

  it('sees writes made through its buffer (no copy in between)', () => {
    const memory = Crc32Memory.create(64);
    memory.bytes.fill(0);
    const before = memory.crc32(0, 64);
    memory.bytes[63] = 1;
    expect(memory.crc32(0, 64)).not.toBe(before);
    expect(memory.crc32(0, 64)).toBe(crc32(memory.bytes));
  });

  it('refuses ranges outside its buffer instead of reading the lookup tables or trapping', () => {
    const memory = Crc32Memory.create(100);
    expect(() => memory.crc32(-1, 10)).toThrow(RangeError);
    expect(() => memory.crc32(10, 9)).toThrow(RangeError);
    expect(() => memory.crc32(0, 101)).toThrow(RangeError);
    expect(memory.crc32(100, 100)).toBe(0);
  });

  it('rejects an impossible size', () => {
    expect(() => Crc32Memory.create(-1)).toThrow(RangeError);
    expect(() => Crc32Memory.create(1.5)).toThrow(RangeError);
  });
});

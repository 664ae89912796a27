/** The part of the WebAssembly JS API used here (the project compiles without the DOM typings). */
declare const WebAssembly: {
  Memory: new (descriptor: { initial: number; maximum: number }) => { readonly buffer: ArrayBuffer };
  Module: new (bytes: Uint8Array) => WasmModule;
  Instance: new (module: WasmModule, imports: object) => { readonly exports: Record<string, unknown> };
};
interface WasmModule {
  readonly __wasmModule?: never;
}

/**
 * A buffer with a fast CRC-32 of any of its ranges: the commit log's staging buffer, where every
 * record gets two CRCs (header and body) as it is encoded.
 *
 * Why not `zlib.crc32`: it costs ~250 ns per call before reading a byte (argument checks, a C++
 * binding call, and a view object for a sub-range), which is most of the work for a ~100-byte
 * header. Here the buffer lives in a WebAssembly memory and a WebAssembly function computes the CRC
 * of `(offset, length)`: a call costs a few ns and allocates nothing, and its slice-by-16 table
 * lookups ran as fast as zlib on 1 KiB bodies here (~440 ns). Same polynomial, same values as zlib
 * (IEEE 802.3, reflected, init and final XOR 0xffffffff); crc32-memory.spec.ts checks them.
 *
 * The module is assembled below from a few dozen instructions, so there is no toolchain and no
 * binary blob to trust. Memory layout: the 16 lookup tables (16 KiB) at 0, the buffer from 64 KiB.
 */
export class Crc32Memory {
  /** The usable bytes (a view of the WebAssembly memory, which never grows or moves). */
  readonly bytes: Buffer;
  private readonly crcAt: (address: number, length: number, crc: number) => number;

  private constructor(size: number) {
    const pages = 1 + Math.ceil(size / WASM_PAGE);
    const memory = new WebAssembly.Memory({ initial: pages, maximum: pages });
    new Int32Array(memory.buffer, 0, TABLES.length).set(TABLES);
    const instance = new WebAssembly.Instance(crcModule(), { env: { memory } });
    this.crcAt = instance.exports.crc32 as (address: number, length: number, crc: number) => number;
    this.bytes = Buffer.from(memory.buffer, BUFFER_START, size);
  }

  static create(size: number): Crc32Memory {
    if (!Number.isInteger(size) || size < 0) throw new RangeError(`invalid buffer size ${size}`);
    return new Crc32Memory(size);
  }

  /** CRC-32 of `bytes[from, to)`, unsigned, as `zlib.crc32` would return it. */
  crc32(from: number, to: number): number {
    if (from < 0 || to < from || to > this.bytes.length) {
      throw new RangeError(`CRC range [${from}, ${to}) outside a buffer of ${this.bytes.length}`);
    }
    return this.crcAt(BUFFER_START + from, to - from, 0) >>> 0;
  }
}

const WASM_PAGE = 64 * 1024;
const BUFFER_START = WASM_PAGE;
const SLICES = 16;

/** Slice-by-16 tables: TABLES[k * 256 + n] is the CRC of byte n followed by k zero bytes. */
const TABLES = ((): Int32Array => {
  const t = new Int32Array(256 * SLICES);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    let c = t[n]!;
    for (let k = 1; k < SLICES; k++) {
      c = t[c & 0xff]! ^ (c >>> 8);
      t[k * 256 + n] = c;
    }
  }
  return t;
})();

let compiled: WasmModule | undefined;

function crcModule(): WasmModule {
  compiled ??= new WebAssembly.Module(assembleCrcModule());
  return compiled;
}

// ------------------------------------------------------------------ the WebAssembly module

/**
 * `(module (import "env" "memory" (memory 1)) (func (export "crc32") (param $p i32) (param $len i32)
 * (param $crc i32) (result i32) ...))`: the standard slice-by-16 loop over 16 bytes at a time (four
 * little-endian words, the first XORed with the running CRC, each byte looked up in its own table),
 * then one byte at a time for the tail.
 */
function assembleCrcModule(): Uint8Array {
  const P = 0;
  const LEN = 1;
  const CRC = 2;
  const WORD = [3, 4, 5, 6]; // locals holding the four words of a 16-byte block
  const get = (i: number): number[] => [0x20, i];
  const set = (i: number): number[] => [0x21, i];
  const constant = (n: number): number[] => [0x41, ...signedLeb(n)];
  const load32 = (offset: number): number[] => [0x28, 2, ...unsignedLeb(offset)];
  const load8 = [0x2d, 0, 0];
  const [XOR, AND, SHR_U, SHL, ADD, SUB, LT_U, EQZ] = [0x73, 0x71, 0x76, 0x74, 0x6a, 0x6b, 0x49, 0x45];
  const [BLOCK, LOOP, BR, BR_IF, END, VOID] = [0x02, 0x03, 0x0c, 0x0d, 0x0b, 0x40];

  /** Pushes `TABLES[table][byte b of local w]`: the table index times 4, loaded at table * 1 KiB. */
  const lookup = (w: number, b: number, table: number): number[] => {
    const index =
      b === 0
        ? [...get(w), ...constant(0xff), AND, ...constant(2), SHL]
        : b === 3
          ? [...get(w), ...constant(24), SHR_U, ...constant(2), SHL]
          : [...get(w), ...constant(8 * b - 2), SHR_U, ...constant(0x3fc), AND];
    return [...index, ...load32(table * 1024)];
  };

  const block: number[] = [];
  for (let w = 0; w < 4; w++) {
    block.push(...get(P), ...load32(4 * w));
    if (w === 0) block.push(...get(CRC), XOR);
    block.push(...set(WORD[w]!));
  }
  for (let w = 0; w < 4; w++) {
    for (let b = 0; b < 4; b++) {
      block.push(...lookup(WORD[w]!, b, SLICES - 1 - (4 * w + b)));
      if (w > 0 || b > 0) block.push(XOR);
    }
  }
  block.push(...set(CRC));

  // prettier-ignore
  const advance = (n: number): number[] => [
    ...get(P), ...constant(n), ADD, ...set(P), ...get(LEN), ...constant(n), SUB, ...set(LEN),
  ];
  // prettier-ignore
  const code = [
    ...get(CRC), ...constant(-1), XOR, ...set(CRC),
    // while (len >= 16) { crc = slice16(crc, p); p += 16; len -= 16 }
    BLOCK, VOID, LOOP, VOID,
    ...get(LEN), ...constant(SLICES), LT_U, BR_IF, 1,
    ...block, ...advance(SLICES),
    BR, 0, END, END,
    // while (len > 0) { crc = T0[(crc ^ *p) & 0xff] ^ (crc >>> 8); p++; len-- }
    BLOCK, VOID, LOOP, VOID,
    ...get(LEN), EQZ, BR_IF, 1,
    ...get(CRC), ...get(P), ...load8, XOR, ...constant(0xff), AND, ...constant(2), SHL, ...load32(0),
    ...get(CRC), ...constant(8), SHR_U, XOR, ...set(CRC),
    ...advance(1),
    BR, 0, END, END,
    ...get(CRC), ...constant(-1), XOR,
    END,
  ];
  const I32 = 0x7f;
  const body = [1, WORD.length, I32, ...code]; // one run of four i32 locals
  const name = (s: string): number[] => [...unsignedLeb(s.length), ...Buffer.from(s)];
  const section = (id: number, content: number[]): number[] => [
    id,
    ...unsignedLeb(content.length),
    ...content,
  ];
  return Uint8Array.from([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00], // "\0asm", version 1
    ...section(1, [1, 0x60, 3, I32, I32, I32, 1, I32]), // type: (i32, i32, i32) -> i32
    ...section(2, [1, ...name('env'), ...name('memory'), 0x02, 0x00, 1]), // import memory, min 1 page
    ...section(3, [1, 0]), // one function of type 0
    ...section(7, [1, ...name('crc32'), 0x00, 0]), // export it
    ...section(10, [1, ...unsignedLeb(body.length), ...body]), // its code
  ]);
}

function unsignedLeb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function signedLeb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

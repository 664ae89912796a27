// Module-scope copies: every global lookup (Math, Buffer) goes through the VM context's interceptor
// inside Jest and costs ~150 ns, which made generating test data take half a minute.
const { imul } = Math;

/** mulberry32: a tiny seeded PRNG in [0, 1), so a test can regenerate exactly the same sequence. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Exact float32 arithmetic for tests that check a rounding of the library's: a value n 2^e, n a
// BigInt, rounded once to float32; and a fixed stream of float32 bit patterns. Independent of
// src/, as the oracles are.

/** value = n 2^e (n an integer) rounded to float32, ties to even, subnormals and overflow included. */
export function roundToFloat32(n: bigint, e: number): number {
  if (n === 0n) return 0;
  const sign = n < 0n ? -1 : 1;
  const m = n < 0n ? -n : n;
  const top = m.toString(2).length - 1 + e; // floor(log2 value)
  if (top > 127) return sign * Infinity;
  const lsb = Math.max(top - 23, -149); // the exponent of the result's last bit
  const shift = BigInt(lsb - e);
  let q: bigint;
  if (shift <= 0n) {
    q = m << -shift;
  } else {
    q = m >> shift;
    const rest = m - (q << shift);
    const half = 1n << (shift - 1n);
    if (rest > half || (rest === half && (q & 1n) === 1n)) q += 1n;
  }
  const value = Number(q) * 2 ** lsb;
  return sign * (value > 3.4028234663852886e38 ? Infinity : value);
}

/** A float32 from the top 32 bits of a 64-bit LCG (a fixed sequence: a failure repeats). */
export function lcg(seed: number): () => number {
  let state = BigInt(seed);
  return () => {
    state = (state * 6364136223846793005n + 1442695040888963407n) & 0xffffffffffffffffn;
    return Number(state >> 32n);
  };
}
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
export const fromBits = (bits: number): number => {
  u32[0] = bits;
  return f32[0]!;
};

// Exact float16 <-> float32 conversion of four lanes in integer SIMD. Neither direction needs a
// per-lane shift count: half subnormals are decoded by an exact int-to-float conversion, and
// float32 values in the half-subnormal range are rounded by one float addition, whose
// round-to-nearest-even step is exactly the half grid there.

import { Simd, V128, type FunctionBuilder } from "./encoder.js";

/** Float32 exponent bias minus half's, in the exponent field: 112 << 23. */
const REBIAS = 0x38000000;
/** 0.5: its ULP is 2^-24, the spacing of half subnormals. */
const HALF_GRID = 0x3f000000;

/**
 * Loads four halves from the address on the stack and leaves their exact float32 values:
 * - normal: mantissa shifted up 13 bits, exponent rebiased by 112;
 * - Inf and NaN (exponent 31): rebiased by another 112 to 255, payload kept;
 * - subnormal and zero: the 10-bit mantissa converted to float (exact) times 2^-24.
 */
export function loadHalves(f: FunctionBuilder, offset = 0): void {
  f.simdMemory(Simd.load16x4U, offset);
  const h = f.local(V128);
  const em = f.local(V128);
  f.tee(h).splat32(0x7fff).simd(Simd.and).set(em);
  // subnormal value, then normal bits, then the selector em < 0x400
  f.get(em)
    .simd(Simd.f32x4ConvertI32x4U)
    .f32x4(2 ** -24)
    .simd(Simd.f32x4Mul);
  f.get(em).i32(13).simd(Simd.i32x4Shl).splat32(REBIAS).simd(Simd.i32x4Add);
  f.get(em).splat32(0x7bff).simd(Simd.i32x4GtS).splat32(REBIAS).simd(Simd.and);
  f.simd(Simd.i32x4Add);
  f.get(em).splat32(0x400).simd(Simd.i32x4LtS).simd(Simd.bitselect);
  f.get(h).splat32(0x8000).simd(Simd.and).i32(16).simd(Simd.i32x4Shl).simd(Simd.or);
}

/**
 * Rounds the float32 lanes in `value` to halves (nearest, ties to even) and stores the four
 * halves (8 bytes) at the address on the stack:
 * - NaN gives 0x7e00; from 65520 up (the midpoint between 65504 and 2^16) gives Inf;
 * - normal halves: add 0xfff plus the lowest kept bit, then drop 13 bits (the carry may move to
 *   the next binade, which the bit layout handles);
 * - below 2^-14: |v| + 0.5 rounds |v| to a multiple of 2^-24 once; its bits minus 0.5's are the
 *   half's (float32 subnormals round to 0 there, 2^-14 itself comes out as 0x400).
 */
export function storeHalves(f: FunctionBuilder, value: number, offset = 0): void {
  const mag = f.local(V128);
  const halves = f.local(V128);
  f.get(value).splat32(0x7fffffff).simd(Simd.and).set(mag);
  f.splat32(0x7e00).splat32(0x7c00);
  f.get(mag).f32x4(0.5).simd(Simd.f32x4Add).splat32(HALF_GRID).simd(Simd.i32x4Sub);
  f.get(mag)
    .splat32(0xfff - REBIAS)
    .simd(Simd.i32x4Add);
  f.get(mag).i32(13).simd(Simd.i32x4ShrU).splat32(1).simd(Simd.and).simd(Simd.i32x4Add);
  f.i32(13).simd(Simd.i32x4ShrU);
  f.get(mag).splat32(0x38800000).simd(Simd.i32x4LtS).simd(Simd.bitselect);
  f.get(mag).splat32(0x477fefff).simd(Simd.i32x4GtS).simd(Simd.bitselect);
  f.get(mag).splat32(0x7f800000).simd(Simd.i32x4GtS).simd(Simd.bitselect);
  f.get(value).i32(16).simd(Simd.i32x4ShrU).splat32(0x8000).simd(Simd.and).simd(Simd.or);
  // the low 16 bits of each lane into the low 8 bytes (a shuffle: narrowing would saturate)
  f.tee(halves).get(halves).shuffle([0, 1, 4, 5, 8, 9, 12, 13, 0, 1, 4, 5, 8, 9, 12, 13]);
  f.simdLane(Simd.store64Lane, 0, offset);
}

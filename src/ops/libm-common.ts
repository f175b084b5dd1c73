// What the float32 expansions of libm.ts and libm-erfc.ts share: the ln2 split for exp's range
// reduction, exp's polynomial and Horner's scheme. A file of its own so that neither imports the
// other.

import { add, mul, mulAdd, round, sub, type F } from "./ir.js";

// ln2 = LN2_HI + LN2_LO (Cody–Waite). LN2_HI = 0x3f317200 has 15 significant bits, so k * LN2_HI
// is exact for |k| < 2^9 (here |k| <= 433, expParts' largest); LN2_LO = fround(ln2 - LN2_HI) leaves an error of
// 2^-44 per unit of k.
export const LN2_HI = 0.693145751953125;
export const LN2_LO = 1.428606765330187e-6;
export const LOG2E = 1.4426950216293335;

/**
 * e^r = 1 + r + r^2 E(r) on |r| <= 0.39 (ln2/2, plus the small part erfc adds): Lawson minimax
 * fit with float32 coefficients (scripts/fit-erfc.py); relative error of e^r 2^-27.1.
 */
export const EXP_POLY = [
  0.49999988079071045, 0.16666436195373535, 0.04166924208402634, 0.008377877995371819,
  0.0013800772139802575,
];

/**
 * Horner's scheme from the leading coefficient (x is finite wherever it is used), each step a
 * mulAdd: a fused step rounds once where an unfused one rounds twice, and every fit here was
 * checked both ways (test/libm.test.ts, the numerics suites).
 */
export const horner = (x: F, coefficients: readonly number[]): F =>
  coefficients
    .slice(0, -1)
    .reduceRight<F | number>((acc, c) => mulAdd(acc, x, c), coefficients.at(-1)!) as F;

/**
 * x = k ln2 + (hi - lo) for |x| up to 300 (k integer-valued): hi = x - k LN2_HI is exact (x and
 * k LN2_HI agree in their leading bits), lo = k LN2_LO, |hi - lo| <= 0.35 or a hair more. hi is a
 * mulAdd: k LN2_HI is exact, so fused or not gives the same bits.
 */
export function codyWaite(x: F): { k: F; hi: F; lo: F } {
  const k = round(mul(x, LOG2E));
  return { k, hi: mulAdd(k, -LN2_HI, x), lo: mul(k, LN2_LO) };
}

/**
 * e^(hi - lo) for |hi - lo| <= 0.39, hi exact: 1 + (hi + (q - lo)), q = r^2 EXP_POLY(r), r =
 * hi - lo. Only the final 1 + ... rounds at the result's scale (0.5 ULP); hi + (q - lo) rounds at
 * |r| <= 0.35 (0.25 ULP at most) and the polynomial adds under 0.12 ULP, so it is within 0.9 ULP
 * of e^(hi - lo). The float32 expansion of the IR's expNear, and the core of exp and erfc.
 */
export function expNearF32(hi: F, lo: F): F {
  const r = sub(hi, lo);
  return add(1, add(hi, sub(mul(mul(r, r), horner(r, EXP_POLY)), lo)));
}

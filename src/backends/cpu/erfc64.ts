// Float64 erfc for the "js" reference backend (JavaScript has no Math.erfc), accurate to a few
// double ULPs, so that rounding it to float32 gives the correctly rounded float32 except within
// a few double ULPs of a float32 rounding boundary (test/libm-erfc.test.ts measures it).
//
// - |x| < 0.5: 1 - erf(x) from erf's Maclaurin series; erf(x) < 0.53 there, so the subtraction
//   loses under a bit and the series converges in at most 13 terms.
// - x >= 0.5: erfc(x) = exp(-x^2) erfcx(x), erfcx fitted by scripts/fit-erfc.py. x^2 is not
//   exact in double, and its rounding error (up to x^2 2^-53) would become a relative error of
//   the result, 40 ULP at x = 9; so x = xh + xl with xh = fround(x): xh^2 (48 bits) is exact and
//   exp(-x^2) = exp(-xh^2) (1 + expm1(-xl (x + xh))).
// - x <= -0.5: 2 - erfc(-x), erfc(-x) <= 0.48, so no cancellation.

import { INTERVALS, INTERVAL_WIDTH, TAIL, TAIL_START, TAIL_U_MID } from "./erfc64-coefficients.js";

const TWO_OVER_SQRT_PI = 1.1283791670955126;
/** erfc(x) < 2^-1075 (rounds to +0) from here on. */
const UNDERFLOW = 27.3;

const horner = (coefficients: readonly number[], s: number): number => {
  let acc = 0;
  for (let i = coefficients.length - 1; i >= 0; i--) acc = acc * s + coefficients[i]!;
  return acc;
};

/** erf(x) = 2/sqrt(pi) sum_n (-1)^n x^(2n+1) / (n! (2n+1)), for |x| < 0.5. */
function erfSeries(x: number): number {
  const z = x * x;
  let power = x; // (-1)^n x^(2n+1) / n!
  let sum = x;
  for (let n = 1; n < 20; n++) {
    power *= -z / n;
    const next = sum + power / (2 * n + 1);
    if (next === sum) break;
    sum = next;
  }
  return TWO_OVER_SQRT_PI * sum;
}

/** exp(x^2) erfc(x) for 0.5 <= x <= UNDERFLOW. */
function erfcx(x: number): number {
  if (x < TAIL_START) {
    const i = Math.floor((x - INTERVALS[0]!.mid) / INTERVAL_WIDTH + 0.5);
    const { mid, coefficients } = INTERVALS[Math.min(i, INTERVALS.length - 1)]!;
    return horner(coefficients, x - mid);
  }
  return horner(TAIL, 1 / (x * x) - TAIL_U_MID) / x;
}

/** erfc(x) for x >= 0.5 (+0 past the underflow). */
function erfcPositive(x: number): number {
  if (x > UNDERFLOW) return 0;
  const xh = Math.fround(x);
  const e = Math.exp(-xh * xh);
  return (e + e * Math.expm1(-(x - xh) * (x + xh))) * erfcx(x);
}

export function erfc64(x: number): number {
  if (Number.isNaN(x)) return x;
  if (Math.abs(x) < 0.5) return 1 - erfSeries(x);
  return x > 0 ? erfcPositive(x) : 2 - erfcPositive(-x);
}

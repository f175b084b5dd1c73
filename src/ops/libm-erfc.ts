// Float32 erfc written in the IR's primitive ops (the rules at the top of libm.ts hold here too),
// within 3 ULP of the correctly rounded value (99.9% within 1) over test/libm-erfc.test.ts's
// sweep of the float32 bit patterns. 59 primitive ops per element.
//
// erfc(|x|) = exp(-x^2) erfcx(|x|), erfcx = exp(x^2) erfc(x) being smooth and slowly varying
// (from 1 at 0 to 0.056 at 10), so one rational form covers [0, 10.1] (see SQRT_PI and G below).
// erfc(x) = 2 - erfc(-x) for x < 0, where erfc(-x) <= 1 so the subtraction does not cancel.
//
// x^2 is not exact in float32, and its rounding (up to 100 * 2^-24 at x = 10) would be a relative
// error of the result, so a = ah + al with ah = a rounded to a multiple of 2^-8: ah has at most
// 12 significant bits below 16, so ah^2 is exact, and x^2 = ah^2 + d, d = al (a + ah), |d| < 0.04.
// exp(-ah^2 - d) is then reduced as in libm.ts's exp32, with d joining the small part.

import {
  add,
  abs,
  div,
  guard,
  isnan,
  ldexp,
  ldexpNormal,
  le,
  lt,
  mul,
  round,
  select,
  sub,
  type F,
} from "./ir.js";
import { expNearF32, horner, LN2_HI, LN2_LO, LOG2E } from "./libm-common.js";

/**
 * |x| is clamped here (NaN included): erfc(10.1) < 2^-151 rounds to +0, as for every larger x,
 * and k stays >= -147.
 */
const CLAMP = 10.1;
/** ah = round(a 2^8) 2^-8. */
const SPLIT = 256;

/**
 * erfcx(a) = 1 / (SQRT_PI a + G(a)), G = P(a) / Q(a) on [0, 10.1], P(0) = Q(0) = 1: Lawson minimax
 * fit of G's effect on erfcx, linearised by Loeb's reweighting (scripts/fit-erfc.py), coefficients
 * rounded to float32 one at a time with the others refitted; relative error of erfcx 2^-27.8
 * (2^-28.5 before N's coefficients, two of them inexact differences, were rounded).
 * Why this form: a plain P/Q for erfcx has Horner sums dominated by their high-degree terms past
 * a = 1, and their roundings cost 6 ULP; here SQRT_PI a dominates the denominator past a = 1
 * (G is at most a quarter of it there), so G's rounding errors are scaled down, and below 1 its
 * Horner sums are dominated by the constant term. All coefficients are positive.
 */
const SQRT_PI = 1.7724539041519165;
/** G = 1 - a N(a) / Q(a), N = (Q - P) / a, so the denominator is 1 + a (SQRT_PI - N/Q). */
const G_N = [
  0.6440748572349548, 0.7211288809776306, 0.3823350667953491, 0.10890890657901764,
  0.014478854835033417,
];
const G_Q = [
  1, 1.5438740253448486, 1.1432881355285645, 0.4901939332485199, 0.12174092233181,
  0.014478854835033417,
];

/**
 * erfc(x) in float32: 2^k (1 + s) / (1 + a (SQRT_PI - N/Q)), e^(-a^2) = 2^k (1 + s),
 * s = hi + (q - lo) with hi exact. The roundings of 1 + s, of the denominator and of the division,
 * each up to half an ULP, make most of the measured 3 ULP worst case; ldexp rounds once, so
 * subnormal results (a from 9.2 up) come out right.
 */
export function erfcF32(x: F): F {
  const absX = abs(x);
  // The fast side, for |x| <= FAST_LIMIT: no clamp, no NaN select, and 2^k a plain product.
  return guard(le(absX, FAST_LIMIT), erfcOf(x, absX, ldexpNormal), erfcExact(x, absX));
}

/**
 * Below this |x| erfc(|x|) is normal (erfc(9) = 4e-37), with k >= -117 and (1 + s) / denominator
 * above 1/32, so its 2^k scaling is one exact product.
 */
const FAST_LIMIT = 9;

function erfcExact(x: F, absX: F): F {
  const a = select(le(absX, CLAMP), absX, CLAMP);
  return select(isnan(x), x, erfcOf(x, a, ldexp));
}

/** The formula above for a = |x| (clamped where it must be), scaled by 2^k with `scale`. */
function erfcOf(x: F, a: F, scale: (m: F, k: F) => F): F {
  const { k, e } = expNegSquare(a, 1);
  const erfcAbs = scale(div(e, millsDenominator(a, SQRT_PI, G_N, G_Q)), k);
  return select(lt(x, 0), sub(2, erfcAbs), erfcAbs);
}

/**
 * e^(-f a^2) = 2^k e for f = 1 and 0 <= a <= 10.1 (erfc) or f = 1/2 and 0 <= a <= 15
 * (gelu's Phi, activations/gaussian.ts), with a^2 carried exactly as ah^2 + d (the header): ah^2
 * has at most 24 significant bits below 16, f ah^2 is a multiple of 2^-17, and so is f ah^2 +
 * k LN2_HI (LN2_HI is a multiple of 2^-15), which is under 0.4: hi is exact. |d| <= f a 2^-8 is
 * under 0.04 in both ranges, so |r| stays within EXP_POLY's 0.39.
 */
export function expNegSquare(a: F, f: 1 | 0.5): { k: F; e: F } {
  const times = (v: F): F => (f === 1 ? v : mul(v, f));
  const ah = mul(round(mul(a, SPLIT)), 1 / SPLIT);
  const hh = times(mul(ah, ah));
  const d = times(mul(sub(a, ah), add(a, ah)));
  const k = round(mul(hh, -LOG2E));
  const hi = sub(mul(k, -LN2_HI), hh);
  const lo = add(mul(k, LN2_LO), d);
  return { k, e: expNearF32(hi, lo) };
}

/**
 * 1 + a (c - N(a)/Q(a)), the reciprocal of erfcx in the form above (c a dominates past a = 1,
 * so the rational's roundings are scaled down): erfc's own, and gelu's, fitted in x itself.
 */
export const millsDenominator = (a: F, c: number, n: readonly number[], q: readonly number[]) =>
  add(1, mul(a, sub(c, div(horner(a, n), horner(a, q)))));

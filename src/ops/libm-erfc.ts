// Float32 erfc written in the IR's primitive ops (the rules at the top of libm.ts hold here too),
// within 2 ULP of the correctly rounded value for every float32 input; test/libm-erfc.test.ts
// measures it. 56 primitive ops per element.
//
// erfc(|x|) = exp(-x^2) erfcx(|x|), erfcx = exp(x^2) erfc(x) being smooth and slowly varying
// (from 1 at 0 to 0.056 at 10), so one rational P4/Q5 covers [0, 10.1] to a relative 2^-26.3.
// erfc(x) = 2 - erfc(-x) for x < 0, where erfc(-x) <= 1 so the subtraction does not cancel.
//
// x^2 is not exact in float32, and its rounding (up to 100 * 2^-24 at x = 10) would be a relative
// error of the result, so a = ah + al with ah = a rounded to a multiple of 2^-8: ah has at most
// 12 significant bits below 16, so ah^2 is exact, and x^2 = ah^2 + d, d = al (a + ah), |d| < 0.04.
// exp(-ah^2 - d) is then reduced as in libm.ts's exp32, with d joining the small part.

import { add, abs, div, isnan, ldexp, le, lt, mul, round, select, sub, type F } from "./ir.js";
import { horner, LN2_HI, LN2_LO, LOG2E } from "./libm.js";

/**
 * |x| is clamped here (NaN included): erfc(10.1) < 2^-151 rounds to +0, as for every larger x,
 * and k stays >= -147.
 */
const CLAMP = 10.1;
/** ah = round(a 2^8) 2^-8. */
const SPLIT = 256;

/**
 * e^r = 1 + r + r^2 E(r) on |r| <= 0.39 (ln2/2 plus |d|): Lawson minimax fit with float32
 * coefficients (scripts/fit-erfc.py); relative error of e^r 2^-27.1.
 */
const EXP_POLY = [
  0.49999988079071045, 0.16666436195373535, 0.04166924208402634, 0.008377877995371819,
  0.0013800772139802575,
];

/**
 * erfcx(a) = P(a) / Q(a) on [0, 10.1], P(0) = Q(0) = 1: Lawson minimax fit of the relative error,
 * linearised by Loeb's reweighting (scripts/fit-erfc.py), coefficients rounded to float32 one at a
 * time with the others refitted; relative error 2^-26.3. All coefficients are positive, so Horner
 * adds no cancellation.
 */
const ERFCX_P = [1, 1.236454725265503, 0.7294526100158691, 0.228150874376297, 0.03255453705787659];
const ERFCX_Q = [
  1, 2.3648343086242676, 2.397874593734741, 1.321333408355713, 0.4044138193130493,
  0.05770070105791092,
];

/**
 * erfc(x) in float32: 2^k (R + R s), R = P(a)/Q(a), e^(-a^2) = 2^k (1 + s), s = hi + (q - lo)
 * with hi exact. Errors: R about 1.5 ULP (two Horner sums and the division), the final add 0.5,
 * R s and s under 0.25 together, the fits 0.4; ldexp rounds once, so subnormal results (a from
 * 9.2 up) come out right.
 */
export function erfcF32(x: F): F {
  const absX = abs(x);
  const a = select(le(absX, CLAMP), absX, CLAMP);
  const ah = mul(round(mul(a, SPLIT)), 1 / SPLIT);
  const hh = mul(ah, ah);
  const d = mul(sub(a, ah), add(a, ah));
  const k = round(mul(hh, -LOG2E));
  // -hh - k LN2_HI: both are multiples of 2^-16 and the difference is under 0.4, so it is exact.
  const hi = sub(mul(k, -LN2_HI), hh);
  const lo = add(mul(k, LN2_LO), d);
  const r = sub(hi, lo);
  const s = add(hi, sub(mul(mul(r, r), horner(r, EXP_POLY)), lo));
  const ratio = div(horner(a, ERFCX_P), horner(a, ERFCX_Q));
  const erfcAbs = ldexp(add(ratio, mul(ratio, s)), k);
  return select(isnan(x), x, select(lt(x, 0), sub(2, erfcAbs), erfcAbs));
}

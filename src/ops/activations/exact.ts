// Exact-arithmetic helpers for the activation table, for where float32 rounding is amplified:
// the argument of exp (an error of d in z is an error of d relative in e^z, so |z| ULPs for
// |z| ~ 100), products whose factors underflow while the product would not (x * e^x for
// x < -87, or g * f'(x) with a large g), and sums that cancel at a kink. On the js backend
// (float64) the same expressions are exact or nearly so, and cost nothing in accuracy.

import {
  abs,
  add,
  and,
  constant,
  expNear,
  eq,
  ge,
  guard,
  ldexp,
  ldexpNormal,
  le,
  lt,
  mul,
  or,
  scaledProduct,
  select,
  sub,
  type F,
} from "../ir.js";
import { productError, split, SPLIT_MAX } from "../double-float.js";
import { codyWaite } from "../libm-common.js";

/**
 * a * b = hi + lo exactly (Dekker's product) when neither the product nor the split overflows
 * and nothing underflows; lo is 0 wherever that does not hold (including Inf and NaN operands),
 * so that hi alone, the rounded product, is used there.
 */
export function twoProduct(a: F, b: F): [F, F] {
  const hi = mul(a, b);
  const lo = productError(hi, split(a), split(b));
  const ok = and(and(lt(abs(a), SPLIT_MAX), lt(abs(b), SPLIT_MAX)), lt(abs(lo), Infinity));
  return [hi, select(ok, lo, 0)];
}

/**
 * a * c for a float64 value c = hi + lo (both float32: a constant's pair, or a parameter and its
 * residual): within float32 rounding on the float32 backends, and exact enough on the float64
 * one that it rounds correctly. Where a * hi is infinite or NaN it is the result (lo may have
 * the other sign: Inf - Inf).
 */
export function timesPair(a: F, [hi, lo]: readonly [F | number, F | number]): F {
  const p = mul(a, hi);
  return select(lt(abs(p), Infinity), add(p, mul(a, lo)), p);
}

/**
 * p * x = hi + lo as twoProduct gives it, for a parameter p = ph + pl (float32 value and
 * residual): pl * x joins lo where the product is finite (at x = +-Inf it would be Inf - Inf).
 */
export function paramProduct(ph: F, pl: F, x: F): [F, F] {
  const [hi, lo] = twoProduct(ph, x);
  return [hi, select(lt(abs(hi), Infinity), add(lo, mul(pl, x)), lo)];
}

/** e^x = m 2^k is computed for x clamped to this; past it every use rounds to 0 or Inf. */
const EXP_PARTS_LIMIT = 300;

/**
 * e^(x + lo) as m * 2^k with m near e^r in [0.7, 1.42] and k an integer-valued float, for |x| up
 * to 300 (lo, a tiny correction such as twoProduct's, is dropped where x is clamped): the
 * exponent range float32 lacks stays in k until one ldexp rounds the final result. m is
 * expNear(hi, low), hi = x - k LN2_HI exact and lo joining low: within an ULP of
 * e^(x + lo - k ln2) in float32, and as exact as Math.exp on the js backend. A NaN x gives the
 * values of x = 300: callers select NaN themselves.
 */
export function expParts(x: F, lo: F | number = 0): { m: F; k: F } {
  const inside = and(ge(x, -EXP_PARTS_LIMIT), le(x, EXP_PARTS_LIMIT));
  const xc = select(lt(x, -EXP_PARTS_LIMIT), -EXP_PARTS_LIMIT, select(inside, x, EXP_PARTS_LIMIT));
  const { k, hi, lo: kLo } = codyWaite(xc);
  const low = lo === 0 ? kLo : sub(kLo, select(inside, lo, 0));
  return { m: expNear(hi, low), k };
}

/**
 * ldexp with k limited to where every backend's ldexp is exact (|k| <= 330). Its fast side, for
 * k in [-126, 127], is one product by the normal 2^k: ldexp rounds once, and so does a product,
 * subnormal results included.
 */
export function scale2(a: F, k: F): F {
  const exact = ldexp(a, select(lt(k, -330), -330, select(lt(330, k), 330, k)));
  return guard(and(ge(k, -126), le(k, 127)), ldexpNormal(a, k), exact);
}

/** gradTimes's fast side: g, m and the scaling in these ranges keep every product normal. */
const PLAIN_G = 2 ** 60;
const PLAIN_M = 2 ** 30;
const PLAIN_K = 30;

/**
 * g * m * 2^k rounded once, for m of moderate magnitude (within 2^+-60) and any integer k, so
 * that neither g * m nor the scaling can overflow or underflow before the end; zero, infinite
 * and NaN g give g * m. The exact side is the IR's scaledProduct (one float64 step on the CPU).
 * The fast side, for 2^-60 <= |g| <= 2^60, 2^-30 <= |m| <= 2^30 and |k| <= 30: m 2^k and g m
 * 2^k are normal, so g (m 2^k) rounds once too. Only mish's backward keeps this guard: side by
 * side, every other caller ran as fast or faster on scaledProduct alone (geluTanh's forward
 * 1.8x), mish's backward 25% slower (V8 schedules the one f64 path around its other branches
 * worse).
 */
export function gradTimes(g: F, m: F, k: F | number): F {
  const kf = typeof k === "number" ? constant(k) : k;
  const plain = and(
    and(within(abs(g), 1 / PLAIN_G, PLAIN_G), within(abs(m), 1 / PLAIN_M, PLAIN_M)),
    within(kf, -PLAIN_K, PLAIN_K),
  );
  return guard(plain, mul(g, ldexpNormal(m, kf)), scaledProduct(g, m, kf));
}

/** x within [lo, hi], both inclusive (false for NaN). */
export const within = (x: F, lo: number, hi: number) => and(ge(x, lo), le(x, hi));

/**
 * x <= t for t = hi + lo (a float32 hi and its residual lo), decided exactly: a float32 x above
 * hi is at least an ULP above it, more than |lo|, so only x = hi needs lo. False for NaN x.
 */
export const atMost = (x: F, hi: F, lo: F) => or(lt(x, hi), and(eq(x, hi), ge(lo, 0)));

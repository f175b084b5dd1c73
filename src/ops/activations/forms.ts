// Stable building blocks shared by several entries of the activation table. Each is a function
// of IR expressions, so an entry that uses one still has all its math in the table's terms.

import {
  abs,
  add,
  and,
  copysign,
  div,
  exp,
  expm1,
  gt,
  log1p,
  lt,
  mul,
  neg,
  select,
  type B,
  type F,
} from "../ir.js";

/**
 * tanh z from t = expm1(-2|z|) in [-1, 0]: -t / (2 + t) never overflows and does not cancel for
 * small |z|; copysign keeps odd symmetry and tanh(-0) = -0.
 */
export function tanhOf(z: F): F {
  const t = expm1(mul(-2, abs(z)));
  return copysign(div(neg(t), add(2, t)), z);
}

/**
 * sigmoid z split on the sign: e = exp(-|z|) <= 1 never overflows, and for z < 0, e / (1 + e)
 * keeps the tiny results that 1 - 1/(1+e) would cancel to 0. (1 / (1 + e^-z) with one exp and
 * no select was tried: 10% faster and 2 ULP at worst instead of 3, but 1 ULP off at z = -10,
 * which the documented example prints.)
 */
export function sigmoidOf(z: F): F {
  return sigmoidParts(z).s;
}

/** sigmoidOf's pieces, for entries that need more than s: 1 - s is select(negative, r, e r). */
export function sigmoidParts(z: F): { e: F; r: F; negative: B; s: F } {
  const e = exp(neg(abs(z)));
  const r = div(1, add(1, e));
  const negative = lt(z, 0);
  return { e, r, negative, s: select(negative, mul(e, r), r) };
}

/**
 * log(1 + e^z) as max(z, 0) + log1p(exp(-|z|)): exp never sees a positive argument, and log1p
 * keeps the tail for z << 0.
 */
export function softplusOf(z: F): F {
  return add(select(gt(z, 0), z, 0), log1p(exp(neg(abs(z)))));
}

/** x limited to [lo, hi] by comparisons, which keep NaN where min/max builtins may drop it. */
export function clampTo(x: F, lo: F | number, hi: F | number): F {
  return select(lt(x, lo), lo, select(gt(x, hi), hi, x));
}

/** The gradient of a clamp from its output: g strictly inside (lo, hi), else 0 (selected). */
export function clampGrad(y: F, g: F, lo: F | number, hi: F | number): F {
  return select(and(gt(y, lo), lt(y, hi)), g, 0);
}

// Float32 exp, expm1 and log1p written in the IR's primitive ops, for backends that have no
// accurate builtin for them (WGSL's are loose and undefined past ~88 and for NaN/Inf; Wasm has
// none). Every backend lowers the primitives used here exactly in binary32, so one expansion gives
// the same results everywhere: within 2 ULP of the correctly rounded value for every float32
// input (test/libm.test.ts measures it over a sweep of all bit patterns).
//
// Rules kept throughout:
// - specials (NaN, ±Inf, overflow, underflow, tiny arguments) are decided by comparisons and
//   select, never by Inf arithmetic inside a polynomial;
// - arguments are clamped before range reduction, so every intermediate is finite for every input
//   (NaN included) and k stays a small integer: select computes both sides, and backends convert
//   k to an integer, which is undefined on GPUs when out of range;
// - results are scaled with ldexp, which rounds once, so subnormal results come out right.

import {
  abs,
  add,
  and,
  div,
  eq,
  ge,
  gt,
  guard,
  ilogb,
  isnan,
  ldexp,
  ldexpNormal,
  le,
  lt,
  mul,
  mulAdd,
  neg,
  not,
  pmax,
  pmin,
  select,
  sub,
  topologicalOrder,
  withOperands,
  type Expr,
  type F,
  type Kernel,
} from "./ir.js";
import { polynomialF32 } from "./double-float.js";
import { codyWaite, expNearF32, horner, LN2_HI, LN2_LO } from "./libm-common.js";
import { erfcF32 } from "./libm-erfc.js";
import { knownNonPositive, knownUnitInterval } from "./range.js";
import { shareEqual } from "./share.js";

const FLT_MAX = 3.4028234663852886e38;
// Constants are float32 values, as every backend holds them (the CPU emulation does not round
// them, so a float64 constant would make it disagree with the GPU).
const SQRT_HALF = 0.7071067690849304; // sqrt(2)/2
/** The float32 just above -1. */
const ABOVE_MINUS_1 = -0.9999999403953552;
const SQRT_HALF_M1 = -0.2928932309150696; // sqrt(2)/2 - 1
const SQRT2_M1 = 0.4142135679721832; // sqrt(2) - 1

/**
 * exp's argument is clamped to [EXP_LO, EXP_HI], where the computation itself gives the limits,
 * so no select is needed for them: exp rounds to +Inf from EXP_OVERFLOW up, and there k = 128 and
 * 1 + (hi + (q - lo)) >= 1, so the final ldexp gives Inf (no arithmetic follows it); exp rounds to
 * +0 below -103.97207641601562, and there k = -150 and the mantissa is below 1, so ldexp rounds to
 * +0.
 */
const EXP_LO = -104;
const EXP_HI = 89;
/** The least float32 whose exp (and expm1) rounds to +Inf, and the float32 just below it. */
const EXP_OVERFLOW = 88.72283935546875;
const EXP_MAX = 88.72283172607422;
/**
 * expm1 rounds to -1 from -17.32868 down, and the computation at -18 gives exactly -1
 * (2^-26 e^r - 1 with 2^-26 e^r < 2^-25, half an ULP of 1); -18 keeps k = round(x * log2e) >= -26.
 */
const EXPM1_LO = -18;
/** From here up, k = round(x log2e) >= -24, where expm1F32's fast side (`shifted`) holds. */
const EXPM1_NEAR_LO = -16.5;
/** Below these |x|, expm1(x) and log1p(x) round to x itself (x^2/2 is under half an ULP). */
const EXPM1_TINY = 2 ** -25;
const LOG1P_TINY = 2 ** -24;

/**
 * Minimax fit (float32 coefficients) of P(r) = (expm1(r) - r) / r^2 on |r| <= 0.35, so that
 * expm1(r) = r + r^2 P(r). Relative error of P, coefficient rounding included: 1.1e-8 (2^-26.5);
 * as r^2 P is at most a fifth of expm1(r), that is under 2^-28 of the result.
 */
const EXPM1_POLY = [
  0.5, 0.1666666716337204, 0.041666459292173386, 0.008333361707627773, 0.0013934486778452992,
  0.00019858127052430063,
];

/**
 * Minimax fit (float32 coefficients) of Q(z) = (2 atanh(s) - 2s) / s^3, z = s^2 in [0, 0.02944]
 * (|s| <= 3 - 2 sqrt(2), the range of s = f / (2 + f) for f in [sqrt(2)/2 - 1, sqrt(2) - 1]), so
 * log(1 + f) = 2s + s R with R = z Q(z). Relative error of Q: 3.0e-7 (2^-21.7); s R is at most
 * 1% of the result, so that is under 2^-28 of the result.
 */
const LOG1P_POLY = [0.6666668653488159, 0.3998876214027405, 0.29580608010292053];

/** x limited to [lo, hi]; NaN gives lo (pmax(lo, NaN) is lo), so what follows stays finite. */
const clamp = (x: F, lo: number, hi: number): F => pmin(hi, pmax(lo, x));

/**
 * x = k ln2 + r with r = hi - lo, |r| <= 0.35, for |x| <= 104. hi is exact (x and k LN2_HI
 * agree in their leading bits) and is kept apart from lo so that r is never rounded in the sum
 * that forms the result; q = r^2 P(r) uses the rounded r, which only moves it by r * 2^-26.
 * P is EXP_POLY for exp (error relative to e^r, which is near 1) and the longer EXPM1_POLY for
 * expm1, whose result can be as small as r itself.
 */
function reduce(x: F, poly: readonly number[]): { k: F; hi: F; qlo: F } {
  const { k, hi, lo } = codyWaite(x);
  const r = sub(hi, lo);
  const q = mul(mul(r, r), horner(r, poly));
  return { k, hi, qlo: sub(q, lo) };
}

/**
 * exp(x) in float32: 2^k (1 + (hi + (q - lo))). Only the final 1 + ... rounds at the result's
 * scale (0.5 ULP); hi + (q - lo) rounds at |r| <= 0.35 (0.25 ULP at most), the polynomial adds
 * under 0.12 ULP (2^-27.1 of e^r) and the ln2 split under 0.01, so the error is below 0.9 ULP,
 * plus ldexp's one rounding for subnormal results.
 */
export function exp32(x: F, nonPositive = false): F {
  const { k, hi, lo } = codyWaite(clamp(x, EXP_LO, EXP_HI));
  const exact = select(isnan(x), x, ldexp(expNearF32(hi, lo), k));
  // The fast side, for x in [-87, 88]: the clamp and the NaN select change nothing there, k is
  // in [-126, 127] and the result is normal, so ldexp is one product. An argument known to be
  // <= 0 (range.ts: sigmoid's and softplus's -|z|) needs only the lower bound tested.
  const fast = codyWaite(x);
  return guard(
    nonPositive ? ge(x, -87) : and(ge(x, -87), le(x, 88)),
    ldexpNormal(expNearF32(fast.hi, fast.lo), fast.k),
    exact,
  );
}

/**
 * expm1(x) in float32, by k = round(x log2e), with expm1(r) = hi + (q - lo), |r| <= 0.35:
 * - k <= 0: expm1NonPositive's form, shiftedWide (k reaches -26 at the clamp);
 * - 1 <= k <= 24: 2^k (t + expm1(r)), t = 1 - 2^-k exact, so (t + hi) + (q - lo) rounds twice
 *   at the result's scale (2^k expm1(r) as above would carry expm1(r)'s rounding, 2^k times
 *   larger, into a result that at k = 1 is as small as 0.41);
 * - k >= 25: t would round, so its 2^-k goes into the small term: 2^k (1 + (hi + ((q - lo) -
 *   2^-k))).
 * The fast side is the same form with `shifted`, for blocks of arguments in [-16.5, 0] (k >=
 * -24): what softplus's and logSigmoid's backward (-y, y) and celu (min(x, 0) / alpha) receive
 * from ordinary data. Blocks with a positive argument (none of the activations' own in practice)
 * take the exact side.
 */
export function expm1F32(x: F): F {
  // Clamped to EXP_MAX, not EXP_HI: near and scaled stay finite; the select below gives Inf.
  const { k, hi, qlo } = reduce(clamp(x, EXPM1_LO, EXP_MAX), EXPM1_POLY);
  const twoToMinusK = ldexp(1, neg(k));
  const near = ldexp(add(add(sub(1, twoToMinusK), hi), qlo), k);
  const scaled = ldexp(add(1, add(hi, sub(qlo, select(gt(k, 0), twoToMinusK, 0)))), k);
  const positive = select(le(k, 24), near, scaled);
  // min(k, 0): a 2^k that ldexpNormal can build, where the positive forms are selected.
  const core = select(ge(k, 1), positive, shiftedWide(ldexpNormal(1, pmin(k, 0)), hi, qlo));
  // Tiny x (and -0) give x itself; so does NaN, for which the comparison is false.
  const exact = select(ge(x, EXP_OVERFLOW), Infinity, select(ge(abs(x), EXPM1_TINY), core, x));
  return guard(and(ge(x, EXPM1_NEAR_LO), le(x, 0)), nonPositiveNear(x, shifted), exact);
}

/**
 * expm1(x) for an argument known to be <= 0 or NaN (range.ts: tanh's -2|z|, elu's min(x, 0)),
 * with no branch: clamped to -18, every x has -26 <= k <= 0, so 2^k is one product and the wide
 * form holds throughout. A guard that sent x < -16.5 to an exact side cost more than the two ops
 * the wide form adds (elu and tanh ran 10% and 20% slower with it), and gave the same bits. NaN
 * needs no select of its own: pmax(x, lo) keeps it (x first), and nonPositiveNear selects it.
 */
export function expm1NonPositive(x: F): F {
  return nonPositiveNear(pmax(x, EXPM1_LO), shiftedWide);
}

/**
 * expm1 for x <= 0 (or NaN) from 2^k: k = 0 gives hi + (q - lo); tiny x need no select of their
 * own: k = 0 and 0 + 1 (x + q) rounds to x, as q < x^2 is under half an ULP of x. Zeros and NaN
 * are x itself, selected (the sum would turn -0 into +0: elu's expm1(0) for every positive x, and
 * tanh's expm1(-0) at 0, are why zeros must stay in this form). With `shifted`, the fast side of
 * expm1F32, for x in [-16.5, 0].
 */
function nonPositiveNear(x: F, form: typeof shifted): F {
  const { k, hi, qlo } = reduce(x, EXPM1_POLY);
  return select(lt(x, 0), form(ldexpNormal(1, k), hi, qlo), x);
}

/**
 * (2^k - 1) + 2^k (hi + (q - lo)) for -24 <= k <= 0, where 2^k - 1 and the product by 2^k are
 * exact (so a fused mulAdd gives the same bits) and the last sum rounds once at the result's
 * scale; expm1(r), rounded at |r| <= 0.35, moves it by at most half an ULP at k = -1 and far
 * less below.
 */
const shifted = (twoToK: F, hi: F, qlo: F): F => mulAdd(twoToK, add(hi, qlo), sub(twoToK, 1));

/**
 * shifted, widened to -26 <= k <= 0: below -24, 2^k - 1 rounds (2^-25 - 1 to -1, an ULP off the
 * result), and t = 2^k - ((2^k - 1) + 1), exact, is what it lost: the sum is then -1 + (2^k
 * expm1(r) + 2^k), the bits of 2^k (1 + expm1(r)) - 1. Where 2^k - 1 is exact, t = +0 and the
 * bits are shifted's: adding +0 changes only a -0 product, which meets 2^k - 1 = 0 only at x =
 * -0, selected in nonPositiveNear.
 */
const shiftedWide = (twoToK: F, hi: F, qlo: F): F => {
  const head = sub(twoToK, 1);
  const lost = sub(twoToK, add(head, 1));
  return add(head, mulAdd(twoToK, add(hi, qlo), lost));
};

/**
 * log1p(x) in float32, after fdlibm: log1p(x) = k ln2 + log(1 + f) + c / u, where
 * - for x in (sqrt(2)/2 - 1, sqrt(2) - 1): k = 0, f = x, c = 0 (1 + x is never rounded);
 * - otherwise u = 1 + x (rounded), 2^k = the power of two that puts m = u 2^-k in
 *   [sqrt(2)/2, sqrt(2)), f = m - 1 (exact), and c = (1 + x) - u, exact in both forms below, so
 *   c / u corrects the rounding of u to first order;
 * - log(1 + f) = f - f^2/2 + s (f^2/2 + R), s = f / (2 + f), the same as 2 atanh(s) but with the
 *   division only in the term s (...), at most 5% of the result, so a loose GPU division adds
 *   under 0.15 ULP.
 */
export function log1pF32(x: F): F {
  // -1 < x <= FLT_MAX; other inputs are answered below and computed as a bound, which is safe.
  const xs = clamp(x, ABOVE_MINUS_1, FLT_MAX);
  const direct = and(gt(xs, SQRT_HALF_M1), lt(xs, SQRT2_M1));
  const u = add(1, xs); // in [2^-24, FLT_MAX]: normal
  // u sqrt(2)/2 in [2^(k-1), 2^k) puts m = u 2^-k in [sqrt(2)/2, sqrt(2)), up to the rounding of
  // the product, which moves the bounds by 2^-24 relative: f then reaches 0.4142137, s 0.1715730,
  // still within the polynomial's error bound. One ilogb instead of ilogb, ldexp and a compare.
  const kWide = add(ilogb(mul(u, SQRT_HALF)), 1);
  // Both forms give c exactly: for x >= 1, u - x is exact (Sterbenz: x <= u <= 2x); for x < 1,
  // u - 1 is (Sterbenz for u >= 1/2; below, u = 1 + x was exact).
  const c = select(ge(xs, 1), sub(1, sub(u, xs)), sub(xs, sub(u, 1)));
  const f = select(direct, xs, sub(ldexp(u, neg(kWide)), 1));
  const k = select(direct, 0, kWide);
  const correction = select(direct, 0, div(c, u));
  const halfSquare = mul(mul(0.5, f), f);
  const s = div(f, add(2, f));
  const z = mul(s, s);
  const r = mul(z, horner(z, LOG1P_POLY));
  // k LN2_HI is exact (|k| <= 128) and added last; the terms inside are ordered small to large.
  const tail = add(mul(s, add(halfSquare, r)), add(mul(k, LN2_LO), correction));
  const core = sub(mul(k, LN2_HI), sub(sub(halfSquare, tail), f));
  // Tiny x (and -0) give x itself; so does NaN, for which the comparison is false.
  const finite = select(ge(abs(x), LOG1P_TINY), core, x);
  return select(
    le(x, -1),
    select(eq(x, -1), -Infinity, NaN),
    select(gt(x, FLT_MAX), Infinity, finite),
  );
}

/**
 * log1p(x) for x known to be in [0, 1] or NaN (range.ts: softplus's and logSigmoid's
 * log1p(exp(-|z|))): log1pF32's form, where only k = 0 and k = 1 occur, so it needs no clamp,
 * ilogb, ldexp or special selects.
 * - Below sqrt(2) - 1: k = 0, f = x, c = 0, as log1pF32's direct form.
 * - From there up: u = 1 + x is in [1.41, 2], so m = u / 2 and f = m - 1 are exact (f in
 *   [sqrt(2)/2 - 1, 0]), k = 1, and c = x - (u - 1) is u's rounding error, exact. c / u is at
 *   most about 1.4 ULP of the result, so its division's error is negligible even on a GPU.
 * Tiny x need no select of their own: the result x - (f^2/2 - s (f^2/2 + R)) rounds to x, as
 * f^2/2 is under half an ULP of x; 0 gives +0 and NaN gives NaN (wide is false, f = x).
 */
export function log1pUnit(x: F): F {
  const wide = ge(x, SQRT2_M1);
  const u = add(1, x);
  const f = select(wide, sub(mul(u, 0.5), 1), x);
  const c = sub(x, sub(u, 1));
  const halfSquare = mul(mul(0.5, f), f);
  const s = div(f, add(2, f));
  const z = mul(s, s);
  const r = mul(z, horner(z, LOG1P_POLY));
  // As in log1pF32: k LN2_HI (exact) last, the terms inside ordered small to large.
  const tail = add(mul(s, add(halfSquare, r)), select(wide, add(LN2_LO, div(c, u)), 0));
  return sub(select(wide, LN2_HI, 0), sub(sub(halfSquare, tail), f));
}

/**
 * Each transcendental's expansion, from its rewritten operand(s) and its first operand as
 * written.
 */
const EXPANSIONS: Partial<Record<Expr["op"], (x: F, written: Expr, y: F) => F>> = {
  exp: (x, written) => exp32(x, knownNonPositive(written)),
  expm1: (x, written) => (knownNonPositive(written) ? expm1NonPositive(x) : expm1F32(x)),
  log1p: (x, written) => (knownUnitInterval(written) ? log1pUnit(x) : log1pF32(x)),
  erfc: erfcF32,
  expNear: (hi, _, lo) => expNearF32(hi, lo),
};

/**
 * What a backend's arithmetic holds: "float64" keeps polyHi, polyLo and scaledProduct (the CPU's
 * lanes hold float64) and mulAdd for the renderer; "float32" expands all four (WGSL's).
 */
export type Lanes = "float64" | "float32";

/**
 * scaledProduct in float32: a's significand times b (exact scaling by 2^-e first), then one
 * ldexp by e + k, limited to where every backend's ldexp is exact; zero, Inf and NaN a as a b
 * gives them. The product rounds, and ldexp again where the result is subnormal.
 */
function scaledProductF32(a: F, b: F, k: F): F {
  const ordinary = and(lt(abs(a), Infinity), not(eq(a, 0)));
  const e = select(ordinary, ilogb(a), 0);
  const scale = add(e, k);
  const limited = select(lt(scale, -330), -330, select(lt(330, scale), 330, scale));
  return select(ordinary, ldexp(mul(ldexp(a, neg(e)), b), limited), mul(a, b));
}

/** The float32 expansions of the ops that "float64" lanes leave to the renderer. */
function expandWide(expr: Expr, operands: readonly Expr[]): Expr {
  const [a, b, c] = operands as F[];
  switch (expr.op) {
    case "polyHi":
      return polynomialF32(a!, expr.coefficients!)[0];
    case "polyLo":
      return polynomialF32(a!, expr.coefficients!)[1];
    case "scaledProduct":
      return scaledProductF32(a!, b!, c!);
    case "mulAdd":
      // Rounded twice, as WGSL's a * b + c is (its fma() may or may not fuse).
      return add(mul(a!, b!), c!);
    default:
      return withOperands(expr, operands);
  }
}

/** body with every node replaced by rewrite(node, its rewritten operands), each node once. */
function rewriteEach(body: F, rewrite: (expr: Expr, operands: readonly Expr[]) => Expr): F {
  const rewritten = new Map<Expr, Expr>();
  for (const expr of topologicalOrder(body)) {
    const operands = expr.operands.map((operand) => rewritten.get(operand)!);
    rewritten.set(expr, rewrite(expr, operands));
  }
  return rewritten.get(body) as F;
}

/**
 * Rewrites every exp, expm1, log1p, erfc and expNear node of the DAG into float32 polynomial
 * code, and then, for "float32" lanes, polyHi, polyLo, scaledProduct and mulAdd too (the
 * polynomials' Horner steps are mulAdds); shared nodes stay shared (each node is rewritten once,
 * memoized by identity), and a DAG with nothing to expand is returned as is.
 */
export function expandTranscendentals(body: F, lanes: Lanes = "float64"): F {
  const expanded = rewriteEach(body, (expr, operands) => {
    const expand = EXPANSIONS[expr.op];
    return expand !== undefined
      ? expand(operands[0] as F, expr.operands[0]!, operands[1] as F)
      : withOperands(expr, operands);
  });
  return lanes === "float32" ? rewriteEach(expanded, expandWide) : expanded;
}

/**
 * The same kernel with its body expanded and its equal nodes merged (share.ts); the id is
 * unchanged.
 */
export function expandKernel(kernel: Kernel, lanes: Lanes = "float64"): Kernel {
  return { ...kernel, body: shareEqual(expandTranscendentals(kernel.body, lanes)) };
}

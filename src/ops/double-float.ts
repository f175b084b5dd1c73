// Exact float32 sums and products (Knuth's twoSum, Veltkamp's split, Dekker's product), and from
// them the float32 expansion of the IR's polyHi and polyLo for backends without float64 (WGSL):
// a polynomial carried as a float32 pair, hi + lo, through Horner's scheme.

import { add, constant, mul, sub, type F } from "./ir.js";

/** Veltkamp's splitter for 24-bit significands: hi keeps the leading 12 bits, a - hi is exact. */
const SPLIT = 4097;
/** Above this magnitude SPLIT * a could overflow float32. */
export const SPLIT_MAX = 2 ** 114;

/** a = hi + lo exactly (Veltkamp), for |a| below SPLIT_MAX. */
export function split(a: F): [F, F] {
  const c = mul(SPLIT, a);
  const hi = sub(c, sub(c, a));
  return [hi, sub(a, hi)];
}

/** split() of a float32 constant, done here in the same float32 steps. */
export function splitConstant(a: number): [F, F] {
  const c = Math.fround(SPLIT * a);
  const hi = Math.fround(c - Math.fround(c - a));
  return [constant(hi), constant(Math.fround(a - hi))];
}

/**
 * The rounding error of p = a * b (Dekker), from the splits of a and b: exact where a and b are
 * finite and below SPLIT_MAX in magnitude, the product does not overflow and nothing
 * underflows. twoProduct (activations/exact.ts) checks the magnitudes and that the error is
 * finite (underflow is its callers' concern); a caller whose operands are bounded shares splits
 * and skips the checks, with the same bits.
 */
export function productError(p: F, [ah, al]: readonly [F, F], [bh, bl]: readonly [F, F]): F {
  return add(add(add(sub(mul(ah, bh), p), mul(ah, bl)), mul(al, bh)), mul(al, bl));
}

/** a + b = s + err exactly (Knuth), b a variable or a constant the sum's first operand is not. */
export function twoSum(a: F, b: F): [F, F] {
  const s = add(a, b);
  const bb = sub(s, a);
  return [s, add(sub(a, sub(s, bb)), sub(b, bb))];
}

/** A float64 value as float32 hi + lo. */
function pairOf(c: number): [number, number] {
  const hi = Math.fround(c);
  return [hi, Math.fround(c - hi)];
}

/**
 * polyHi and polyLo of x in float32 arithmetic: Horner's scheme on a pair h + l, each step h x
 * as Dekker's exact product plus l x, then the coefficient's pair joined by twoSum (a zero
 * coefficient adds nothing); the pair is normalized once at the end. Each step rounds at about
 * 2^-46 of the partial, so for polynomials whose terms do not cancel hi + lo is p(x) to about
 * 2^-44 relative. hi is nearly always p(x) correctly rounded, as the float64 renderers give
 * it; where it is not, lo makes up the difference. Needs |x| and every partial below
 * SPLIT_MAX and normal error terms, which polyHi's bound on x gives.
 */
export function polynomialF32(x: F, coefficients: readonly number[]): [F, F] {
  const xs = split(x);
  const [leadHi, leadLo] = pairOf(coefficients.at(-1)!);
  let hi: F = constant(leadHi);
  let hiSplit = splitConstant(leadHi);
  let lo: F | null = leadLo === 0 ? null : constant(leadLo);
  for (let i = coefficients.length - 2; i >= 0; i--) {
    const p = mul(hi, x);
    const error = productError(p, hiSplit, xs);
    const pe = lo === null ? error : add(error, mul(lo, x));
    const [ch, cl] = pairOf(coefficients[i]!);
    if (ch === 0) {
      [hi, lo] = [p, pe];
    } else {
      const [s, e] = twoSum(p, constant(ch));
      [hi, lo] = [s, add(e, cl === 0 ? pe : add(pe, cl))];
    }
    hiSplit = split(hi);
  }
  if (lo === null) return [hi, constant(0)];
  const sum = add(hi, lo);
  return [sum, sub(lo, sub(sum, hi))];
}

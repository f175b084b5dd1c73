// geluTanh and mish: x times a smooth gate, with derivatives that are not functions of the
// output (backward reads x). Both gates are written with e = e^-|z| as m 2^k (z exact, or x
// itself), so nothing overflows, x e^z for z << 0 is rounded once, and the roots of the
// derivatives are removed analytically: the numerator is t (...) + c expm1(t) (...), t = x - x0,
// with both terms of t's sign, so nothing cancels anywhere (scripts/fit-activations.py prints
// the constants).

import {
  abs,
  add,
  div,
  eq,
  exp,
  ge,
  gt,
  guard,
  ldexpNormal,
  lt,
  mul,
  neg,
  pmax,
  pmin,
  scaledProduct,
  select,
  sub,
  widePolynomial,
  type F,
} from "../ir.js";
import { horner } from "../libm-common.js";
import { expParts, gradTimes, scale2 } from "./exact.js";
import { clampTo } from "./forms.js";
import type { ActivationSpec } from "./spec.js";

/** 2 sqrt(2/pi), and times 0.044715 (PyTorch's constants), in float64 for widePolynomial. */
const A = 2 * Math.sqrt(2 / Math.PI);
const B = A * 0.044715;
/** A and 3B as float32, for z' in float32 (its rounding is not amplified). */
const A_HI = Math.fround(A);
const B3_HI = Math.fround(3 * B);

/**
 * z = 2 sqrt(2/pi) (x + 0.044715 x^3) = A x + B x^3 as zh + zl, for |x| <= 20: 1 + tanh(z/2) =
 * 2 sigmoid(z), and sigmoid(z) for z << 0 is e^z, whose relative error is z's absolute error
 * (float32 z would cost |z| ULPs, 30 at x = -6).
 */
const Z_POLY = [0, A, 0, B];
/** 1 + z + 2 B x^3 = 1 + A x + 3 B x^3, the derivative's numerator but for e^z (below). */
const N_POLY = [1, A, 0, 3 * B];

/**
 * geluTanh'(x) / (x - X0) on [-1.2, 0] as a polynomial in th = x - X0_HI
 * (scripts/fit-activations.py; float32 Horner error 2.0 x 2^-24).
 */
const GT_ROOT_POLY = [
  0.4304001033306122, 0.3875184655189514, -0.015784328803420067, -0.11394528299570084,
  -0.016590336337685585, 0.019678542390465736, 0.005069317761808634, -0.002289489610120654,
  -0.0005224599153734744, -0.00022171280579641461, 0.0001827530941227451,
];
/** geluTanh' is 0 at X0 = X0_HI + X0_LO. */
const GT_X0_HI = -0.7524614334106445;
const GT_X0_LO = 1.1339627903339533e-8;

/** x beyond this is clamped: z is then past +-600, where every result is its limit. */
const GT_CLAMP = 20;
/** Below this N has no cancellation left: N from exact pieces (the root fit is not needed). */
const GT_FAR = -1.2;

/**
 * e^-|z| = m 2^k for z of x clamped (Z_POLY), and e, its float32 value wherever k >= -126. Below,
 * e is m 2^-126 in place of a subnormal (or zero) e^-|z|: every use adds it to terms of 1 or more
 * (|z| > 87 there), where neither rounds to anything but those terms. So e needs no exact
 * scaling, nor the branch that one takes (k <= 0 always: NaN, which gives k = 433, is the
 * callers' to select).
 */
function geluTanhGate(x: F) {
  const xc = clampTo(x, -GT_CLAMP, GT_CLAMP);
  const [zh, zl] = widePolynomial(xc, Z_POLY);
  const negative = lt(zh, 0);
  const { m, k } = expParts(select(negative, zh, neg(zh)), select(negative, zl, neg(zl)));
  return { xc, m, k, e: ldexpNormal(m, pmin(pmax(k, -126), 0)), zh, zl };
}

export const geluTanh: ActivationSpec = {
  params: [],
  formula: "0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))",
  derivative: "g * s * (1 + x * z' * (1 - s)), s = sigmoid(z), z = 2 sqrt(2/pi) (x + 0.044715 x^3)",
  // 0.5 (1 + tanh(z/2)) = sigmoid(z): no 1 + tanh to cancel for x << 0, no x^3 to overflow (z
  // from x clamped to +-20). For x < 0, x e^z / (1 + e^z) with e^z = m 2^k rounded once after x.
  forward: (x) => {
    const { m, k, e } = geluTanhGate(x);
    const tail = scaledProduct(x, div(m, add(1, e)), k);
    return select(eq(x, -Infinity), 0, select(lt(x, 0), tail, div(x, add(1, e))));
  },
  backwardFrom: "x",
  // On [-1.2, 0) the derivative vanishes at X0 = -0.7525: geluTanh' = t P(th), t = th - X0_LO,
  // th = x - X0_HI exact near X0, P a fit (scripts/fit-activations.py), formed as th P - X0_LO P
  // (a GPU compiler may fold (x - X0_HI) - X0_LO, see silu). (N = 1 + e^z + x z' from exp and
  // expm1, scaled by e^z / (1 + e^z)^2, took up to 6 ULP from their roundings.) For x >= 0
  // every term is positive: (1 + x z' e / (1 + e)) / (1 + e), e = e^-z.
  backward: (x, g) => {
    const { xc, k, e, zh, zl } = geluTanhGate(x);
    const th = sub(xc, GT_X0_HI);
    const p = horner(th, GT_ROOT_POLY);
    const root = mul(g, sub(mul(th, p), mul(GT_X0_LO, p)));
    // Below -1.2, N = 1 + e + z + 2 B x^3 = nh + nl, nh + (nl - e) from N_POLY, and
    // e^z N / (1 + e^z)^2 = m 2^k (nh + (nl + nh zl - (nh + nl) c)), m = e^zh / 2^k, c = e (2 +
    // e) / (1 + e)^2 < 0.2, whose rounding is damped: two roundings after exp's, one after g.
    const [nh, nPolyLo] = widePolynomial(xc, N_POLY);
    const nl = add(nPolyLo, e);
    const c = div(mul(e, add(2, e)), add(1, mul(e, add(2, e))));
    const { m: mz } = expParts(select(lt(zh, 0), zh, 0));
    const far = mul(mz, add(nh, add(nl, sub(mul(nh, zl), mul(add(nh, nl), c)))));
    const left = select(lt(x, GT_FAR), scaledProduct(g, far, k), root);
    const xzp = mul(xc, add(A_HI, mul(B3_HI, mul(xc, xc))));
    const onePlusE = add(1, e);
    const right = mul(g, div(add(1, div(mul(xzp, e), onePlusE)), onePlusE));
    return select(eq(x, -Infinity), 0, select(lt(x, 0), left, right));
  },
};

/**
 * mish' = tanh(sp) + x sech^2(sp) sigmoid(x), sp = softplus(x); with u = e^x and w = 1 + u it is
 * 4 u w G / (w^2 + 1)^2, G = x + (w^2 + w + 1 + 1/w) / 4, which is 0 at X0 = X0_HI + X0_LO.
 */
const MISH_X0_HI = -1.1924312114715576;
const MISH_X0_LO = -3.0439375464652585e-9;
/** mish'(x) / (x - X0) on [-2, 0] as a polynomial in th = x - X0_HI (scripts/fit-activations.py). */
const MISH_ROOT_POLY = [
  0.2669479250907898, 0.2047312706708908, 0.041907258331775665, -0.020271839573979378,
  -0.015816133469343185, -0.0033634041901677847, 0.0010750449728220701, 0.0010066557442769408,
  0.0002801056543830782, -7.613543857587501e-5, -6.874775135656819e-5, 7.361375992331887e-6,
];

/** From here up, e^x and mishNear's every intermediate are normal floats. */
const MISH_NEAR = -87;

/**
 * mish for x >= MISH_NEAR (and +Inf) with one exp, v = e^-|x|, and one division: the forward
 * comment's ratio as 1 - t / d, whose rounded part t / d is damped (at most 1/2 for x < 0,
 * 2/5 for x >= 0): for x < 0 (v = u) x v (1 - v (v + 1) / (v (v + 2) + 2)), for x >= 0 (v =
 * 1/u) x (1 - 2 v^2 / (1 + 2 v (1 + v))).
 */
function mishNear(x: F): F {
  const v = exp(neg(abs(x)));
  const negative = lt(x, 0);
  const twoV = mul(2, v);
  const t = select(negative, mul(v, add(v, 1)), mul(twoV, v));
  const d = select(negative, add(mul(v, add(v, 2)), 2), add(1, mul(twoV, add(1, v))));
  const ratio = sub(1, div(t, d));
  return mul(x, select(negative, mul(v, ratio), ratio));
}

export const mish: ActivationSpec = {
  params: [],
  formula: "x * tanh(softplus(x)) = x * tanh(log(1 + exp(x)))",
  derivative: "g * (tanh(sp) + x * sigmoid(x) * (1 - tanh(sp)^2)), sp = softplus(x)",
  // tanh(log(1 + u)) = u (u + 2) / (u (u + 2) + 2), u = e^x; for x >= 0, with v = e^-x <= 1, the
  // same ratio is (1 + 2v) / (1 + 2v (1 + v)): nothing overflows. From -87 up, mishNear; below
  // (the guard's exact side), with u = m 2^k, x m (u + 2) / (u (u + 2) + 2) scaled by 2^k once
  // (x e^x is subnormal there).
  forward: (x) => {
    const near = mishNear(x);
    const { m, k } = expParts(x);
    const u = scale2(m, k);
    // (u + 2) / (u (u + 2) + 2) = 1 - u (u + 1) / (...): the part that rounds is damped by u.
    const ratio = sub(1, div(mul(u, add(u, 1)), add(mul(u, add(u, 2)), 2)));
    const tail = scaledProduct(x, mul(m, ratio), k);
    const far = select(eq(x, -Infinity), 0, tail);
    return guard(ge(x, MISH_NEAR), near, select(ge(x, MISH_NEAR), near, far));
  },
  backwardFrom: "x",
  // On [-2, 0), mish' = t P(th), t = th - X0_LO, th = x - X0_HI (exact near X0), P a fit
  // (scripts/fit-activations.py) formed as th P - X0_LO P: the root is factored out and no
  // exp rounds (u, w, G and h^2 as separate roundings cost 6 ULP). Below -2 (x clamped to
  // -200, past which it is 0), 4 u w G / (w^2 + 1)^2 is scaled as m 2^k and rounded once
  // after g. For x >= 0, with v = e^-x and D = 1 + 2v (1 + v): ((1 + 2v) + 4 x v^2 (1 + v) /
  // D) / D, all positive (x clamped to 40, past which it is 1).
  backward: (x, g) => {
    const xn = select(lt(x, -200), -200, x);
    const { m, k } = expParts(xn);
    const u = scale2(m, k);
    const w = add(1, u);
    const th = sub(xn, MISH_X0_HI);
    // 4 u w G / (w^2 + 1)^2 = u w G / h^2, h = 1 + u (1 + u/2).
    const h = add(1, mul(u, add(1, mul(0.5, u))));
    // Below -2 (u < 0.14): G = (x + 1) + u (2 + u + u/w) / 4 (x + 1 exact, no cancellation), and
    // w / h^2 = 1 - u ((1 + u)^2 + u^3/4) / h^2, whose rounded part is damped by u.
    const gFar = add(add(xn, 1), mul(mul(0.25, u), add(add(2, u), div(u, w))));
    const uu = mul(u, u);
    const ratio = sub(1, div(mul(u, add(mul(w, w), mul(0.25, mul(uu, u)))), mul(h, h)));
    const far = mul(m, mul(ratio, gFar));
    const p = horner(th, MISH_ROOT_POLY);
    const root = mul(g, sub(mul(th, p), mul(MISH_X0_LO, p)));
    const left = select(lt(x, -2), gradTimes(g, far, k), root);
    const xp = select(gt(x, 40), 40, x);
    const v = exp(neg(abs(xp)));
    const twoV = mul(2, v);
    const dd = add(1, mul(twoV, add(1, v)));
    const extra = div(mul(mul(4, xp), mul(mul(v, v), add(1, v))), dd);
    const right = mul(g, div(add(add(1, twoV), extra), dd));
    return select(eq(x, -Infinity), 0, select(lt(x, 0), left, right));
  },
};

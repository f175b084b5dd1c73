// Functions whose derivative is not a function of the output (not monotonic, or with no
// closed-form inverse): backward reads the input x, so the module keeps it and refuses in place.

import {
  abs,
  add,
  copysign,
  div,
  eq,
  exp,
  ge,
  gt,
  guard,
  isnan,
  ldexpNormal,
  le,
  lt,
  mul,
  neg,
  select,
  sub,
  type F,
  scaledProduct,
} from "../ir.js";
import { horner } from "../libm-common.js";
import { expParts, paramProduct, scale2 } from "./exact.js";
import { clampTo, sigmoidParts } from "./forms.js";
import {
  GELU_FAST,
  gaussParts,
  geluGradOf,
  geluOf,
  INV_SQRT_2PI,
  millsS,
  PHI_LIMIT,
  phiArgument,
} from "./gaussian.js";
import { geluTanh, mish } from "./self-gated.js";
import { first, type ActivationSpec } from "./spec.js";

export const FROM_INPUT_NAMES = [
  "hardSwish",
  "silu",
  "swish",
  "tanhShrink",
  "gelu",
  "geluTanh",
  "mish",
] as const;

// Fits in z = x^2 on [0, 1], from scripts/fit-activations.py (float32 Horner error ~2^-23).
/** (x - tanh x) / x^3. */
const TANH_SHRINK_POLY = [
  0.3333333432674408, -0.13333331048488617, 0.05396759882569313, -0.021862583234906197,
  0.00882627721875906, -0.0034784439485520124, 0.0012422249419614673, -0.00033773103496059775,
  4.847735908697359e-5,
];
/** tanh(x)^2 / x^2. */
const TANH_SQUARE_POLY = [
  1.0, -0.6666662096977234, 0.3777652382850647, -0.19669462740421295, 0.09679989516735077,
  -0.04456077888607979, 0.017804531380534172, -0.005200464278459549, 0.000778079847805202,
];

/** silu's derivative is 0 at z0 = -W(1/e) - 1 (1 + z0 + e^z0 = 0); z0 = Z0_HI + Z0_LO. */
const Z0_HI = -1.2784645557403564;
const Z0_LO = 1.2979282537628478e-8;
/** silu'(z) / (z - z0) on [-2, 0] in th = z - Z0_HI (scripts/fit-activations.py; float32 Horner error 2.1 x 2^-24). */
const SILU_ROOT_POLY = [
  0.2178117036819458, 0.14664877951145172, 0.018874911591410637, -0.015222163870930672,
  -0.006607662886381149, 0.0001235581439686939, 0.000803606933914125, 0.00019215377687942237,
  -5.2045415941393e-5, -3.286487117293291e-5, 6.442990525101777e-6,
];

/**
 * silu from z = beta x = zh + zl exactly (sigmoid(z) for z << 0 is e^z, whose relative error is
 * z's absolute error); zl is null where z is x itself (beta = 1, the atDefaults form), so the
 * terms that carry it are not computed. sigmoid(zh) is corrected by zl sigmoid'(zh). For zh <
 * -30, x sigmoid(z) is x e^z to 1e-12, formed as x m 2^k and rounded once: a subnormal sigmoid
 * times x would keep only its few bits (x = -100 would be 40 ULP off).
 */
function siluOf(x: F, zh: F, zl: F | null): F {
  const { e, r, negative, s } = sigmoidParts(zh);
  const rest = select(negative, r, mul(e, r)); // 1 - s, without cancelling
  const near = zl === null ? mul(x, s) : mul(x, add(s, mul(zl, mul(s, rest))));
  const { m, k } = expParts(zh, zl ?? 0);
  const tail = scaledProduct(x, m, k);
  // Where zh >= -30 (every block of ordinary data) the tail's scaling is not computed.
  return guard(ge(zh, -30), near, select(eq(x, -Infinity), 0, select(lt(zh, -30), tail, near)));
}

/**
 * silu' = s (1 + z (1 - s)), a function of z = zh + zl (zl null as in siluOf). It vanishes at
 * z0 = -1.278, where its terms cancel: on [-2, 0) it is t P with t = z - z0 (exact near z0) and P
 * a fit. (N / (1 + e^z), N = t + e^z0 expm1(t), took up to 5 ULP from its roundings.) Below -2
 * the bracket is N / (1 + e^z) with N = 1 + z + e^z; for z >= 0, s = r and 1 - s = e r. Below
 * -30 the derivative is e^z (1 + z), scaled as in forward and rounded once after g.
 */
function siluGradOf(x: F, g: F, zh: F, zl: F | null): F {
  const e0 = exp(neg(abs(zh)));
  const e = zl === null ? e0 : add(e0, mul(e0, select(lt(zh, 0), zl, neg(zl)))); // e^-|z|
  const onePlusE = add(1, e);
  const r = div(1, onePlusE);
  // On [-2, 0): t P(th), t = th + (zl - Z0_LO), th = zh - Z0_HI exact near z0, P a fit
  // (scripts/fit-activations.py); zl - Z0_LO first (a GPU compiler may fold (zh - Z0_HI) -
  // Z0_LO into zh - (Z0_HI + Z0_LO)). Below -2, 1 + zh is exact and N = 1 + z + e^z rounds
  // once; (1 + e)^2 as 1 + e (2 + e): one rounding instead of two, relative to the result.
  const th = sub(zh, Z0_HI);
  const poly = horner(th, SILU_ROOT_POLY);
  const root =
    zl === null
      ? sub(mul(th, poly), mul(Z0_LO, poly))
      : add(mul(th, poly), mul(sub(zl, Z0_LO), poly));
  const n = add(add(1, zh), zl === null ? e : add(e, zl));
  const far = div(mul(e, n), add(1, mul(e, add(2, e))));
  const left = select(lt(zh, -2), far, root);
  const right = mul(r, add(1, mul(select(eq(zh, Infinity), 0, zh), mul(e, r))));
  const { m, k } = expParts(zh, zl ?? 0);
  const zc = select(lt(zh, -300), -300, zh); // past -300 the result is 0 all the same
  const tail = scaledProduct(g, mul(add(1, zc), m), k);
  const d = mul(g, select(lt(zh, 0), left, right));
  // At -Inf the derivative's limit is 0, selected (a GPU compiler may fold g * 0 to 0 anyway).
  return guard(ge(zh, -30), d, select(eq(x, -Infinity), 0, select(lt(zh, -30), tail, d)));
}

const silu: ActivationSpec = {
  // ONNX's Swish alpha, here beta (Keras's swish and PyTorch's SiLU are beta = 1).
  params: [{ name: "beta", default: 1 }],
  validate: ([beta]) => (beta! > 0 ? null : `silu beta must be positive, got ${beta}`),
  formula: "x * sigmoid(beta * x)",
  derivative: "g * s * (1 + z * (1 - s)), z = beta * x, s = sigmoid(z)",
  forward: (x, p, residuals) => siluOf(x, ...paramProduct(first(p), first(residuals), x)),
  backwardFrom: "x",
  backward: (x, g, p, residuals) =>
    siluGradOf(x, g, ...paramProduct(first(p), first(residuals), x)),
  // beta = 1: z = x exactly, and the same bits without the product's low part (it is 0 there).
  atDefaults: {
    forward: (x) => siluOf(x, x, null),
    backward: (x, g) => siluGradOf(x, g, x, null),
  },
};

export const FROM_INPUT: Record<(typeof FROM_INPUT_NAMES)[number], ActivationSpec> = {
  hardSwish: {
    params: [],
    formula: "x * min(max(x + 3, 0), 6) / 6",
    derivative: "g * (0 if x < -3, (2x + 3) / 6 if x <= 3, else 1)",
    // x + 3 is exact near -3 (Sterbenz), so the product does not cancel; the middle piece is
    // only used on [-3, 3], where nothing overflows.
    forward: (x) => select(lt(x, -3), 0, select(gt(x, 3), x, div(mul(x, add(x, 3)), 6))),
    backwardFrom: "x",
    // PyTorch's pieces (the middle one closed at both kinks); 2x + 3 is exact near -1.5, where
    // the derivative is 0. NaN x takes the middle piece and stays NaN.
    backward: (x, g) =>
      select(lt(x, -3), 0, select(gt(x, 3), g, mul(g, div(add(mul(2, x), 3), 6)))),
  },
  silu,
  // An alias: the same definition (Keras's and ONNX's name), so every backend and the CLI list it.
  swish: silu,
  tanhShrink: {
    params: [],
    formula: "x - tanh(x)",
    derivative: "g * tanh(x)^2",
    // x - tanh x cancels for small |x| (x^3/3 at 1e-3): for |x| < 1 a fit of (x - tanh x)/x^3
    // in x^2, times x^2 then x (a subnormal result is rounded once). Above, with e = e^-2|x|,
    // x - tanh x = (|x| - 1) + 2e/(1 + e): |x| - 1 is exact up to 2 and both terms are >= 0.
    forward: (x) => {
      const z = mul(x, x);
      const small = mul(x, mul(z, horner(z, TANH_SHRINK_POLY)));
      const e = exp(mul(-2, abs(x)));
      const large = add(sub(abs(x), 1), div(mul(2, e), add(1, e)));
      return select(lt(abs(x), 1), small, copysign(large, x));
    },
    backwardFrom: "x",
    // tanh^2 doubles tanh's relative error, so both pieces avoid tanh's own rounding: a fit of
    // tanh^2(x)/x^2 below 1, and (1 - 2e/(1 + e))^2 above, where 2e/(1 + e) <= 0.24 and its
    // error is damped. The square (<= 1) is formed before g.
    backward: (x, g) => {
      const z = mul(x, x);
      const e = exp(mul(-2, abs(x)));
      const th = sub(1, div(mul(2, e), add(1, e)));
      // g x P x for |x| < 1: no factor underflows before g has been applied.
      const small = mul(mul(mul(g, x), horner(z, TANH_SQUARE_POLY)), x);
      return select(lt(abs(x), 1), small, mul(g, mul(th, th)));
    },
  },
  gelu: {
    params: [],
    formula: "x * Phi(x) = 0.5 * x * erfc(-x / sqrt(2))",
    derivative: "g * (Phi(x) + x * phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi)",
    // From Phi(-|x|) = e^(-x^2/2) M(|x|) / sqrt(2 pi), M a rational fit (gaussian.ts): erfc of a
    // rounded -x/sqrt 2 would cost x^2/2 ULPs, and 1 + erf cancels for x << 0. The fast side,
    // |x| <= GELU_FAST, scales by plain products; the exact side clamps |x| to PHI_LIMIT, where
    // every result has reached its limit (-0 below, x above), scales with scale2 for the
    // subnormal results and selects NaN.
    forward: (x) => {
      const a = abs(x);
      const exact = geluOf(x, phiArgument(x), clampTo(x, -PHI_LIMIT, PHI_LIMIT), scale2);
      return guard(le(a, GELU_FAST), geluOf(x, a, x, ldexpNormal), select(isnan(x), x, exact));
    },
    backwardFrom: "x",
    // geluGradOf in gaussian.ts, with the same two sides as forward. Below -PHI_LIMIT, where g
    // gelu'(x) is still nonzero for large g (to x = -19.7), it is phi(x) (x - S/x) with phi =
    // m 2^k from x^2 exactly and S the far tail's fit, from x limited to [-300, -PHI_LIMIT]
    // (past -300 the result is 0 all the same; the limit keeps x^2 and 1/x^2 finite where the
    // select discards them).
    backward: (x, g) => {
      const a = abs(x);
      const xc = clampTo(x, -PHI_LIMIT, PHI_LIMIT);
      const near = geluGradOf(x, g, phiArgument(x), xc, scale2);
      const xf = clampTo(x, -300, -PHI_LIMIT);
      const { m, k } = gaussParts(xf);
      const far = scaledProduct(
        g,
        mul(m, mul(INV_SQRT_2PI, sub(xf, div(millsS(div(1, mul(xf, xf))), xf)))),
        k,
      );
      const exact = select(
        isnan(x),
        x,
        select(eq(x, -Infinity), 0, select(lt(x, -PHI_LIMIT), far, near)),
      );
      return guard(le(a, GELU_FAST), geluGradOf(x, g, a, x, ldexpNormal), exact);
    },
  },
  geluTanh,
  mish,
};

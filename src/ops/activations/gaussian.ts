// The Gaussian pieces of gelu: erfc(-x/sqrt 2) with the argument carried exactly, e^(-x^2/2) as
// m 2^k, and the fit that keeps gelu's derivative accurate around its root.

import { abs, constant, erfc, exp, lt, mul, neg, select, sub, type F } from "../ir.js";
import { horner } from "../libm-common.js";
import { expParts, twoProduct } from "./exact.js";

/** 1/sqrt 2 = INV_SQRT2_HI + INV_SQRT2_LO. */
const INV_SQRT2_HI = 0.7071067690849304;
const INV_SQRT2_LO = 1.2101617485882343e-8;
const TWO_OVER_SQRT_PI = 1.128379225730896;
export const INV_SQRT_2PI = 0.3989422917366028;

/**
 * erfc(-x/sqrt 2) = 2 Phi(x). erfc(u) for large u has relative slope -2u, so the rounding of
 * u = -x/sqrt 2 (half an ULP of u) would cost u^2 ULPs (100 at x = -14): u = uh + ul exactly,
 * and erfc(uh + ul) = erfc(uh) - (2/sqrt pi) e^(-uh^2) ul to far below an ULP (ul < 2^-24 |u|).
 * Past |uh| = 10 the correction is 0 (and Inf * 0 is avoided).
 */
export function twicePhi(x: F): F {
  const [uh, l] = twoProduct(x, constant(-INV_SQRT2_HI));
  const ul = sub(l, mul(x, INV_SQRT2_LO));
  const slope = mul(TWO_OVER_SQRT_PI, exp(neg(mul(uh, uh))));
  return sub(erfc(uh), select(lt(abs(uh), 10), mul(slope, ul), 0));
}

/** e^(-x^2/2) = m 2^k, with x^2 exact (its rounding would cost x^2/2 ULPs). */
export function gaussParts(x: F): { m: F; k: F } {
  const [sh, sl] = twoProduct(x, x);
  return expParts(mul(-0.5, sh), mul(-0.5, sl));
}

/**
 * S(w) = -x Phi(x) / phi(x) for x <= -3, w = 1/x^2 in [0, 1/9] (S = 1 - w + 3w^2 - ... as
 * x -> -Inf): a fit with S(0) = 1 (scripts/fit-activations.py; float32 Horner error 0.7 ULP),
 * so gelu(x) = -phi(x) S and gelu'(x) = phi(x) (x - S/x) there, with phi = m 2^k.
 */
export const millsS = (w: F): F =>
  horner(
    w,
    [
      1.0, -0.9999990463256836, 2.9996163845062256, -14.94583511352539, 101.11766052246094,
      -777.7269287109375, 5549.328125, -30274.81640625, 104291.375, -164537.328125,
    ],
  );

/** gelu'(x) = Phi(x) + x phi(x) is 0 at x0 = GELU_X0_HI + GELU_X0_LO. */
export const GELU_X0_HI = -0.7517915368080139;
export const GELU_X0_LO = 1.211444988769017e-8;
/**
 * h(x) / (x - x0) / sqrt(2 pi) on [-3, 0], h = Phi/phi + x, so that gelu' = e^(-x^2/2) t P(t),
 * t = x - x0: h has no Gaussian factor and P stays within [0.48, 0.67], so Horner's sums do not
 * cancel (scripts/fit-activations.py; float32 Horner error 0.7 ULP).
 */
export const GELU_ROOT_POLY = [
  0.5724061727523804, 0.08475636690855026, 0.03658169507980347, 0.014313756488263607,
  0.005163479596376419, 0.0017376941395923495, 0.0005520921549759805, 0.0001678442640695721,
  4.7935503971530125e-5, 1.1506207556521986e-5, 1.8695498056331417e-6, 1.3768510598310968e-7,
  -1.5301179212556804e-9,
];

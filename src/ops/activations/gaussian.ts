// The Gaussian pieces of gelu: Phi(-a) = e^(-a^2/2) M(a) / sqrt(2 pi) with M a rational fit and
// e^(-a^2/2) as m 2^k, the same for any x^2 exactly, and the fits that keep gelu's derivative
// accurate around its root and in its far tail.

import { abs, add, constant, div, le, lt, mul, scaledProduct, select, sub, type F } from "../ir.js";
import { horner } from "../libm-common.js";
import { expNegSquare, millsDenominator } from "../libm-erfc.js";
import { expParts, twoProduct } from "./exact.js";

export const INV_SQRT_2PI = 0.3989422917366028;
/** sqrt(pi/2) = M(0), as float32: the leading coefficient of the fit below. */
const SQRT_HALF_PI = 1.2533141374588013;
/**
 * 1 / erfcx(a / sqrt 2) = 1 + a (SQRT_HALF_PI - N(a)/Q(a)) on [0, 15]: erfc's form
 * (libm-erfc.ts) fitted again in a = |x| itself (scripts/fit-erfc.py), so that neither the
 * division by sqrt 2 nor its rounding is needed; relative error of erfcx 2^-27.9.
 */
const PHI_N = [
  0.4554296135902405, 0.35811394453048706, 0.13361039757728577, 0.02677255868911743,
  0.002500502159819007,
];
const PHI_Q = [
  1, 1.086302638053894, 0.5665938854217529, 0.17107786238193512, 0.02990677021443844,
  0.002500502159819007,
];
/**
 * The fit's range: past it the caller clamps a (forward has reached its limits, -0 and x, by
 * 15; backward turns to millsS's form below -15).
 */
export const PHI_LIMIT = 15;

/**
 * 2 Phi(-a) = erfc(a / sqrt 2) = e 2^k / d for 0 <= a <= PHI_LIMIT, e = m in e^(-a^2/2) = m 2^k
 * (near 1: in [0.7, 1.42]) and d = 1 / erfcx(a / sqrt 2) >= 1. One exp of an exactly split a^2,
 * one rational, no erfc of a rounded a / sqrt 2 (whose rounding costs a^2/2 ULPs).
 */
function phiParts(a: F): { e: F; k: F; d: F } {
  const { k, e } = expNegSquare(a, 0.5);
  return { e, k, d: millsDenominator(a, SQRT_HALF_PI, PHI_N, PHI_Q) };
}

/**
 * gelu's fast side: up to here e^(-x^2/2) 2^-1 and every product it scales are normal (k >= -104),
 * so each 2^k is a plain product.
 */
export const GELU_FAST = 12;

/** |x| limited to PHI_LIMIT; NaN gives PHI_LIMIT (the caller selects NaN itself). */
export const phiArgument = (x: F): F => {
  const a = abs(x);
  return select(le(a, PHI_LIMIT), a, constant(PHI_LIMIT));
};

/** e^(-x^2/2) = m 2^k, with x^2 exact (its rounding would cost x^2/2 ULPs). */
export function gaussParts(x: F): { m: F; k: F } {
  const [sh, sl] = twoProduct(x, x);
  return expParts(mul(-0.5, sh), mul(-0.5, sl));
}

/**
 * S(w) = -x Phi(x) / phi(x) for x <= -3, w = 1/x^2 in [0, 1/9] (S = 1 - w + 3w^2 - ... as
 * x -> -Inf): a fit with S(0) = 1 (scripts/fit-activations.py; float32 Horner error 0.7 ULP),
 * so gelu'(x) = phi(x) (x - S/x) there, with phi = m 2^k: gelu's backward past PHI_LIMIT, where
 * M's fit ends (S was fitted for all x <= -3, when the tails used it; a shorter fit would do
 * below -15).
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
const GELU_X0_HI = -0.7517915368080139;
const GELU_X0_LO = 1.211444988769017e-8;
/**
 * h(x) / (x - x0) / sqrt(2 pi) on [-3, 0], h = Phi/phi + x, so that gelu' = e^(-x^2/2) t P(t),
 * t = x - x0: h has no Gaussian factor and P stays within [0.48, 0.67], so Horner's sums do not
 * cancel (scripts/fit-activations.py; float32 Horner error 0.7 ULP).
 */
const GELU_ROOT_POLY = [
  0.5724061727523804, 0.08475636690855026, 0.03658169507980347, 0.014313756488263607,
  0.005163479596376419, 0.0017376941395923495, 0.0005520921549759805, 0.0001678442640695721,
  4.7935503971530125e-5, 1.1506207556521986e-5, 1.8695498056331417e-6, 1.3768510598310968e-7,
  -1.5301179212556804e-9,
];

/** Scales m by 2^k: ldexpNormal where k and the result are known normal, else scale2. */
type Scale = (m: F, k: F) => F;

/**
 * gelu(x) from a = |x| and x limited to where the products stay finite (xn, used for x < 0):
 * x Phi(x) = x e / d 2^(k-1) for x < 0, rounded once after x (x Phi(x) is subnormal from x = -13.15
 * on, and a rounded Phi would keep only its few bits); x (1 - Phi(-a)) for x >= 0, where
 * Phi(-a) <= 1/2, so nothing cancels.
 */
export function geluOf(x: F, a: F, xn: F, scale: Scale): F {
  const { e, k, d } = phiParts(a);
  const half = div(e, d);
  const km1 = sub(k, 1);
  return select(lt(x, 0), scale(mul(xn, half), km1), mul(x, sub(1, scale(half, km1))));
}

/**
 * g gelu'(x), gelu' = Phi(x) + x phi(x), from a = |x| and x limited as for geluOf (xc):
 * - x >= 0: g ((1 - Phi(-a)) + x phi(a)), every term positive;
 * - [-3, 0): the terms cancel around the root x0 = -0.7518 (each is 1.9 times the sum at -3 and
 *   at 0): e^(-x^2/2) t P(t), t = x - x0 exact near x0, formed as th P - GELU_X0_LO P, th = x -
 *   GELU_X0_HI (a GPU compiler may fold (x - GELU_X0_HI) - GELU_X0_LO, see silu);
 * - below -3: phi(a) (M(a) - a), M = Phi(-a) / phi(a) = SQRT_HALF_PI / d, at most a ninth of a,
 *   so nothing cancels;
 * both below 0 scaled as m 2^k and rounded once after g.
 */
export function geluGradOf(x: F, g: F, a: F, xc: F, scale: Scale): F {
  const { e, k, d } = phiParts(a);
  const phi = scale(mul(e, INV_SQRT_2PI), k);
  const upper = sub(1, scale(div(e, d), sub(k, 1)));
  const right = mul(g, add(upper, mul(xc, phi)));
  const th = sub(xc, GELU_X0_HI);
  const p = horner(th, GELU_ROOT_POLY);
  const root = sub(mul(th, p), mul(GELU_X0_LO, p));
  const tail = mul(INV_SQRT_2PI, sub(div(SQRT_HALF_PI, d), a));
  const left = scaledProduct(g, mul(e, select(lt(x, -3), tail, root)), k);
  return select(lt(x, 0), left, right);
}

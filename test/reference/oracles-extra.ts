// Float64 oracles of the functions added for PyTorch, Keras and ONNX users, written from their
// definitions (PyTorch's documentation, the SELU paper, ONNX's operator specs) and never from
// src/ops. oracles.ts dispatches to them. Each backward takes the point it needs: the output y
// where the library computes from y, else the input x; both are the float32 values tested.

/** Where backward is evaluated: the forward input x and the forward output y (as computed). */
export interface At {
  readonly x: number;
  readonly y: number;
}

// SELU's constants to 32 digits (Klambauer et al. 2017; PyTorch uses the same).
const SELU_ALPHA = 1.6732632423543772848170429916717;
const SELU_SCALE = 1.0507009873554804934193349852946;

export function selu(x: number): number {
  return x > 0 ? SELU_SCALE * x : SELU_SCALE * SELU_ALPHA * Math.expm1(x);
}
export const seluGrad = (g: number, { y }: At): number =>
  y > 0 ? g * SELU_SCALE : g * (y + SELU_SCALE * SELU_ALPHA);

/** celu(x) = max(0, x) + min(0, alpha (e^(x/alpha) - 1)); e^(x/alpha) = 1 + y/alpha below 0. */
export const celu = (x: number, alpha: number): number =>
  x > 0 ? x : alpha * Math.expm1(x / alpha);
export const celuGrad = (g: number, { y }: At, alpha: number): number =>
  y > 0 ? g : g * ((y + alpha) / alpha);

/** x / (1 + |x|), whose limits at +-Inf are +-1; 1 / (1 + |x|) = 1 - |y|. */
export const softSign = (x: number): number =>
  Number.isFinite(x) || Number.isNaN(x) ? x / (1 + Math.abs(x)) : Math.sign(x);
export const softSignGrad = (g: number, { y }: At): number => g * (1 - Math.abs(y)) ** 2;

/** float64 alpha * x is exact for float32 operands (48 bits), so the sum is rounded once. */
export const hardSigmoid = (x: number, alpha: number, beta: number): number =>
  Math.min(Math.max(alpha * x + beta, 0), 1);
export const hardSigmoidGrad = (g: number, { y }: At, alpha: number): number =>
  0 < y && y < 1 ? g * alpha : 0;

/** log sigmoid(x) = -log(1 + e^-x), split so that e^ never overflows. */
export const logSigmoid = (x: number): number =>
  x < 0 ? x - Math.log1p(Math.exp(x)) : -Math.log1p(Math.exp(-x));
/** d/dx = 1 - sigmoid(x) = 1 - e^y. */
export const logSigmoidGrad = (g: number, { y }: At): number => g * -Math.expm1(y);

export const softShrink = (x: number, lambda: number): number =>
  x > lambda ? x - lambda : x < -lambda ? x + lambda : Number.isNaN(x) ? x : 0;
export const hardShrink = (x: number, lambda: number): number =>
  Math.abs(x) > lambda || Number.isNaN(x) ? x : 0;
/** Both shrinks are flat (y = 0) exactly on [-lambda, lambda]; PyTorch passes g for NaN. */
export const shrinkGrad = (g: number, { y }: At): number => (y === 0 ? 0 : g);

export const threshold = (x: number, t: number, value: number): number => (x <= t ? value : x);
export const thresholdGrad = (g: number, { x }: At, t: number): number => (x <= t ? 0 : g);

/**
 * PyTorch's Softplus: log(1 + e^(beta x)) / beta, or x where beta x > threshold; float64 beta x
 * is exact. The derivative sigmoid(beta x) is 1 - e^(-beta y) on the soft piece.
 */
export function softPlusBeta(x: number, beta: number, t: number): number {
  const z = beta * x;
  if (z > t) return x;
  return (Math.max(z, 0) + Math.log1p(Math.exp(-Math.abs(z)))) / beta;
}
export const softPlusBetaGrad = (g: number, { y }: At, beta: number, t: number): number =>
  beta * y > t ? g : g * -Math.expm1(-beta * y);

/** x relu6(x + 3) / 6; its derivative from x, with PyTorch's choice at the kinks. */
export const hardSwish = (x: number): number => (x <= -3 ? 0 : x >= 3 ? x : (x * (x + 3)) / 6);
export const hardSwishGrad = (g: number, { x }: At): number =>
  x < -3 ? 0 : x > 3 ? g : (g * (2 * x + 3)) / 6;

/** x sigmoid(beta x), with its limit 0 at -Inf; sigmoid split on the sign of z. */
function sigmoid(z: number): number {
  if (z >= 0) return 1 / (1 + Math.exp(-z));
  const e = Math.exp(z);
  return e / (1 + e);
}
export const silu = (x: number, beta: number): number =>
  x === -Infinity ? 0 : x * sigmoid(beta * x);
/**
 * d/dx x s(z) = s (1 + z (1 - s)), z = beta x. For z < 0 the bracket is (1 + z + e^z) / (1 + e^z),
 * with 1 + z exact where it nears -e^z, so the root near z = -1.28 keeps its relative accuracy.
 */
export function siluGrad(g: number, { x }: At, beta: number): number {
  if (x === -Infinity) return 0; // the limit, selected as for the piecewise derivatives
  if (x === Infinity) return g;
  const z = beta * x;
  if (z >= 0) {
    const s = sigmoid(z);
    return g * s * (1 + z * (Math.exp(-z) / (1 + Math.exp(-z))));
  }
  if (z < -700) {
    // e^z underflows float64 here, while g (up to Inf) times it need not: in logs, the
    // derivative is e^z (1 + z) to far better than float32 precision.
    return -Math.sign(g) * Math.exp(Math.log(Math.abs(g)) + z + Math.log(-(1 + z)));
  }
  const e = Math.exp(z);
  return (g * (e / (1 + e)) * (1 + z + e)) / (1 + e);
}

/** x - tanh x; below 0.1 its series to x^9 (the float64 difference would cancel). */
export function tanhShrink(x: number): number {
  if (Math.abs(x) >= 0.1 || Number.isNaN(x)) return x - Math.tanh(x);
  const z = x * x;
  return x * z * (1 / 3 + z * (-2 / 15 + z * (17 / 315 + z * (-62 / 2835))));
}
export const tanhShrinkGrad = (g: number, { x }: At): number => g * Math.tanh(x) ** 2;

/**
 * erfc in float64, its own way (not the library's): for |x| < 2 as 1 - erf with erf's Taylor
 * series (erfc >= 0.0046 there, so at most 8 of 53 bits cancel); for x >= 2 the continued
 * fraction erfc(x) = e^(-x^2)/sqrt(pi) / (x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))), evaluated
 * backward from 80 terms; for x <= -2, 2 - erfc(-x). Checked against mpmath in the tests.
 */
export function erfc(x: number): number {
  if (Number.isNaN(x)) return x;
  if (x <= -2) return 2 - erfc(-x);
  if (x < 2) {
    let term = x;
    let sum = x;
    for (let n = 1; n < 60; n++) {
      term *= (-x * x) / n;
      sum += term / (2 * n + 1);
    }
    return 1 - (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (x > 27) return 0;
  let tail = x;
  for (let n = 80; n >= 1; n--) tail = x + n / 2 / tail;
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / tail;
}

/** x Phi(x), Phi(x) = erfc(-x/sqrt 2)/2; float64 x/sqrt 2 is a relative 2^-53 off, harmless. */
export const gelu = (x: number): number =>
  x === -Infinity ? 0 : x === Infinity ? x : 0.5 * x * erfc(-x / Math.SQRT2);
/** Phi(x) + x phi(x): the float64 terms cancel at most 2:1 near the root, harmless too. */
export function geluGrad(g: number, { x }: At): number {
  if (x === -Infinity) return 0;
  if (x === Infinity) return g;
  if (x < -30) {
    // phi underflows float64 while g (up to Inf) times it need not: in logs, with Phi(x) =
    // phi(x) (-1/x)(1 - 1/x^2 + 3/x^4), to far better than float32 precision.
    const h = x - (1 - 1 / x ** 2 + 3 / x ** 4) / x;
    return (
      Math.sign(g) *
      Math.sign(h) *
      Math.exp(
        Math.log(Math.abs(g)) -
          (x * x) / 2 -
          Math.log(Math.sqrt(2 * Math.PI)) +
          Math.log(Math.abs(h)),
      )
    );
  }
  const phi = Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI);
  return g * (0.5 * erfc(-x / Math.SQRT2) + x * phi);
}

/**
 * PyTorch's GELU(approximate='tanh'): 0.5 x (1 + tanh(u)), u = sqrt(2/pi) (x + 0.044715 x^3),
 * with 1 + tanh(u) = 2 / (1 + e^(-2u)) (= 2 e^(2u) / (1 + e^(2u)) for u < 0, where 1 + tanh
 * would cancel). float64 x^3 cannot overflow for float32 x.
 */
const GELU_TANH_C = Math.sqrt(2 / Math.PI);
const geluTanhU = (x: number): number => GELU_TANH_C * (x + 0.044715 * x * x * x);
/** 0.5 (1 + tanh u) = sigmoid(2u). */
function halfOnePlusTanh(u: number): number {
  if (u >= 0) return 1 / (1 + Math.exp(-2 * u));
  const e = Math.exp(2 * u);
  return e / (1 + e);
}
export const geluTanh = (x: number): number =>
  x === -Infinity ? 0 : x === Infinity ? x : x * halfOnePlusTanh(geluTanhU(x));
/**
 * d/dx = 0.5 (1 + tanh u) + 0.5 x (1 - tanh^2 u) u', u' = sqrt(2/pi) (1 + 3 0.044715 x^2), with
 * 1 - tanh^2 u = 4 s (1 - s), s = 0.5 (1 + tanh u), 1 - s = sigmoid(-2u). float64 cancels at most
 * a few bits near the root (-0.7525), harmless at float32 precision.
 */
export function geluTanhGrad(g: number, { x }: At): number {
  if (x === -Infinity) return 0;
  if (x === Infinity) return g;
  const u = geluTanhU(x);
  if (u < -350) {
    // e^(2u) underflows float64 while g (up to Inf) times it need not: in logs, the derivative
    // is e^(2u) (1 + 2 x u') to far better than float32 precision.
    const h = 1 + 2 * x * GELU_TANH_C * (1 + 3 * 0.044715 * x * x);
    return (
      Math.sign(g) * Math.sign(h) * Math.exp(Math.log(Math.abs(g)) + 2 * u + Math.log(Math.abs(h)))
    );
  }
  const s = halfOnePlusTanh(u);
  const r = halfOnePlusTanh(-u);
  const du = GELU_TANH_C * (1 + 3 * 0.044715 * x * x);
  return g * (s + 2 * x * s * r * du);
}

/** x tanh(softplus(x)), softplus = log1p(e^x) (Inf for x > 709, where tanh is 1). */
export const mish = (x: number): number =>
  x === -Infinity ? 0 : x * Math.tanh(Math.log1p(Math.exp(x)));
/** d/dx = tanh(sp) + x sigmoid(x) sech^2(sp), sech^2 as 1 / cosh^2 (1 - tanh^2 cancels). */
export function mishGrad(g: number, { x }: At): number {
  if (x === -Infinity) return 0;
  if (x === Infinity) return g;
  if (x < -700) {
    // e^x underflows float64 here while g times it need not: the derivative is e^x (1 + x).
    return -Math.sign(g) * Math.exp(Math.log(Math.abs(g)) + x + Math.log(-(1 + x)));
  }
  const sp = Math.log1p(Math.exp(x));
  return g * (Math.tanh(sp) + (x * sigmoid(x)) / Math.cosh(sp) ** 2);
}

// Functions added for PyTorch, Keras and ONNX users whose derivative is a function of the
// output y (injective where they are not flat), so backward reads y and in place is safe.

import {
  abs,
  add,
  copysign,
  div,
  eq,
  exp,
  expm1,
  gt,
  log1p,
  lt,
  mul,
  neg,
  select,
  sub,
  type F,
} from "../ir.js";
import { CORE, orderedBounds } from "./core.js";
import { atMost, timesPair } from "./exact.js";
import { clampGrad, clampTo } from "./forms.js";
import { first, second, type ActivationSpec } from "./spec.js";

export const FROM_OUTPUT_NAMES = [
  "selu",
  "celu",
  "softSign",
  "hardSigmoid",
  "hardTanh",
  "relu6",
  "logSigmoid",
  "softShrink",
  "hardShrink",
  "threshold",
] as const;

// PyTorch's SELU constants (Klambauer et al.), as float32 hi + lo pairs of the float64 values.
const SELU_SCALE = [1.0507010221481323, -3.479265231476347e-8] as const; // 1.0507009873554805
const SELU_SCALE_ALPHA = [1.7580993175506592, 2.3296717444054593e-8] as const; // 1.7580993408473768

/** g where y is not 0, else 0: the shrinks' gradient (y = 0 exactly on the flat part). */
const nonzeroGrad = (y: F, g: F): F => select(eq(y, 0), 0, g);

export const FROM_OUTPUT: Record<(typeof FROM_OUTPUT_NAMES)[number], ActivationSpec> = {
  selu: {
    params: [],
    formula: "scale * (x if x > 0 else alpha * (exp(x) - 1)), alpha 1.6732632, scale 1.0507010",
    derivative: "g * (scale if y > 0 else y + scale * alpha)",
    // elu's form (expm1 of a non-positive argument) with the constants as hi + lo pairs.
    forward: (x) =>
      select(
        gt(x, 0),
        timesPair(x, SELU_SCALE),
        timesPair(expm1(select(gt(x, 0), 0, x)), SELU_SCALE_ALPHA),
      ),
    backwardFrom: "y",
    // y + hi is exact (Sterbenz) where it cancels, as y nears -scale*alpha, and lo is added
    // after the product with g: a GPU compiler may fold (y + hi) + lo into y + (hi + lo) = y + hi.
    // (g * 0 would be NaN for an infinite g where y = -hi; g * lo is the answer there.)
    backward: (y, g) => {
      const d = add(y, SELU_SCALE_ALPHA[0]);
      const low = mul(g, SELU_SCALE_ALPHA[1]);
      const negative = select(eq(d, 0), low, add(mul(g, d), low));
      return select(gt(y, 0), timesPair(g, SELU_SCALE), negative);
    },
  },
  celu: {
    params: [{ name: "alpha", default: 1 }],
    validate: ([alpha]) => (alpha! > 0 ? null : `celu alpha must be positive, got ${alpha}`),
    formula: "x if x > 0 else alpha * (exp(x / alpha) - 1)",
    derivative: "g * (1 if y > 0 else (y + alpha) / alpha)",
    // expm1 of a non-positive argument: no cancellation, no overflow; its condition number is
    // below 1 there, so rounding x / alpha costs at most half an ULP.
    forward: (x, p) =>
      select(gt(x, 0), x, mul(first(p), expm1(div(select(gt(x, 0), 0, x), first(p))))),
    backwardFrom: "y",
    // (y + alpha) / alpha, not y / alpha + 1: the sum is exact where it cancels (y near -alpha),
    // alpha's residual added after.
    backward: (y, g, p, r) =>
      select(gt(y, 0), g, mul(g, div(add(add(y, first(p)), first(r)), first(p)))),
  },
  softSign: {
    params: [],
    formula: "x / (1 + |x|)",
    derivative: "g * (1 - |y|)^2",
    // Inf / Inf would be NaN; the limits are +-1.
    forward: (x) => select(eq(abs(x), Infinity), copysign(1, x), div(x, add(1, abs(x)))),
    backwardFrom: "y",
    // 1 / (1 + |x|) = 1 - |y|, exact for |y| >= 1/2; its square (<= 1) is taken before g.
    backward: (y, g) => {
      const s = sub(1, abs(y));
      return mul(g, mul(s, s));
    },
  },
  hardSigmoid: {
    // ONNX's (alpha, beta); the defaults are PyTorch's x/6 + 1/2 (Keras 3 too). ONNX's and
    // Keras 2's 0.2 x + 0.5 is args [0.2, 0.5].
    params: [
      { name: "alpha", default: 1 / 6 },
      { name: "beta", default: 0.5 },
    ],
    validate: ([alpha]) => (alpha === 0 ? "hardSigmoid alpha must not be 0" : null),
    formula: "max(0, min(1, alpha * x + beta))",
    derivative: "g * alpha * [0 < y < 1]",
    // alpha x + beta cancels near the lower kink, where the rounded product would be off by
    // millions of ULPs of the result, and so would a float32 alpha (1/6). As alpha (x - root),
    // root = -beta / alpha in float64 (-3 at the defaults), x - root is exact near the kink
    // (Sterbenz), and alpha's float32 part and residual each multiply it once.
    derive: ([alpha, beta]) => [-beta! / alpha!],
    forward: (x, p, r) => {
      const t = sub(sub(x, p[2]!), r[2]!);
      const y = add(mul(first(p), t), mul(first(r), t));
      return clampTo(select(lt(abs(t), Infinity), y, mul(first(p), t)), 0, 1);
    },
    backwardFrom: "y",
    // y = 0 and y = 1 are the flat parts (the kinks included, as PyTorch's x = +-3).
    backward: (y, g, p, r) => clampGrad(y, timesPair(g, [first(p), first(r)]), 0, 1),
  },
  // clip's definition with PyTorch's Hardtanh defaults.
  hardTanh: {
    ...CORE.clip,
    params: [
      { name: "min", default: -1 },
      { name: "max", default: 1 },
    ],
    validate: orderedBounds("hardTanh"),
  },
  relu6: {
    params: [],
    formula: "min(max(x, 0), 6)",
    derivative: "g * [0 < y < 6]",
    forward: (x) => clampTo(x, 0, 6),
    backwardFrom: "y",
    backward: (y, g) => clampGrad(y, g, 0, 6),
  },
  logSigmoid: {
    params: [],
    formula: "log(1 / (1 + exp(-x)))",
    derivative: "g * (1 - exp(y))",
    // -softplus(-x) = min(x, 0) - log1p(exp(-|x|)): no overflow, and no log of a sigmoid that
    // underflowed (log(sigmoid(-100)) is -Inf in float32; this gives -100).
    forward: (x) => sub(select(lt(x, 0), x, 0), log1p(exp(neg(abs(x))))),
    backwardFrom: "y",
    // sigmoid(-x) = 1 - e^y = -expm1(y): no cancellation as y nears 0.
    backward: (y, g) => mul(g, neg(expm1(y))),
  },
  softShrink: {
    params: [{ name: "lambda", default: 0.5 }],
    validate: ([lambda]) => (lambda! >= 0 ? null : `softShrink lambda must be >= 0, got ${lambda}`),
    formula: "x - lambda if x > lambda, x + lambda if x < -lambda, else 0",
    derivative: "g * [y != 0]",
    // x - copysign(lambda, x) is exact near the kinks (lambda's residual added after), and NaN
    // passes (both tests are false).
    forward: (x, p, r) => {
      const shifted = sub(sub(x, copysign(first(p), x)), mul(copysign(1, x), first(r)));
      return select(atMost(abs(x), first(p), first(r)), 0, shifted);
    },
    backwardFrom: "y",
    // x - lambda is 0 only at x = lambda, so y = 0 exactly on the flat part [-lambda, lambda].
    backward: nonzeroGrad,
  },
  hardShrink: {
    params: [{ name: "lambda", default: 0.5 }],
    validate: ([lambda]) => (lambda! >= 0 ? null : `hardShrink lambda must be >= 0, got ${lambda}`),
    formula: "x if |x| > lambda else 0",
    derivative: "g * [y != 0]",
    forward: (x, p, r) => select(atMost(abs(x), first(p), first(r)), 0, x),
    backwardFrom: "y",
    // |x| > lambda >= 0 means x != 0, so y = 0 exactly on the flat part.
    backward: nonzeroGrad,
  },
  threshold: {
    // PyTorch requires both; the defaults make it relu. ONNX's ThresholdedRelu(alpha) is
    // [alpha, 0].
    params: [
      { name: "threshold", default: 0 },
      { name: "value", default: 0 },
    ],
    formula: "x if x > threshold else value",
    derivative: "g * [x > threshold]",
    // Tested as x <= threshold (exactly, with its residual) so that NaN passes through. value's
    // residual is dropped: the output is float32.
    forward: (x, p, r) => select(atMost(x, first(p), first(r)), second(p), x),
    // With value (the float32 output) <= threshold, y > threshold exactly where x > threshold;
    // with value above it, y = value comes from both pieces (PyTorch's Threshold(0.1, 20) at
    // x = 20 and x = 0), so backward needs x.
    backwardFrom: ([threshold, value]) => (Math.fround(value!) <= threshold! ? "y" : "x"),
    backward: (v, g, p, r) => select(atMost(v, first(p), first(r)), 0, g),
  },
};

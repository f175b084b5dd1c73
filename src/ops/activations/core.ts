// PuzzleLib's own seven functions. Every backward reads the output y (see spec.ts).

import {
  add,
  div,
  eq,
  expm1,
  ge,
  gt,
  guard,
  ldexp,
  le,
  log1p,
  lt,
  mul,
  neg,
  select,
  sub,
  scaledProduct,
} from "../ir.js";
import { expParts, paramProduct, scale2 } from "./exact.js";
import { clampGrad, clampTo, sigmoidOf, sigmoidParts, softplusOf, tanhOf } from "./forms.js";
import { first, second, type ActivationSpec } from "./spec.js";

export const CORE_NAMES = [
  "sigmoid",
  "tanh",
  "relu",
  "leakyRelu",
  "elu",
  "softPlus",
  "clip",
] as const;

/** The largest float32: softPlus's default threshold, which no finite beta * x exceeds. */
export const FLT_MAX = 3.4028234663852886e38;

/** Validation shared by clip and hardTanh. */
export const orderedBounds = (name: string) => (args: readonly number[]) =>
  args[0]! > args[1]! ? `${name} min (${args[0]}) must not exceed max (${args[1]})` : null;

export const CORE: Record<(typeof CORE_NAMES)[number], ActivationSpec> = {
  sigmoid: {
    params: [],
    formula: "1 / (1 + exp(-x))",
    derivative: "g * y * (1 - y)",
    forward: (x) => sigmoidOf(x),
    backwardFrom: "y",
    // y * (1 - y) <= 1/4 first: g * y could overflow float32 before the small factor applies.
    backward: (y, g) => mul(g, mul(y, sub(1, y))),
  },
  tanh: {
    params: [],
    formula: "(exp(x) - exp(-x)) / (exp(x) + exp(-x))",
    derivative: "g * (1 - y) * (1 + y)",
    forward: (x) => tanhOf(x),
    backwardFrom: "y",
    // (1 - y)(1 + y) rather than 1 - y*y: the product is exact where y*y would round near |y| = 1.
    // It is at most 1 and taken first, so g * (1 - y) cannot overflow float32 for a huge g.
    backward: (y, g) => mul(g, mul(sub(1, y), add(1, y))),
  },
  relu: {
    params: [],
    formula: "max(0, x)",
    derivative: "g * [y > 0]",
    // Tested as x <= 0 so that NaN (for which every comparison is false) passes through.
    forward: (x) => select(le(x, 0), 0, x),
    backwardFrom: "y",
    backward: (y, g) => select(gt(y, 0), g, 0),
  },
  leakyRelu: {
    params: [{ name: "alpha", default: 0.01 }],
    formula: "x if x >= 0 else alpha * x",
    derivative: "g * (1 if y > 0 else alpha)",
    // alpha = 0 times -Inf would be NaN; the limit there is 0.
    forward: (x, p) => select(lt(x, 0), select(eq(first(p), 0), 0, mul(first(p), x)), x),
    backwardFrom: "y",
    backward: (y, g, p) => select(gt(y, 0), g, mul(g, first(p))),
  },
  elu: {
    params: [{ name: "alpha", default: 1.0 }],
    formula: "x if x > 0 else alpha * (exp(x) - 1)",
    derivative: "g * (1 if y > 0 else y + alpha)",
    // expm1 keeps the small negative results exact where exp(x) - 1 cancels; the branch for
    // x > 0 never computes exp of a positive argument that could overflow.
    forward: (x, p) => select(gt(x, 0), x, mul(first(p), expm1(select(gt(x, 0), 0, x)))),
    backwardFrom: "y",
    // y + alpha cancels as y nears -alpha: y + alpha's float32 part is exact there (Sterbenz),
    // and its residual is added after.
    backward: (y, g, p, r) => select(gt(y, 0), g, mul(g, add(add(y, first(p)), first(r)))),
  },
  softPlus: {
    // The defaults give PuzzleLib's log(1 + exp(x)); [beta, threshold] give PyTorch's Softplus.
    params: [
      { name: "beta", default: 1 },
      { name: "threshold", default: FLT_MAX },
    ],
    minArgs: 1,
    // Below 18 the linear piece would start where 1 - e^-(beta y) is not yet 1 in float32, and
    // backward could not tell from y which piece it is on.
    validate: ([beta, threshold]) =>
      beta! <= 0
        ? `softPlus beta must be positive, got ${beta}`
        : threshold! < 18
          ? `softPlus threshold must be at least 18 (backward reads y), got ${threshold}`
          : null,
    formula: "log(1 + exp(beta * x)) / beta, or x where beta * x > threshold",
    derivative: "g * (1 - exp(-beta * y)), or g where beta * y > threshold",
    // z = beta x is carried exactly as zh + zl (e^z's relative error is z's absolute error).
    // max(zh, 0) + log1p(exp(-|zh|)) never overflows (PuzzleLib's log(1 + exp(x)) does past 88),
    // plus zl times the derivative sigmoid(zh); for zh < -20, where softplus(z) is e^z to 1e-9,
    // e^z = m 2^k is divided by beta before the one rounding that may make it subnormal.
    forward: (x, p, r) => {
      const [beta, threshold] = [first(p), second(p)];
      const [zh, zl] = paramProduct(beta, first(r), x);
      const { e, s: sig } = sigmoidParts(zh);
      const near = div(add(add(select(gt(zh, 0), zh, 0), log1p(e)), mul(zl, sig)), beta);
      const { m, k } = expParts(zh, zl);
      const tail = scale2(div(m, beta), k);
      const common = select(gt(zh, threshold), x, near);
      // Where zh >= -20 (every block of ordinary data) the tail's scaling is not computed.
      return guard(ge(zh, -20), common, select(lt(zh, -20), tail, common));
    },
    // PuzzleLib's softPlus (beta 1, no threshold) without the products and tails beta needs:
    // softplusOf's max(x, 0) + log1p(exp(-|x|)), and backward -expm1(-y) rather than
    // 1 - exp(-y), which cancels for small y (for subnormal y, expm1 gives -y itself).
    atDefaults: {
      forward: (x) => softplusOf(x),
      backward: (y, g) => mul(g, neg(expm1(neg(y)))),
    },
    backwardFrom: "y",
    // -expm1(-beta y) rather than 1 - exp(-beta y), which cancels for small y. Where beta y would
    // be subnormal the derivative is beta y, formed with y scaled up by 2^128 and scaled back
    // once, after g.
    backward: (y, g, p) => {
      const [beta, threshold] = [first(p), second(p)];
      const by = mul(beta, y);
      const tiny = scaledProduct(g, mul(beta, ldexp(y, 128)), -128);
      const d = mul(g, neg(expm1(neg(by))));
      return select(gt(by, threshold), g, select(lt(by, 2 ** -100), tiny, d));
    },
  },
  clip: {
    params: [
      { name: "min", default: 0 },
      { name: "max", default: 6 },
    ],
    validate: orderedBounds("clip"),
    formula: "min(max(x, min), max)",
    derivative: "g * [min < y < max]",
    forward: (x, p) => clampTo(x, first(p), second(p)),
    backwardFrom: "y",
    backward: (y, g, p) => clampGrad(y, g, first(p), second(p)),
  },
};

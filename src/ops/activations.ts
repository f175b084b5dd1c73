// The activation table: the only place where an activation's math lives. Each entry gives its
// parameters, its forward f(x) and its backward written from the OUTPUT y = f(x) and the incoming
// gradient g (so an in-place forward, which overwrites x, never breaks backward). Backends lower
// these expressions; see src/ops/ir.ts.
//
// Conventions kept by every entry:
// - every form is overflow-free for the whole float range (no exp of a large positive argument
//   that a select would then throw away on a backend computing in float32, where it could trap);
// - NaN in gives NaN out, and infinities give the mathematical limit;
// - piecewise derivatives SELECT the incoming gradient rather than multiply it by 0 or 1, so a
//   non-finite g on a flat side gives 0, as PyTorch's threshold_backward does (0 * Inf is NaN).

import {
  abs,
  add,
  and,
  copysign,
  div,
  eq,
  expm1,
  exp,
  gt,
  le,
  log1p,
  lt,
  mul,
  neg,
  select,
  sub,
  type F,
} from "./ir.js";

export const ACTIVATION_NAMES = [
  "sigmoid",
  "tanh",
  "relu",
  "leakyRelu",
  "elu",
  "softPlus",
  "clip",
] as const;

export type ActivationName = (typeof ACTIVATION_NAMES)[number];

export interface ParamSpec {
  readonly name: string;
  readonly default: number;
}

export interface ActivationSpec {
  readonly params: readonly ParamSpec[];
  /** Checks finite arguments against each other; returns what is wrong, or null. */
  readonly validate?: (args: readonly number[]) => string | null;
  readonly forward: (x: F, params: readonly F[]) => F;
  /** The derivative from the output y and the incoming gradient g. */
  readonly backward: (y: F, g: F, params: readonly F[]) => F;
  /** For docs, `puzzlelib info` and error messages. */
  readonly formula: string;
  readonly derivative: string;
}

const first = (params: readonly F[]): F => params[0]!;
const second = (params: readonly F[]): F => params[1]!;

export const ACTIVATIONS: Record<ActivationName, ActivationSpec> = {
  sigmoid: {
    params: [],
    formula: "1 / (1 + exp(-x))",
    derivative: "g * y * (1 - y)",
    // exp(-|x|) <= 1 never overflows; for x < 0, e / (1 + e) keeps the tiny results (down to
    // subnormals) that 1 - 1/(1+e) would cancel to 0.
    forward: (x) => {
      const e = exp(neg(abs(x)));
      const r = div(1, add(1, e));
      return select(lt(x, 0), mul(e, r), r);
    },
    // y * (1 - y) <= 1/4 first: g * y could overflow float32 before the small factor applies.
    backward: (y, g) => mul(g, mul(y, sub(1, y))),
  },
  tanh: {
    params: [],
    formula: "(exp(x) - exp(-x)) / (exp(x) + exp(-x))",
    derivative: "g * (1 - y) * (1 + y)",
    // With t = expm1(-2|x|) in [-1, 0], tanh|x| = -t / (2 + t): no overflow for large |x|, no
    // cancellation for small |x|; copysign keeps odd symmetry and tanh(-0) = -0.
    forward: (x) => {
      const t = expm1(mul(-2, abs(x)));
      return copysign(div(neg(t), add(2, t)), x);
    },
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
    backward: (y, g) => select(gt(y, 0), g, 0),
  },
  leakyRelu: {
    params: [{ name: "alpha", default: 0.01 }],
    formula: "x if x >= 0 else alpha * x",
    derivative: "g * (1 if y > 0 else alpha)",
    // alpha = 0 times -Inf would be NaN; the limit there is 0.
    forward: (x, p) => select(lt(x, 0), select(eq(first(p), 0), 0, mul(first(p), x)), x),
    backward: (y, g, p) => select(gt(y, 0), g, mul(g, first(p))),
  },
  elu: {
    params: [{ name: "alpha", default: 1.0 }],
    formula: "x if x > 0 else alpha * (exp(x) - 1)",
    derivative: "g * (1 if y > 0 else y + alpha)",
    // expm1 keeps the small negative results exact where exp(x) - 1 cancels; the branch for
    // x > 0 never computes exp of a positive argument that could overflow.
    forward: (x, p) => select(gt(x, 0), x, mul(first(p), expm1(select(gt(x, 0), 0, x)))),
    backward: (y, g, p) => select(gt(y, 0), g, mul(g, add(y, first(p)))),
  },
  softPlus: {
    params: [],
    formula: "log(1 + exp(x))",
    derivative: "g * (1 - exp(-y))",
    // max(x, 0) + log1p(exp(-|x|)): exp never sees a positive argument (PuzzleLib's
    // log(1 + exp(x)) overflows to Inf past x = 88), and log1p keeps the tail for x << 0.
    forward: (x) => add(select(gt(x, 0), x, 0), log1p(exp(neg(abs(x))))),
    // -expm1(-y) rather than 1 - exp(-y), which cancels to 0 for small y.
    backward: (y, g) => mul(g, neg(expm1(neg(y)))),
  },
  clip: {
    params: [
      { name: "min", default: 0 },
      { name: "max", default: 6 },
    ],
    validate: ([min, max]) =>
      min! > max! ? `clip min (${min}) must not exceed max (${max})` : null,
    formula: "min(max(x, min), max)",
    derivative: "g * [min < y < max]",
    // Comparisons keep NaN (false on both tests) where min/max builtins may drop it.
    forward: (x, p) => select(lt(x, first(p)), first(p), select(gt(x, second(p)), second(p), x)),
    backward: (y, g, p) => select(and(gt(y, first(p)), lt(y, second(p))), g, 0),
  },
};

export function isActivationName(value: unknown): value is ActivationName {
  return typeof value === "string" && (ACTIVATION_NAMES as readonly string[]).includes(value);
}

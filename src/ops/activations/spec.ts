// The shape of one entry of the activation table (src/ops/activations.ts merges the entries).

import type { F } from "../ir.js";

export interface ParamSpec {
  readonly name: string;
  readonly default: number;
}

/** The forward tensor that backward reads: the output y, or the input x. */
export type BackwardFrom = "x" | "y";

export interface ActivationSpec {
  readonly params: readonly ParamSpec[];
  /**
   * The fewest args a call may give; the params after them keep their defaults. Unset: a call
   * gives all of them or none.
   */
  readonly minArgs?: number;
  /**
   * Values computed from the args in float64, once per module, that kernels read after the args
   * (params[params.length + i]): a root -beta / alpha is exact there where the kernel's float32
   * division would not be.
   */
  readonly derive?: (args: readonly number[]) => readonly number[];
  /** Checks finite arguments against each other; returns what is wrong, or null. */
  readonly validate?: (args: readonly number[]) => string | null;
  /**
   * `params` are the args as float32 values; `residuals` are what rounding them lost (arg minus
   * its float32 value, itself a float32), for formulas where that matters: near a root or a kink,
   * 1/6 as a float32 is off by millions of ULPs of the result (hardSigmoid at x = -3).
   */
  readonly forward: (x: F, params: readonly F[], residuals: readonly F[]) => F;
  /**
   * What backward reads besides g. "y" (the output) keeps in place safe. "x" is for functions
   * whose derivative is not a function of the output (not injective, or no closed-form inverse):
   * the module then keeps its input and refuses in place. A function of the args when that
   * depends on them.
   */
  readonly backwardFrom: BackwardFrom | ((args: readonly number[]) => BackwardFrom);
  /** The derivative from `v` (y or x, per backwardFrom) and the incoming gradient g. */
  readonly backward: (v: F, g: F, params: readonly F[], residuals: readonly F[]) => F;
  /**
   * The same function at the default args, in a cheaper form, run when a call's args are all the
   * defaults: a general form may pay for its parameters in every element (softPlus's beta and
   * threshold cost as much again as PuzzleLib's softPlus). Backward reads what backwardFrom says
   * at the defaults.
   */
  readonly atDefaults?: {
    readonly forward: (x: F) => F;
    readonly backward: (v: F, g: F) => F;
  };
  /** For docs, `puzzlelib info` and error messages. */
  readonly formula: string;
  readonly derivative: string;
}

export const first = (params: readonly F[]): F => params[0]!;
export const second = (params: readonly F[]): F => params[1]!;

/**
 * Whether args are all the defaults, exactly: an arg that only rounds to a default's float32 is
 * another function (kernels see it through its residual).
 */
export function atDefaults(spec: ActivationSpec, args: readonly number[]): boolean {
  return spec.params.every((p, i) => args[i] === p.default);
}

/** The tensor backward reads for these args. */
export function backwardFrom(spec: ActivationSpec, args: readonly number[]): BackwardFrom {
  return typeof spec.backwardFrom === "function" ? spec.backwardFrom(args) : spec.backwardFrom;
}

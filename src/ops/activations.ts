// The activation table: the only place where an activation's math lives. The entries are in
// src/ops/activations/ (PuzzleLib's seven, the ones whose backward reads the output, the ones
// whose backward reads the input); this file merges them. Each entry gives its parameters, its
// forward f(x) and its backward from the incoming gradient g and the tensor it declares it reads
// (the output y where the derivative is a function of it, so an in-place forward, which
// overwrites x, never breaks backward). Backends lower these expressions; see src/ops/ir.ts.
//
// Conventions kept by every entry:
// - every form is overflow-free for the whole float range (no exp of a large positive argument
//   that a select would then throw away on a backend computing in float32, where it could trap);
// - NaN in gives NaN out, and infinities give the mathematical limit;
// - piecewise derivatives SELECT the incoming gradient rather than multiply it by 0 or 1, so a
//   non-finite g on a flat side gives 0, as PyTorch's threshold_backward does (0 * Inf is NaN);
// - constants are float32 values (as every backend holds them), or hi + lo pairs of them where
//   the float64 value matters.

import { CORE, CORE_NAMES } from "./activations/core.js";
import { FROM_INPUT, FROM_INPUT_NAMES } from "./activations/from-input.js";
import { FROM_OUTPUT, FROM_OUTPUT_NAMES } from "./activations/from-output.js";
import type { ActivationSpec } from "./activations/spec.js";

export type { ActivationSpec, BackwardFrom, ParamSpec } from "./activations/spec.js";
export { atDefaults, backwardFrom } from "./activations/spec.js";

export const ACTIVATION_NAMES = [...CORE_NAMES, ...FROM_OUTPUT_NAMES, ...FROM_INPUT_NAMES] as const;

export type ActivationName = (typeof ACTIVATION_NAMES)[number];

export const ACTIVATIONS: Record<ActivationName, ActivationSpec> = {
  ...CORE,
  ...FROM_OUTPUT,
  ...FROM_INPUT,
};

export function isActivationName(value: unknown): value is ActivationName {
  return typeof value === "string" && (ACTIVATION_NAMES as readonly string[]).includes(value);
}

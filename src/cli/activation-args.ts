// Activation names and --args from the command line, checked against the activation table, with
// usage errors that list what is allowed.

import { quote } from "../core/describe.js";
import { ModuleError } from "../core/errors.js";
import type { Slice } from "../core/slice.js";
import { Activation } from "../modules/activation.js";
import {
  ACTIVATION_NAMES,
  ACTIVATIONS,
  isActivationName,
  type ActivationName,
} from "../ops/activations.js";
import { UsageError } from "./errors.js";

export function checkActivation(name: string): ActivationName {
  if (!isActivationName(name)) {
    throw new UsageError(`unknown activation ${quote(name)}; run 'puzzlelib info' for the list`);
  }
  return name;
}

/**
 * A parameter for legends and `puzzlelib info`, in the fewest digits that give back its float32
 * value (3.4028235e+38 for FLT_MAX, 0.16666667 for 1/6): short to read, while the kernels use the
 * value itself (a float32 and what rounding it lost).
 */
export function formatParam(value: number): string {
  const target = Math.fround(value);
  for (let digits = 1; digits < 9; digits++) {
    const text = Number(value.toPrecision(digits));
    if (Math.fround(text) === target) return String(text);
  }
  return String(target);
}

/**
 * The parameters that differ from their defaults, as `alpha=0.2, ...` ("" when all are default):
 * legends then name only what the user chose, and `puzzlelib info` lists the defaults.
 */
export function describeArgs(name: ActivationName, args: readonly number[]): string {
  return ACTIVATIONS[name].params
    .flatMap((param, i) =>
      args[i] === param.default ? [] : [`${param.name}=${formatParam(args[i]!)}`],
    )
    .join(", ");
}

/** An Activation; bad --args (count, range) become a usage error. */
export function makeActivation(
  name: ActivationName,
  args: readonly number[] | undefined,
  options: { slc?: Slice; inplace?: boolean } = {},
): Activation {
  try {
    return new Activation(name, { ...options, ...(args === undefined ? {} : { args }) });
  } catch (error) {
    if (error instanceof ModuleError) {
      throw new UsageError(`${error.message}; fix --args`);
    }
    throw error;
  }
}

/** "activations: sigmoid, tanh, ..." from the table, wrapped at 100 columns, for help texts. */
export function activationList(): string {
  const lines = ["activations:"];
  for (const name of ACTIVATION_NAMES) {
    const last = lines.length - 1;
    const added = `${lines[last]} ${name}${name === ACTIVATION_NAMES.at(-1) ? "" : ","}`;
    if (added.length > 100) lines.push(`  ${name},`);
    else lines[last] = added;
  }
  return lines.join("\n").replace(/,$/, "");
}

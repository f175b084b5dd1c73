// Activation names and --args from the command line, checked against the activation table, with
// usage errors that list what is allowed.

import { ModuleError } from "../core/errors.js";
import type { Slice } from "../core/slice.js";
import { Activation } from "../modules/activation.js";
import { ACTIVATIONS, isActivationName, type ActivationName } from "../ops/activations.js";
import { UsageError } from "./errors.js";

export function checkActivation(name: string): ActivationName {
  if (!isActivationName(name)) {
    throw new UsageError(
      `unknown activation ${JSON.stringify(name)}; run 'puzzlelib info' for the list`,
    );
  }
  return name;
}

/** The parameters as `alpha=0.2, ...` (or "" for none), for messages and legends. */
export function describeArgs(name: ActivationName, args: readonly number[]): string {
  return ACTIVATIONS[name].params.map((param, i) => `${param.name}=${args[i]}`).join(", ");
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

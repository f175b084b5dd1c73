import {
  ACTIVATION_NAMES,
  ACTIVATIONS,
  atDefaults,
  backwardFrom,
  type ActivationName,
} from "./activations.js";
import { input, param, type F, type Kernel } from "./ir.js";

export type Direction = "forward" | "backward";

const cache = new Map<string, Kernel>();

/**
 * The kernel for one activation and direction, for calls with these args. Parameters stay
 * symbolic (read at run time), so a backend compiles one kernel per activation, direction and
 * dtype whatever the arguments, with two exceptions the args decide:
 * - backward reads the incoming gradient g and the forward output y, or the forward input x for
 *   functions whose backwardFrom says so for these args;
 * - a function with an `atDefaults` form runs it when the args are all the defaults.
 * The default args are the params' defaults. The kernel's parameters are kernelParams(args).
 */
export function activationKernel(
  name: ActivationName,
  direction: Direction,
  args: readonly number[] = [],
): Kernel {
  const spec = ACTIVATIONS[name];
  const full = spec.params.map((p, i) => args[i] ?? p.default);
  const from = backwardFrom(spec, full);
  const cheap = spec.atDefaults !== undefined && atDefaults(spec, full) ? spec.atDefaults : null;
  const variant = `${cheap === null ? "" : ".defaults"}${direction === "backward" && from === "x" ? "-x" : ""}`;
  // An alias (swish) shares its entry's kernels: the id names the first entry with that spec.
  const canonical = ACTIVATION_NAMES.find((other) => ACTIVATIONS[other] === spec) ?? name;
  const id = `${canonical}.${direction}${variant}`;
  let kernel = cache.get(id);
  if (kernel === undefined) {
    const count = kernelParams(name, full).length / 2;
    const params = Array.from({ length: count }, (_, i) => param(i));
    const residuals = Array.from({ length: count }, (_, i) => param(count + i));
    const paramCount = 2 * count;
    const v = input(from);
    const g = input("g");
    let body: F;
    if (direction === "forward") {
      body =
        cheap === null ? spec.forward(input("x"), params, residuals) : cheap.forward(input("x"));
    } else body = cheap === null ? spec.backward(v, g, params, residuals) : cheap.backward(v, g);
    kernel =
      direction === "forward"
        ? { id, inputs: ["x"], paramCount, body }
        : { id, inputs: ["g", from], paramCount, body };
    cache.set(id, kernel);
  }
  return kernel;
}

/**
 * What a kernel of `name` reads for these (full) args: each arg, then each value the spec derives
 * from them, as a float32 (uniforms are float32 on every backend, and clip's bounds must equal its
 * clipped outputs bit for bit); then what that rounding lost, so that formulas can be exact where
 * the lost part matters.
 */
export function kernelParams(name: ActivationName, args: readonly number[]): number[] {
  const values = [...args, ...(ACTIVATIONS[name].derive?.(args) ?? [])];
  const rounded = values.map(Math.fround);
  return [...rounded, ...values.map((value, i) => Math.fround(value - rounded[i]!))];
}

import { ACTIVATIONS, type ActivationName, type BackwardFrom } from "./activations.js";
import { input, param, type Kernel } from "./ir.js";

export type Direction = "forward" | "backward";

const cache = new Map<string, Kernel>();

/**
 * The kernel for one activation and direction. Parameters stay symbolic (read at run time), so a
 * backend compiles one kernel per activation, direction and dtype, whatever the arguments.
 * Forward reads x; backward reads the incoming gradient g and the forward output y, or the
 * forward input x for functions that declare backwardFrom "x" (`from` chooses, for a function
 * where that depends on the args; by default the one it declares, or y).
 */
export function activationKernel(
  name: ActivationName,
  direction: Direction,
  from: BackwardFrom = staticFrom(name),
): Kernel {
  const id =
    direction === "forward" || from === "y" ? `${name}.${direction}` : `${name}.backward-x`;
  let kernel = cache.get(id);
  if (kernel === undefined) {
    const spec = ACTIVATIONS[name];
    const params = spec.params.map((_, i) => param(i));
    kernel =
      direction === "forward"
        ? { id, inputs: ["x"], paramCount: params.length, body: spec.forward(input("x"), params) }
        : {
            id,
            inputs: ["g", from],
            paramCount: params.length,
            body: spec.backward(input(from), input("g"), params),
          };
    cache.set(id, kernel);
  }
  return kernel;
}

function staticFrom(name: ActivationName): BackwardFrom {
  const from = ACTIVATIONS[name].backwardFrom;
  return typeof from === "function" ? "y" : from;
}

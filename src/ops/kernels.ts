import { ACTIVATIONS, type ActivationName } from "./activations.js";
import { input, param, type Kernel } from "./ir.js";

export type Direction = "forward" | "backward";

const cache = new Map<string, Kernel>();

/**
 * The kernel for one activation and direction. Parameters stay symbolic (read at run time), so a
 * backend compiles one kernel per activation, direction and dtype, whatever the arguments.
 * Forward reads x; backward reads the incoming gradient g and the forward output y.
 */
export function activationKernel(name: ActivationName, direction: Direction): Kernel {
  const id = `${name}.${direction}`;
  let kernel = cache.get(id);
  if (kernel === undefined) {
    const spec = ACTIVATIONS[name];
    const params = spec.params.map((_, i) => param(i));
    kernel =
      direction === "forward"
        ? { id, inputs: ["x"], paramCount: params.length, body: spec.forward(input("x"), params) }
        : {
            id,
            inputs: ["g", "y"],
            paramCount: params.length,
            body: spec.backward(input("y"), input("g"), params),
          };
    cache.set(id, kernel);
  }
  return kernel;
}

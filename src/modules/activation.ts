import type { DType } from "../core/dtype.js";
import { ModuleError } from "../core/errors.js";
import type { Shape } from "../core/shape.js";
import { checkSlice, normalizeSlice, type Slice } from "../core/slice.js";
import type { GPUArray } from "../backends/gpuarray.js";
import {
  ACTIVATION_NAMES,
  ACTIVATIONS,
  isActivationName,
  type ActivationName,
} from "../ops/activations.js";
import { runElementwise } from "../ops/elementwise.js";
import { activationKernel } from "../ops/kernels.js";
import { Blueprint } from "./blueprint.js";
import { Module, type Json } from "./module.js";

/** The activation names as constants: ActivationType.sigmoid === "sigmoid", and so on. */
export const ActivationType = Object.freeze(
  Object.fromEntries(ACTIVATION_NAMES.map((name) => [name, name])) as {
    readonly [N in ActivationName]: N;
  },
);

export interface ActivationOptions {
  /** Activate only these elements of the flattened tensor; the others pass through unchanged. */
  slc?: Slice | null;
  /** Overwrite the input in forward and the incoming gradient in backward. Default false. */
  inplace?: boolean;
  name?: string | null;
  /** The function's parameters; when given, they replace all the defaults. */
  args?: readonly number[];
}

const OPTION_NAMES = ["slc", "inplace", "name", "args"];

/**
 * Applies an activation function elementwise, as PuzzleLib's Activation.
 *
 * Forward y = f(x); backward computes the input gradient from the output y and the incoming
 * gradient g (so in place is safe). Functions and their parameters (defaults in brackets):
 * sigmoid, tanh, relu, leakyRelu(alpha [0.01]), elu(alpha [1]), softPlus, clip(min [0], max [6]).
 *
 * @example
 * const act = new Activation("leakyRelu", { args: [0.2], slc: slice(0, null, 2) });
 * const y = act.forward(gpuarray.toGpu(np.array([-1, 2, -3, 4], "float32")));
 * String(await y.get()); // "[-0.2  2.  -0.6  4. ]"
 */
export class Activation extends Module {
  readonly activation: ActivationName;
  readonly slc: Slice | null;
  readonly inplace: boolean;
  /** The parameters in effect: the given args, or the defaults. */
  readonly args: readonly number[];

  constructor(activation: ActivationName, options: ActivationOptions = {}) {
    checkOptions(options);
    super(options.name ?? null);
    if (!isActivationName(activation)) {
      throw new ModuleError(
        `unknown activation ${JSON.stringify(activation)}; allowed: ${ACTIVATION_NAMES.join(", ")}`,
      );
    }
    if (options.inplace !== undefined && typeof options.inplace !== "boolean") {
      throw new ModuleError(`inplace must be true or false, got ${String(options.inplace)}`);
    }
    this.activation = activation;
    this.slc = options.slc == null ? null : checkSlice(options.slc);
    this.inplace = options.inplace ?? false;
    this.args = Object.freeze(resolveArgs(activation, options.args));
  }

  get classname(): string {
    return "Activation";
  }

  get supportedDtypes(): readonly DType[] {
    return ["float32", "float16"];
  }

  dataShapeFrom(shape: Shape): Shape {
    return shape;
  }

  gradShapeFrom(shape: Shape): Shape {
    return shape;
  }

  protected updateData(data: GPUArray): void {
    this.data = runElementwise({
      kernel: activationKernel(this.activation, "forward"),
      inputs: [data],
      params: this.args,
      slice: normalizeSlice(this.slc, data.size),
      inplace: this.inplace,
    });
  }

  protected updateGrad(grad: GPUArray): void {
    this.grad = runElementwise({
      kernel: activationKernel(this.activation, "backward"),
      inputs: [grad, this.data!],
      params: this.args,
      slice: normalizeSlice(this.slc, grad.size),
      inplace: this.inplace,
    });
  }

  protected scheme(): { [key: string]: Json } {
    const slc =
      this.slc === null
        ? null
        : { start: this.slc.start, stop: this.slc.stop, step: this.slc.step };
    return {
      activation: this.activation,
      slc,
      inplace: this.inplace,
      name: this.name,
      args: [...this.args],
    };
  }
}

function checkOptions(options: unknown): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ModuleError("Activation options must be an object {slc, inplace, name, args}");
  }
  const unknown = Object.keys(options).filter((key) => !OPTION_NAMES.includes(key));
  if (unknown.length > 0) {
    throw new ModuleError(
      `unknown Activation option ${unknown.join(", ")}; allowed: ${OPTION_NAMES.join(", ")}`,
    );
  }
}

function resolveArgs(activation: ActivationName, args: readonly number[] | undefined): number[] {
  const spec = ACTIVATIONS[activation];
  const expected = spec.params.map((p) => `${p.name} [${p.default}]`).join(", ") || "none";
  if (args === undefined || (Array.isArray(args) && args.length === 0)) {
    return spec.params.map((p) => p.default);
  }
  if (!Array.isArray(args) || args.length !== spec.params.length) {
    throw new ModuleError(
      `${activation} takes ${spec.params.length} args (${expected}), got ${Array.isArray(args) ? args.length : String(args)}`,
    );
  }
  // Args are used as float32 values: 1e39 is finite but not as a float32.
  const bad = args.find((a) => typeof a !== "number" || !Number.isFinite(Math.fround(a)));
  if (bad !== undefined)
    throw new ModuleError(`${activation} args must be finite float32 numbers, got ${String(bad)}`);
  const problem = spec.validate?.(args);
  if (problem) throw new ModuleError(problem);
  return [...args];
}

Blueprint.register("Activation", (scheme) => {
  const { activation, ...options } = scheme;
  return new Activation(activation as ActivationName, options as ActivationOptions);
});

import { describeName, describeValue, quote } from "../core/describe.js";
import type { DType } from "../core/dtype.js";
import { ModuleError } from "../core/errors.js";
import type { Shape } from "../core/shape.js";
import { checkSlice, normalizeSlice, type Slice } from "../core/slice.js";
import { runElementwise } from "../backends/elementwise.js";
import type { GPUArray } from "../backends/gpuarray.js";
import {
  ACTIVATION_NAMES,
  ACTIVATIONS,
  backwardFrom,
  isActivationName,
  type ActivationName,
  type BackwardFrom,
} from "../ops/activations.js";
import type { Kernel } from "../ops/ir.js";
import { activationKernel, kernelParams } from "../ops/kernels.js";
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
 * Forward y = f(x); backward computes the input gradient from the incoming gradient g and the
 * output y (so in place is safe), or, for the functions whose derivative is not a function of y,
 * the input x (`backwardFrom === "x"`; the module keeps x, and in place throws ModuleError).
 * Functions and their parameters (defaults in brackets):
 * - from y: sigmoid, tanh, relu, leakyRelu(alpha [0.01]), elu(alpha [1]),
 *   softPlus(beta [1], threshold [3.4e38]; no args is PuzzleLib's, [beta] alone is allowed),
 *   clip(min [0], max [6]), selu, celu(alpha [1]), softSign, hardSigmoid(alpha [1/6], beta [0.5]),
 *   hardTanh(min [-1], max [1]), relu6, logSigmoid, softShrink(lambda [0.5]),
 *   hardShrink(lambda [0.5]), threshold(threshold [0], value [0]; from x when value > threshold);
 * - from x: hardSwish, silu(beta [1]), swish (silu's alias), tanhShrink, gelu (exact),
 *   geluTanh (the tanh approximation), mish.
 * Formulas and derivatives: the README's "Activations" table, or ACTIVATIONS[name].
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
  /** The parameters in effect: the given args, the defaults for the others. */
  readonly args: readonly number[];
  /** What backward reads besides the gradient: the output y, or the input x (kept as inData). */
  readonly backwardFrom: BackwardFrom;
  /** Chosen once, from the args, so that a call does no lookup. */
  private readonly forwardKernel: Kernel;
  private readonly backwardKernel: Kernel;
  private readonly kernelParams: readonly number[];

  constructor(activation: ActivationName, options: ActivationOptions = {}) {
    checkOptions(options);
    super(options.name ?? null);
    if (!isActivationName(activation)) {
      throw new ModuleError(
        `unknown activation ${describeName(activation)}; allowed: ${ACTIVATION_NAMES.join(", ")}`,
      );
    }
    if (options.inplace !== undefined && typeof options.inplace !== "boolean") {
      throw new ModuleError(`inplace must be true or false, got ${describeValue(options.inplace)}`);
    }
    this.activation = activation;
    this.slc = options.slc == null ? null : checkSlice(options.slc);
    this.inplace = options.inplace ?? false;
    this.args = Object.freeze(resolveArgs(activation, options.args));
    this.backwardFrom = backwardFrom(ACTIVATIONS[activation], this.args);
    if (this.inplace && this.backwardFrom === "x") {
      throw new ModuleError(
        `${activation}${this.args.length > 0 ? `(${this.args.join(", ")})` : ""} cannot run in place: ` +
          `its backward reads the input x (the derivative is not a function of the output), ` +
          `which an in-place forward overwrites`,
      );
    }
    this.forwardKernel = activationKernel(activation, "forward", this.args);
    this.backwardKernel = activationKernel(activation, "backward", this.args);
    this.kernelParams = Object.freeze(kernelParams(activation, this.args));
  }

  get classname(): string {
    return "Activation";
  }

  protected override get label(): string {
    const name = this.name === null ? "" : ` "${this.name}"`;
    return `Activation(${this.activation})${name}`;
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
      kernel: this.forwardKernel,
      inputs: [data],
      params: this.kernelParams,
      slice: normalizeSlice(this.slc, data.size),
      output: this.inplace ? "inplace" : this.outputSlot("data"),
    });
  }

  protected updateGrad(grad: GPUArray): void {
    const kept = this.backwardFrom === "x" ? this.inData! : this.data!;
    if (kept.disposed) {
      throw new ModuleError(
        `use of a disposed array: the input of forward was disposed, and ${this.activation}'s backward reads it`,
      );
    }
    this.grad = runElementwise({
      kernel: this.backwardKernel,
      inputs: [grad, kept],
      params: this.kernelParams,
      slice: normalizeSlice(this.slc, grad.size),
      output: this.inplace ? "inplace" : this.outputSlot("grad"),
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
      `unknown Activation option ${quote(unknown.join(", "))}; allowed: ${OPTION_NAMES.join(", ")}`,
    );
  }
}

/**
 * The args in effect: none given means every default; otherwise all of them, or (for a function
 * with minArgs) at least minArgs, the later ones keeping their defaults.
 */
function resolveArgs(activation: ActivationName, args: readonly number[] | undefined): number[] {
  const spec = ACTIVATIONS[activation];
  const defaults = spec.params.map((p) => p.default);
  const expected = spec.params.map((p) => `${p.name} [${p.default}]`).join(", ") || "none";
  if (args === undefined || (Array.isArray(args) && args.length === 0)) return defaults;
  const fewest = spec.minArgs ?? spec.params.length;
  const count = fewest === spec.params.length ? `${fewest}` : `${fewest} to ${spec.params.length}`;
  if (!Array.isArray(args) || args.length < fewest || args.length > spec.params.length) {
    throw new ModuleError(
      `${activation} takes ${count} args (${expected}), got ${Array.isArray(args) ? args.length : describeValue(args)}`,
    );
  }
  // Args are used as float32 values: 1e39 is finite but not as a float32.
  const bad = args.find((a) => typeof a !== "number" || !Number.isFinite(Math.fround(a)));
  if (bad !== undefined)
    throw new ModuleError(
      `${activation} args must be finite float32 numbers, got ${describeValue(bad)}`,
    );
  const full = [...args, ...defaults.slice(args.length)];
  const problem = spec.validate?.(full);
  if (problem) throw new ModuleError(problem);
  return full;
}

Blueprint.register("Activation", (scheme) => {
  const { activation, ...options } = scheme;
  return new Activation(activation as ActivationName, options as ActivationOptions);
});

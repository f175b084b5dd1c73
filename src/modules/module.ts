import { describeName, describeValue, quote } from "../core/describe.js";
import type { DType } from "../core/dtype.js";
import { ModuleError } from "../core/errors.js";
import { formatShape, sameShape, type Shape } from "../core/shape.js";
import { assertNotStale, GPUArray } from "../backends/gpuarray.js";
import { OutputSlot } from "../backends/output-slot.js";

/** A JSON value, for blueprint schemes. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** What getBlueprint() returns: enough to rebuild the module with Blueprint.build. */
export interface BlueprintData {
  classname: string;
  scheme: { [key: string]: Json };
}

export interface BackwardOptions {
  /** Accumulate parameter gradients (modules with parameters, in train mode). Default true. */
  updParamGrads?: boolean;
  /** Compute the gradient with respect to the input into `this.grad`. Default true. */
  updGrad?: boolean;
  /** Scale applied to accumulated parameter gradients. Default 1. */
  scale?: number;
  /** Momentum applied to accumulated parameter gradients. Default 0. */
  momentum?: number;
}

/**
 * The base of every module, as PuzzleLib's Module: forward(data) checks the input, calls
 * updateData and returns this.data; backward(grad) checks the gradient, calls updateGrad and
 * leaves the input gradient in this.grad. A call that throws leaves the module as it was.
 *
 * The module owns `data` and `grad`: its next forward (or backward) writes into the same memory
 * and makes the handle it returned before stale (its use throws a BackendError). `keep(output)`
 * or `output.copy()` keeps an output past that call.
 */
export abstract class Module {
  name: string | null;
  inData: GPUArray | null = null;
  data: GPUArray | null = null;
  grad: GPUArray | null = null;
  train = true;
  calctype: DType = "float32";
  private slots: { data: OutputSlot; grad: OutputSlot } | null = null;

  constructor(name: string | null = null) {
    if (name !== null && typeof name !== "string") {
      throw new ModuleError(`name must be a string or null, got ${typeof name}`);
    }
    this.name = name;
  }

  /** The class name written in blueprints and printed by toString. */
  abstract get classname(): string;
  /** The dtypes calcMode accepts. */
  abstract get supportedDtypes(): readonly DType[];
  /** The constructor arguments, JSON-safe, for getBlueprint. */
  protected abstract scheme(): { [key: string]: Json };
  protected abstract updateData(data: GPUArray): void;
  protected abstract updateGrad(grad: GPUArray): void;
  abstract dataShapeFrom(shape: Shape): Shape;
  abstract gradShapeFrom(shape: Shape): Shape;

  /** The output, of the input's dtype (which must be the calctype). */
  forward<D extends DType>(data: GPUArray<D>): GPUArray<D> {
    this.checkArray(data, "data");
    if (data.dtype !== this.calctype) throw this.dtypeError(data.dtype);
    this.updateData(data);
    this.inData = data;
    return this.data as GPUArray<D>;
  }

  /**
   * `this.grad`, as PuzzleLib returns it: the input gradient, of the gradient's dtype. With
   * `updGrad: false` it is whatever an earlier call left (null if none), so only then do the
   * types say it may be null.
   */
  backward<D extends DType>(
    grad: GPUArray<D>,
    options?: BackwardOptions & { updGrad?: true },
  ): GPUArray<D>;
  backward<D extends DType>(grad: GPUArray<D>, options: BackwardOptions): GPUArray<D> | null;
  backward<D extends DType>(grad: GPUArray<D>, options: BackwardOptions = {}): GPUArray<D> | null {
    const {
      updParamGrads = true,
      updGrad = true,
      scale = 1,
      momentum = 0,
    } = checkBackwardOptions(options);
    const output = this.data;
    if (output === null) throw new ModuleError(`${this.classname}.backward called before forward`);
    if (output.disposed)
      throw new ModuleError(`use of a disposed array: the output of forward was disposed`);
    this.checkArray(grad, "grad");
    if (!sameShape(grad.shape, output.shape) || grad.dtype !== output.dtype) {
      throw new ModuleError(
        `grad must have the output's shape ${formatShape(output.shape)} and dtype ${output.dtype}, ` +
          `got ${formatShape(grad.shape)} ${grad.dtype}`,
      );
    }
    if (grad.backend !== output.backend) {
      throw new ModuleError(
        `grad is on backend ${grad.backend.name}, the output on ${output.backend.name}`,
      );
    }
    if (updGrad) this.updateGrad(grad);
    if (updParamGrads && this.train) this.accGradParams(grad, scale, momentum);
    return this.grad as GPUArray<D> | null;
  }

  /** Parameter gradients; modules without parameters have nothing to do. */
  protected accGradParams(_grad: GPUArray, _scale: number, _momentum: number): void {}

  calcMode(dtype: DType): void {
    if (!this.supportedDtypes.includes(dtype)) {
      throw new ModuleError(
        `${this.classname} does not support dtype ${describeName(dtype)}; supported: ${this.supportedDtypes.join(", ")}`,
      );
    }
    this.calctype = dtype;
  }

  /** Data of another dtype: the advice names a call that works (calcMode only where it would). */
  private dtypeError(dtype: DType): ModuleError {
    const advice = this.supportedDtypes.includes(dtype)
      ? `convert the data or call calcMode("${dtype}")`
      : `${this.classname} computes in ${this.supportedDtypes.join(" or ")}; convert the data, ` +
        `e.g. gpuarray.toGpu(host.astype("${this.calctype}"))`;
    return new ModuleError(
      `${this.classname} expects data of dtype ${this.calctype} (its calctype), got ${dtype}; ${advice}`,
    );
  }

  trainMode(): void {
    this.train = true;
  }

  evalMode(): void {
    this.train = false;
  }

  /**
   * Where forward (`"data"`) or backward (`"grad"`) writes its output: the memory of the last
   * one, which the module owns and reuses, so that repeated calls allocate nothing.
   */
  protected outputSlot(which: "data" | "grad"): OutputSlot {
    this.slots ??= {
      data: new OutputSlot(`the output of ${this.label}.forward`),
      grad: new OutputSlot(`the gradient of ${this.label}.backward`),
    };
    return this.slots[which];
  }

  /** How stale outputs name the module in their error. */
  protected get label(): string {
    return this.name === null ? this.classname : `${this.classname} "${this.name}"`;
  }

  /**
   * Drops the references to the last input, output and gradient. The last output and gradient
   * become the caller's (the module no longer reuses them): freed by dispose() or once dropped.
   */
  reset(): void {
    this.slots?.data.handOver();
    this.slots?.grad.handOver();
    this.inData = null;
    this.data = null;
    this.grad = null;
  }

  getBlueprint(): BlueprintData {
    return { classname: this.classname, scheme: this.scheme() };
  }

  numOfParams(): number {
    return 0;
  }

  /** The parameters' size in bytes. */
  paramSize(): number {
    return 0;
  }

  toString(): string {
    return `Module ${this.classname} (name: ${this.name})`;
  }

  private checkArray(array: GPUArray, what: string): void {
    if (!(array instanceof GPUArray)) {
      throw new ModuleError(
        `${what} must be a GPUArray (see gpuarray.toGpu), got ${describeValue(array)}`,
      );
    }
    assertNotStale(array);
    if (array.disposed) throw new ModuleError(`use of a disposed array: ${what} was disposed`);
  }
}

const BACKWARD_FLAGS = ["updParamGrads", "updGrad"] as const;
const BACKWARD_NUMBERS = ["scale", "momentum"] as const;

function checkBackwardOptions(options: unknown): BackwardOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ModuleError(
      `backward options must be an object {updParamGrads, updGrad, scale, momentum}, got ${describeValue(options)}`,
    );
  }
  const given = options as Record<string, unknown>;
  const known: readonly string[] = [...BACKWARD_FLAGS, ...BACKWARD_NUMBERS];
  const unknown = Object.keys(given).find((key) => !known.includes(key));
  if (unknown !== undefined) {
    throw new ModuleError(
      `unknown backward option ${quote(unknown)}; allowed: ${known.join(", ")}`,
    );
  }
  for (const key of BACKWARD_FLAGS) {
    if (given[key] !== undefined && typeof given[key] !== "boolean") {
      throw new ModuleError(
        `backward option ${key} must be true or false, got ${describeValue(given[key])}`,
      );
    }
  }
  for (const key of BACKWARD_NUMBERS) {
    if (given[key] !== undefined && !Number.isFinite(given[key])) {
      throw new ModuleError(
        `backward option ${key} must be a finite number, got ${describeValue(given[key])}`,
      );
    }
  }
  return given as BackwardOptions;
}

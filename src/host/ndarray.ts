import {
  allocateTyped,
  checkDType,
  type AnyTypedArray,
  type DType,
  type TypedArrayOf,
} from "../core/dtype.js";
import { describeValue } from "../core/describe.js";
import { BackendError } from "../core/errors.js";
import { INSPECT } from "../core/inspect.js";
import { formatShape, sizeOf, type Shape } from "../core/shape.js";
import { halfToNumber, numberToHalf } from "./float16.js";
import { formatArray, formatRepr } from "./format.js";

export type NestedArray = number | NestedArray[];

/**
 * A host array like numpy's ndarray: a flat typed array in C order, a shape and a dtype.
 * float16 data are raw IEEE half bits in a Uint16Array. `String(array)` prints what numpy prints.
 * The type follows the dtype: an `NDArray<"float32">` has `Float32Array` data.
 *
 * The constructor wraps `data` without copying it (writes to either show in the other), as
 * `np.asarray` does; `np.array` copies.
 */
export class NDArray<D extends DType = DType> {
  readonly data: TypedArrayOf<D>;
  readonly shape: readonly number[];
  readonly dtype: D;

  constructor(data: TypedArrayOf<D>, shape: Shape, dtype: D) {
    checkDType(dtype);
    if (sizeOf(shape) !== data.length) {
      throw new BackendError(`shape ${formatShape(shape)} does not match ${data.length} elements`);
    }
    if (data.constructor !== allocateTyped(dtype, 0).constructor) {
      throw new BackendError(`${dtype} data must be a ${allocateTyped(dtype, 0).constructor.name}`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
  }

  get size(): number {
    return this.data.length;
  }

  get ndim(): number {
    return this.shape.length;
  }

  /** Element i of the flattened array, as a number (float16 decoded). */
  item(index: number): number {
    const raw = Number.isInteger(index) ? this.data[index] : undefined;
    if (raw === undefined) {
      throw new BackendError(
        `index ${describeValue(index)} is not an element of the flattened array of size ${this.size}`,
      );
    }
    return this.dtype === "float16" ? halfToNumber(raw) : raw;
  }

  /** A copy converted to `dtype` with numpy's casting (float to int32 truncates toward zero). */
  astype<E extends DType>(dtype: E): NDArray<E> {
    checkDType(dtype);
    const target = allocateTyped(dtype, this.size);
    for (let i = 0; i < this.size; i++) writeNumber(target, dtype, i, this.item(i));
    return new NDArray(target, this.shape, dtype);
  }

  /** A view with a new shape of the same size; one dimension may be -1 (inferred). */
  reshape(shape: Shape | number): NDArray<D> {
    const dims = typeof shape === "number" ? [shape] : shape;
    if (!Array.isArray(dims)) {
      throw new BackendError(
        `reshape takes a shape (an array of dimensions, one may be -1), got ${describeValue(shape)}`,
      );
    }
    return new NDArray(this.data, inferShape(dims, this.size), this.dtype);
  }

  /** The values as nested JavaScript arrays (a plain number for a 0-d array). */
  toArray(): NestedArray {
    const build = (axis: number, offset: number): NestedArray => {
      if (axis === this.shape.length) return this.item(offset);
      const dim = this.shape[axis]!;
      const stride = this.shape.slice(axis + 1).reduce((a, b) => a * b, 1);
      return Array.from({ length: dim }, (_, i) => build(axis + 1, offset + i * stride));
    };
    return build(0, 0);
  }

  /** What numpy's str() prints. */
  toString(): string {
    return formatArray(this.numbers(), this.shape, this.dtype);
  }

  /** What console.log prints in Node: numpy's repr(), e.g. `array([1., 2.], dtype=float32)`. */
  [INSPECT](): string {
    return formatRepr(this.numbers(), this.shape, this.dtype);
  }

  private numbers(): ArrayLike<number> {
    return this.dtype === "float16" ? Array.from(this.data, halfToNumber) : this.data;
  }
}

/** A typed array of `size` elements of `dtype`, each `value` cast as numpy casts it. */
export function filledTyped<D extends DType>(
  dtype: D,
  size: number,
  value: number,
): TypedArrayOf<D> {
  const data = allocateTyped(dtype, size);
  if (size > 0) {
    writeNumber(data, dtype, 0, value);
    data.fill(data[0]!);
  }
  return data;
}

/** What a dtype-less call makes from plain numbers: int32 if all are integers that fit. */
export type InferredDType = "int32" | "float64";

/** The dtype numbers get without one: int32 when all are integers that fit, else float64. */
export function inferDType(values: ArrayLike<number>): InferredDType {
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (!Number.isInteger(value) || Math.abs(value) >= 2 ** 31) return "float64";
  }
  return "int32";
}

/** Stores a number into a typed array of `dtype`, with numpy's conversion rules. */
export function writeNumber(
  target: AnyTypedArray,
  dtype: DType,
  index: number,
  value: number,
): void {
  switch (dtype) {
    case "float16":
      target[index] = numberToHalf(value);
      return;
    case "int32":
      // numpy (on x86) turns NaN and out-of-range floats into INT32_MIN; JS would wrap modulo 2^32.
      target[index] =
        Number.isFinite(value) && Math.abs(value) < 2 ** 31 ? Math.trunc(value) : -(2 ** 31);
      return;
    case "float32":
    case "float64":
      target[index] = value;
      return;
    default:
      dtype satisfies never;
  }
}

export function inferShape(shape: Shape, size: number): number[] {
  const unknown = shape.filter((dim) => dim === -1).length;
  if (unknown > 1) throw new BackendError("can only specify one unknown dimension (-1)");
  const known = sizeOf(shape.filter((dim) => dim !== -1));
  const resolved = shape.map((dim) => (dim === -1 ? (known === 0 ? 0 : size / known) : dim));
  if (!resolved.every(Number.isInteger) || sizeOf(resolved) !== size) {
    throw new BackendError(`cannot reshape array of size ${size} into shape ${formatShape(shape)}`);
  }
  return resolved;
}

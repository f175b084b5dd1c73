import { allocateTyped, checkDType, type AnyTypedArray, type DType } from "../core/dtype.js";
import { describeValue } from "../core/describe.js";
import { BackendError } from "../core/errors.js";
import { formatShape, sizeOf, type Shape } from "../core/shape.js";
import { halfToNumber, numberToHalf } from "./float16.js";
import { formatArray } from "./format.js";

export type NestedArray = number | NestedArray[];

/**
 * A host array like numpy's ndarray: a flat typed array in C order, a shape and a dtype.
 * float16 data are raw IEEE half bits in a Uint16Array. `String(array)` prints what numpy prints.
 */
export class NDArray {
  readonly data: AnyTypedArray;
  readonly shape: readonly number[];
  readonly dtype: DType;

  constructor(data: AnyTypedArray, shape: Shape, dtype: DType) {
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
  astype(dtype: DType): NDArray {
    checkDType(dtype);
    const target = allocateTyped(dtype, this.size);
    for (let i = 0; i < this.size; i++) writeNumber(target, dtype, i, this.item(i));
    return new NDArray(target, this.shape, dtype);
  }

  /** A view with a new shape of the same size; one dimension may be -1 (inferred). */
  reshape(shape: Shape | number): NDArray {
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

  toString(): string {
    const values = this.dtype === "float16" ? Array.from(this.data, halfToNumber) : this.data;
    return formatArray(values, this.shape, this.dtype);
  }
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

function inferShape(shape: Shape, size: number): number[] {
  const unknown = shape.filter((dim) => dim === -1).length;
  if (unknown > 1) throw new BackendError("can only specify one unknown dimension (-1)");
  const known = sizeOf(shape.filter((dim) => dim !== -1));
  const resolved = shape.map((dim) => (dim === -1 ? (known === 0 ? 0 : size / known) : dim));
  if (!resolved.every(Number.isInteger) || sizeOf(resolved) !== size) {
    throw new BackendError(`cannot reshape array of size ${size} into shape ${formatShape(shape)}`);
  }
  return resolved;
}

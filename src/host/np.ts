import { allocateTyped, checkDType, type AnyTypedArray, type DType } from "../core/dtype.js";
import { describeValue } from "../core/describe.js";
import { BackendError } from "../core/errors.js";
import { MAX_DIMS, sizeOf, toShape, type Shape } from "../core/shape.js";
import { NDArray, writeNumber, type NestedArray } from "./ndarray.js";
import { RandomState } from "./random.js";

type ArrayInput = NestedArray | AnyTypedArray | readonly number[];

const TYPED_DTYPES = new Map<unknown, DType>([
  [Float32Array, "float32"],
  [Float64Array, "float64"],
  [Int32Array, "int32"],
]);

/**
 * A host array from nested number arrays or a typed array, as np.array. Without a dtype: a typed
 * array keeps its own (Float32Array is float32, ...), and numbers give int32 when all are
 * integers that fit, else float64 (numpy would say int64). A Uint16Array with dtype "float16" is
 * taken as raw half bits, the layout of a float16 NDArray's `data`. The data are copied.
 */
function array(values: ArrayInput, dtype?: DType): NDArray {
  if (dtype !== undefined) checkDType(dtype);
  if (ArrayBuffer.isView(values)) {
    if (
      values instanceof BigInt64Array ||
      values instanceof BigUint64Array ||
      values instanceof DataView
    ) {
      throw new BackendError(
        `np.array takes typed arrays of numbers, got a ${values.constructor.name}; ` +
          `convert it first, e.g. Float64Array.from(values, Number)`,
      );
    }
    const typed = values as AnyTypedArray;
    if (dtype === "float16" && typed instanceof Uint16Array) {
      return new NDArray(typed.slice(), [typed.length], "float16");
    }
    return fromFlat(
      Array.from(typed),
      [typed.length],
      dtype ?? TYPED_DTYPES.get(typed.constructor),
    );
  }
  const shape = leadingShape(values as NestedArray);
  const flat: number[] = [];
  flatten(values as NestedArray, shape, 0, flat);
  return fromFlat(flat, shape, dtype);
}

/**
 * The shape read down the first elements; flatten() then checks every branch against it. Past
 * MAX_DIMS levels it stops: a deeper nesting is refused before flatten() could recurse into it.
 */
function leadingShape(value: NestedArray): number[] {
  const shape: number[] = [];
  for (let level: NestedArray | undefined = value; Array.isArray(level); level = level[0]) {
    if (shape.length === MAX_DIMS) {
      throw new BackendError(
        `np.array: the nested arrays are more than ${MAX_DIMS} levels deep (numpy's limit)`,
      );
    }
    shape.push(level.length);
  }
  return shape;
}

function flatten(
  value: NestedArray,
  shape: readonly number[],
  depth: number,
  flat: number[],
): void {
  if (depth === shape.length) {
    if (typeof value !== "number") {
      throw new BackendError(
        `np.array expects numbers or nested arrays of numbers, got ${describeValue(value)}`,
      );
    }
    flat.push(value);
    return;
  }
  if (!Array.isArray(value) || value.length !== shape[depth]) {
    throw new BackendError(
      "np.array: nested arrays are ragged (every row must have the same length)",
    );
  }
  for (const item of value) flatten(item, shape, depth + 1, flat);
}

function fromFlat(flat: readonly number[], shape: number[], dtype?: DType): NDArray {
  const chosen =
    dtype ??
    (flat.every((v) => Number.isInteger(v) && Math.abs(v) < 2 ** 31) ? "int32" : "float64");
  const data = allocateTyped(chosen, flat.length);
  flat.forEach((value, i) => writeNumber(data, chosen, i, value));
  return new NDArray(data, shape, chosen);
}

/** An array of zeros (float64 by default, as numpy). */
function zeros(shape: Shape | number, dtype: DType = "float64"): NDArray {
  const dims = toShape(shape);
  return new NDArray(allocateTyped(checkDType(dtype), sizeOf(dims)), dims, dtype);
}

/** As np.empty; the contents are zeros here, since typed arrays always start cleared. */
function empty(shape: Shape | number, dtype: DType = "float64"): NDArray {
  return zeros(shape, dtype);
}

const state = new RandomState();

/** numpy's legacy global RandomState (np.random.*), bit for bit. */
const random = {
  seed(seed: number): void {
    state.seed(seed);
  },
  /** Integers in [low, high), int32 when they fit (numpy returns int64). */
  randint(low: number, high: number, shape: Shape | number = []): NDArray {
    const dims = toShape(shape);
    const values = state.randint(low, high, sizeOf(dims));
    return values instanceof Int32Array
      ? new NDArray(values, dims, "int32")
      : new NDArray(values, dims, "float64");
  },
  /** Standard normal samples, float64. */
  randn(...shape: number[]): NDArray {
    return new NDArray(state.standardNormal(sizeOf(toShape(shape))), shape, "float64");
  },
  /** Uniform samples in [0, 1), float64. */
  rand(...shape: number[]): NDArray {
    return new NDArray(state.randomSample(sizeOf(toShape(shape))), shape, "float64");
  },
  RandomState,
};

export const np = { array, zeros, empty, random, NDArray };

import {
  allocateTyped,
  checkDType,
  isDType,
  type AnyTypedArray,
  type DType,
} from "../core/dtype.js";
import { describeValue } from "../core/describe.js";
import { BackendError } from "../core/errors.js";
import { MAX_DIMS, sizeOf, toShape, type Shape } from "../core/shape.js";
import {
  filledTyped,
  inferDType,
  NDArray,
  writeNumber,
  type InferredDType,
  type NestedArray,
} from "./ndarray.js";
import { arange, linspace } from "./np-ranges.js";
import { RandomState } from "./random.js";

type ArrayInput = NestedArray | AnyTypedArray | readonly number[];
/** Typed arrays np.array and np.asarray take: any of numbers (not BigInt, not DataView). */
type NumberArray = Exclude<ArrayBufferView, BigInt64Array | BigUint64Array | DataView>;

const TYPED_DTYPES = new Map<unknown, DType>([
  [Float32Array, "float32"],
  [Float64Array, "float64"],
  [Int32Array, "int32"],
]);

/**
 * A host array from nested number arrays or a typed array, as np.array. Without a dtype: a typed
 * array keeps its own (Float32Array is float32, ...), and numbers give int32 when all are
 * integers that fit, else float64 (numpy would say int64). A Uint16Array with dtype "float16" is
 * taken as raw half bits, the layout of a float16 NDArray's `data`. The data are copied (at
 * memory speed for a typed array); np.asarray wraps a typed array without a copy.
 */
function array(values: Float32Array): NDArray<"float32">;
function array(values: Float64Array): NDArray<"float64">;
function array(values: Int32Array): NDArray<"int32">;
function array<D extends DType>(values: ArrayInput | NumberArray, dtype: D): NDArray<D>;
function array(values: ArrayInput | NumberArray): NDArray<InferredDType>;
function array(values: ArrayInput | NumberArray, dtype?: DType): NDArray {
  if (dtype !== undefined) checkDType(dtype);
  if (ArrayBuffer.isView(values)) return fromTyped(checkTyped(values), dtype, true);
  const shape = leadingShape(values as NestedArray);
  const flat: number[] = [];
  flatten(values as NestedArray, shape, 0, flat);
  return fromFlat(flat, shape, dtype);
}

/**
 * As np.asarray: an NDArray of the asked dtype is returned as it is, and a typed array whose
 * element type is the dtype's (Float32Array for float32, Uint16Array of half bits for float16,
 * ...) is wrapped without a copy, so that writes to either show in the other. Anything else is
 * converted, as np.array does.
 */
function asarray<D extends DType>(values: NDArray<D>): NDArray<D>;
function asarray(values: Float32Array): NDArray<"float32">;
function asarray(values: Float64Array): NDArray<"float64">;
function asarray(values: Int32Array): NDArray<"int32">;
function asarray<D extends DType>(values: NDArray | ArrayInput | NumberArray, dtype: D): NDArray<D>;
function asarray(values: ArrayInput | NumberArray): NDArray<InferredDType>;
function asarray(values: NDArray | ArrayInput | NumberArray, dtype?: DType): NDArray {
  if (dtype !== undefined) checkDType(dtype);
  if (values instanceof NDArray) {
    return dtype === undefined || dtype === values.dtype ? values : values.astype(dtype);
  }
  if (ArrayBuffer.isView(values)) return fromTyped(checkTyped(values), dtype, false);
  return dtype === undefined ? array(values) : array(values, dtype);
}

function checkTyped(values: ArrayBufferView): NumberArray {
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
  return values as NumberArray;
}

/**
 * A 1-d array of a typed array's values. Where the element types match (the typed array's own
 * dtype, or half bits for float16), the data are sliced (copy) or wrapped (no copy); a float
 * target converts with TypedArray.set, which rounds as assignment does; int32 and float16
 * targets convert element by element with numpy's rules.
 */
function fromTyped(values: NumberArray, dtype: DType | undefined, copy: boolean): NDArray {
  const typed = values as unknown as ArrayLike<number> & { slice(): AnyTypedArray };
  const own = TYPED_DTYPES.get(values.constructor);
  const chosen = dtype ?? own ?? inferDType(typed);
  const shape = [typed.length];
  if (chosen === own || (chosen === "float16" && values instanceof Uint16Array)) {
    return new NDArray(copy ? typed.slice() : (values as AnyTypedArray), shape, chosen);
  }
  const target = allocateTyped(chosen, typed.length);
  if (chosen === "float32" || chosen === "float64") {
    (target as Float32Array | Float64Array).set(typed);
  } else {
    for (let i = 0; i < typed.length; i++) writeNumber(target, chosen, i, typed[i]!);
  }
  return new NDArray(target, shape, chosen);
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
  const chosen = dtype ?? inferDType(flat);
  const data = allocateTyped(chosen, flat.length);
  flat.forEach((value, i) => writeNumber(data, chosen, i, value));
  return new NDArray(data, shape, chosen);
}

/** An array of zeros (float64 by default, as numpy). */
function zeros<D extends DType = "float64">(
  shape: Shape | number,
  dtype: D = "float64" as D,
): NDArray<D> {
  const dims = toShape(shape);
  checkDType(dtype);
  return new NDArray(allocateTyped(dtype, sizeOf(dims)), dims, dtype);
}

/** As np.empty; the contents are zeros here, since typed arrays always start cleared. */
function empty<D extends DType = "float64">(
  shape: Shape | number,
  dtype: D = "float64" as D,
): NDArray<D> {
  return zeros(shape, dtype);
}

/** An array of ones (float64 by default, as numpy). */
function ones<D extends DType = "float64">(
  shape: Shape | number,
  dtype: D = "float64" as D,
): NDArray<D> {
  return full(shape, 1, dtype);
}

/**
 * An array filled with `fillValue`, cast to `dtype` as numpy casts (int32 truncates). Without a
 * dtype, an integer that fits int32 gives int32 (numpy: int64), any other number float64.
 */
function full<D extends DType>(shape: Shape | number, fillValue: number, dtype: D): NDArray<D>;
function full(shape: Shape | number, fillValue: number): NDArray<InferredDType>;
function full(shape: Shape | number, fillValue: number, dtype?: DType): NDArray {
  const dims = toShape(shape);
  checkFill(fillValue, "np.full");
  const chosen = dtype === undefined ? inferDType([fillValue]) : checkDType(dtype);
  return new NDArray(filledTyped(chosen, sizeOf(dims), fillValue), dims, chosen);
}

function checkFill(value: unknown, caller: string): void {
  if (typeof value !== "number") {
    throw new BackendError(
      `${caller}: the fill value must be a number, got ${describeValue(value)}`,
    );
  }
}

/** What the *Like functions take the shape and dtype of: an NDArray or a GPUArray. */
export interface ArrayLikeShape<D extends DType = DType> {
  readonly shape: readonly number[];
  readonly dtype: D;
}

function likeOf(like: unknown, caller: string): ArrayLikeShape {
  const given = like as Partial<ArrayLikeShape> | null;
  if (
    typeof given !== "object" ||
    given === null ||
    !Array.isArray(given.shape) ||
    !isDType(given.dtype)
  ) {
    throw new BackendError(
      `${caller} expects an array (NDArray or GPUArray), got ${describeValue(like)}`,
    );
  }
  return given as ArrayLikeShape;
}

/** Zeros of `like`'s shape and dtype (or `dtype`), as np.zeros_like. */
function zerosLike<D extends DType>(like: ArrayLikeShape<D>): NDArray<D>;
function zerosLike<D extends DType>(like: ArrayLikeShape, dtype: D): NDArray<D>;
function zerosLike(like: ArrayLikeShape, dtype?: DType): NDArray {
  const { shape, dtype: own } = likeOf(like, "np.zerosLike");
  return zeros(shape, dtype ?? own);
}

/** As np.empty_like: zeros here, as np.empty. */
function emptyLike<D extends DType>(like: ArrayLikeShape<D>): NDArray<D>;
function emptyLike<D extends DType>(like: ArrayLikeShape, dtype: D): NDArray<D>;
function emptyLike(like: ArrayLikeShape, dtype?: DType): NDArray {
  const { shape, dtype: own } = likeOf(like, "np.emptyLike");
  return zeros(shape, dtype ?? own);
}

/** Ones of `like`'s shape and dtype (or `dtype`), as np.ones_like. */
function onesLike<D extends DType>(like: ArrayLikeShape<D>): NDArray<D>;
function onesLike<D extends DType>(like: ArrayLikeShape, dtype: D): NDArray<D>;
function onesLike(like: ArrayLikeShape, dtype?: DType): NDArray {
  const { shape, dtype: own } = likeOf(like, "np.onesLike");
  return full(shape, 1, dtype ?? own);
}

/** `fillValue` in `like`'s shape and dtype (or `dtype`), cast as np.full_like casts. */
function fullLike<D extends DType>(like: ArrayLikeShape<D>, fillValue: number): NDArray<D>;
function fullLike<D extends DType>(like: ArrayLikeShape, fillValue: number, dtype: D): NDArray<D>;
function fullLike(like: ArrayLikeShape, fillValue: number, dtype?: DType): NDArray {
  const { shape, dtype: own } = likeOf(like, "np.fullLike");
  return full(shape, fillValue, dtype ?? own);
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

export const np = {
  array,
  asarray,
  zeros,
  empty,
  ones,
  full,
  zerosLike,
  emptyLike,
  onesLike,
  fullLike,
  arange,
  linspace,
  random,
  NDArray,
};

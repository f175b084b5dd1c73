import { describeName } from "./describe.js";
import { BackendError } from "./errors.js";

/** The element types puzzlelib-ts stores. float16 is kept as raw IEEE half bits. */
export type DType = "float32" | "float64" | "float16" | "int32";

export const DTYPES: readonly DType[] = ["float32", "float64", "float16", "int32"];

export type TypedArrayOf<D extends DType> = {
  float32: Float32Array;
  float64: Float64Array;
  float16: Uint16Array;
  int32: Int32Array;
}[D];

export type AnyTypedArray = Float32Array | Float64Array | Uint16Array | Int32Array;

const BYTES_PER_ELEMENT: Record<DType, number> = { float32: 4, float64: 8, float16: 2, int32: 4 };

export function isDType(value: unknown): value is DType {
  return typeof value === "string" && (DTYPES as readonly string[]).includes(value);
}

/** The dtype itself, or a BackendError naming the dtypes there are. */
export function checkDType(value: unknown): DType {
  if (!isDType(value)) {
    throw new BackendError(`unsupported dtype ${describeName(value)}; use ${DTYPES.join(", ")}`);
  }
  return value;
}

export function itemSize(dtype: DType): number {
  return BYTES_PER_ELEMENT[dtype];
}

/** A zeroed typed array; a size the engine cannot allocate is a BackendError, not a RangeError. */
export function allocateTyped<D extends DType>(dtype: D, size: number): TypedArrayOf<D> {
  try {
    return newTyped(dtype, size) as TypedArrayOf<D>;
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    throw new BackendError(
      `cannot allocate ${size} ${dtype} elements (${size * itemSize(dtype)} bytes) on the host: ` +
        `${error.message}`,
    );
  }
}

function newTyped(dtype: DType, size: number): AnyTypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(size);
    case "float64":
      return new Float64Array(size);
    case "float16":
      return new Uint16Array(size);
    case "int32":
      return new Int32Array(size);
    default:
      return dtype satisfies never;
  }
}

/** A typed array of `dtype` over `length` elements of `bytes` from `byteOffset` (no copy). */
export function typedView<D extends DType>(
  dtype: D,
  bytes: ArrayBufferLike,
  byteOffset: number,
  length: number,
): TypedArrayOf<D> {
  return viewOf(dtype, bytes, byteOffset, length) as TypedArrayOf<D>;
}

function viewOf(
  dtype: DType,
  bytes: ArrayBufferLike,
  offset: number,
  length: number,
): AnyTypedArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(bytes, offset, length);
    case "float64":
      return new Float64Array(bytes, offset, length);
    case "float16":
      return new Uint16Array(bytes, offset, length);
    case "int32":
      return new Int32Array(bytes, offset, length);
    default:
      return dtype satisfies never;
  }
}

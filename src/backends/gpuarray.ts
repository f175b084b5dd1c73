import { allocateTyped, checkDType, itemSize, type DType } from "../core/dtype.js";
import { BackendError } from "../core/errors.js";
import { formatShape, sizeOf, type Shape } from "../core/shape.js";
import { NDArray } from "../host/ndarray.js";
import type { Backend, DeviceBuffer } from "./backend.js";
import { currentBackend } from "./registry.js";

// Returns the buffer of an array that was dropped without dispose() to its backend's pool, so a
// loop that never disposes (a module's outputs, say) does not grow device memory without bound.
const collector = new FinalizationRegistry<{ backend: Backend; buffer: DeviceBuffer }>(
  ({ backend, buffer }) => backend.release(buffer),
);

/**
 * A tensor in a backend's memory, as PuzzleLib's GPUArray: shape, dtype and a buffer, no math.
 * Read it back with `await array.get()`; free its memory with `dispose()`.
 */
export class GPUArray {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  readonly backend: Backend;
  private storage: DeviceBuffer | null;

  /** @internal Arrays are made by gpuarray.toGpu, empty and zeros, and by modules. */
  constructor(backend: Backend, buffer: DeviceBuffer, shape: Shape) {
    this.backend = backend;
    this.storage = buffer;
    this.shape = Object.freeze([...shape]);
    this.dtype = buffer.dtype;
    this.size = buffer.size;
    collector.register(this, { backend, buffer }, this);
  }

  get nbytes(): number {
    return this.size * itemSize(this.dtype);
  }

  get disposed(): boolean {
    return this.storage === null;
  }

  /** @internal The backend buffer; throws if the array was disposed. */
  get buffer(): DeviceBuffer {
    if (this.storage === null) {
      throw new BackendError(
        `use of a disposed array (shape ${formatShape(this.shape)}, ${this.dtype})`,
      );
    }
    return this.storage;
  }

  /** A host copy of the contents, after all work queued on the array has finished. */
  async get(): Promise<NDArray> {
    const data = await this.backend.download(this.buffer);
    return new NDArray(data, this.shape, this.dtype);
  }

  /** Frees the backend memory. Later use of the array throws; disposing twice is harmless. */
  dispose(): void {
    if (this.storage === null) return;
    collector.unregister(this);
    this.backend.release(this.storage);
    this.storage = null;
  }

  toString(): string {
    const state = this.disposed ? ", disposed" : "";
    return `GPUArray(shape=${formatShape(this.shape)}, dtype=${this.dtype}, backend=${this.backend.name}${state})`;
  }
}

/** Copies a host array to the current backend (PuzzleLib's gpuarray.to_gpu). */
function toGpu(array: NDArray): GPUArray {
  if (!(array instanceof NDArray)) {
    throw new BackendError("gpuarray.toGpu expects an NDArray (make one with np.array)");
  }
  const backend = currentBackend();
  const buffer = backend.allocate(array.dtype, array.size);
  backend.upload(buffer, array.data);
  return new GPUArray(backend, buffer, array.shape);
}

/** An array on the current backend with unspecified contents. */
function empty(shape: Shape, dtype: DType = "float32"): GPUArray {
  const size = sizeOf(shape);
  const backend = currentBackend();
  return new GPUArray(backend, backend.allocate(checkDType(dtype), size), shape);
}

/** An array of zeros on the current backend. */
function zeros(shape: Shape, dtype: DType = "float32"): GPUArray {
  const array = empty(shape, dtype);
  array.backend.upload(array.buffer, allocateTyped(array.dtype, array.size));
  return array;
}

export const gpuarray = { toGpu, empty, zeros, GPUArray };

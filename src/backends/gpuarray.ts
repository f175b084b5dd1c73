import { allocateTyped, checkDType, itemSize, type DType } from "../core/dtype.js";
import { describeValue } from "../core/describe.js";
import { BackendError } from "../core/errors.js";
import { formatShape, sizeOf, toShape, type Shape } from "../core/shape.js";
import { NDArray } from "../host/ndarray.js";
import type { Backend, DeviceBuffer } from "./backend.js";
import {
  collectWhenDropped,
  trackInScope,
  untrackFromScope,
  type Handle,
  type Storage,
} from "./lifetime.js";
import { currentBackend } from "./registry.js";

/**
 * A tensor in a backend's memory, as PuzzleLib's GPUArray: shape, dtype and a buffer, no math.
 * Read it back with `await array.get()`; free its memory with `dispose()`.
 *
 * A module's output is owned by the module: its next call of the same direction reuses the
 * memory, and this handle then becomes stale (any use throws a BackendError). `keep(array)` or
 * `array.copy()` makes an output the caller's for good.
 */
export class GPUArray implements Handle {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  readonly backend: Backend;
  /** @internal */
  readonly storage: Storage;
  /** @internal The storage version this handle was made for. */
  readonly version: number;

  /** @internal Arrays are made by gpuarray.toGpu, empty, zeros and copy, and by modules. */
  constructor(storage: Storage, shape: Shape) {
    const buffer = storage.buffer!;
    this.backend = storage.backend;
    this.storage = storage;
    this.version = storage.version;
    // A module's output shares its input's shape, which is frozen already.
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
    this.dtype = buffer.dtype;
    this.size = buffer.size;
  }

  get nbytes(): number {
    return this.size * itemSize(this.dtype);
  }

  /** True once dispose() freed the memory (a stale handle is not disposed: see `stale`). */
  get disposed(): boolean {
    return !this.stale && this.storage.buffer === null;
  }

  /** True once the module that made this output has reused its memory for a later call. */
  get stale(): boolean {
    return this.version !== this.storage.version;
  }

  /** @internal The backend buffer; throws if the array is stale or was disposed. */
  get buffer(): DeviceBuffer {
    const buffer = this.storage.buffer;
    if (this.stale) throw staleError(this);
    if (buffer === null) {
      throw new BackendError(
        `use of a disposed array (shape ${formatShape(this.shape)}, ${this.dtype})`,
      );
    }
    return buffer;
  }

  /** A host copy of the contents, after all work queued on the array has finished. */
  async get(): Promise<NDArray> {
    const data = await this.backend.download(this.buffer);
    return new NDArray(data, this.shape, this.dtype);
  }

  /** A new array of the caller's own, on the same backend, with the same contents. */
  copy(): GPUArray {
    const source = this.buffer;
    const array = userArray(this.backend, this.backend.allocate(this.dtype, this.size), this.shape);
    this.backend.copy(array.buffer, source);
    return array;
  }

  /**
   * Frees the backend memory. Later use of the array throws; disposing twice, or disposing a
   * stale output (whose memory the module holds), does nothing.
   */
  dispose(): void {
    const buffer = this.storage.buffer;
    if (buffer === null || this.stale) return;
    this.storage.buffer = null;
    this.backend.release(buffer);
  }

  toString(): string {
    const state = this.stale ? ", stale" : this.disposed ? ", disposed" : "";
    return `GPUArray(shape=${formatShape(this.shape)}, dtype=${this.dtype}, backend=${this.backend.name}${state})`;
  }
}

function staleError(array: GPUArray): BackendError {
  return new BackendError(
    `use of a stale array (shape ${formatShape(array.shape)}, ${array.dtype}): it was ` +
      `${array.storage.madeBy}, and a later call of that module has reused its memory. ` +
      `A module's output stays valid until the module's next call of the same direction; ` +
      `to keep one longer, call keep(output) or output.copy() before that call`,
  );
}

/** @internal Throws the stale-array BackendError if a module has reused the array's memory. */
export function assertNotStale(array: GPUArray): void {
  if (array.stale) throw staleError(array);
}

/**
 * @internal An array the caller owns: freed by dispose(), by the tidy() scope it was made in,
 * or by the garbage collector once dropped.
 */
export function userArray(backend: Backend, buffer: DeviceBuffer, shape: Shape): GPUArray {
  const storage: Storage = { backend, buffer, version: 0, moduleOwned: false, madeBy: "" };
  const array = new GPUArray(storage, shape);
  collectWhenDropped(array);
  trackInScope(array);
  return array;
}

/**
 * Makes `array` the caller's for good: a module's output is no longer reused by the module's
 * next call (the module allocates a new one), and an array made inside tidy() outlives the
 * scope. The garbage collector, or dispose(), still frees it. Returns the array.
 */
export function keep<T extends GPUArray>(array: T): T {
  if (!(array instanceof GPUArray)) {
    throw new BackendError("keep expects a GPUArray");
  }
  if (array.stale) throw staleError(array);
  untrackFromScope(array);
  if (array.storage.moduleOwned) {
    array.storage.moduleOwned = false;
    collectWhenDropped(array);
  }
  return array;
}

/** Copies a host array to the current backend (PuzzleLib's gpuarray.to_gpu). */
function toGpu(array: NDArray): GPUArray {
  if (!(array instanceof NDArray)) {
    throw new BackendError(
      `gpuarray.toGpu expects an NDArray (make one with np.array), got ${describeValue(array)}`,
    );
  }
  const backend = currentBackend();
  const buffer = backend.allocate(array.dtype, array.size);
  backend.upload(buffer, array.data);
  return userArray(backend, buffer, array.shape);
}

/** An array on the current backend with unspecified contents. */
function empty(shape: Shape | number, dtype: DType = "float32"): GPUArray {
  const dims = toShape(shape);
  const size = sizeOf(dims);
  const backend = currentBackend();
  return userArray(backend, backend.allocate(checkDType(dtype), size), dims);
}

/** An array of zeros on the current backend. */
function zeros(shape: Shape | number, dtype: DType = "float32"): GPUArray {
  const array = empty(shape, dtype);
  array.backend.upload(array.buffer, allocateTyped(array.dtype, array.size));
  return array;
}

export const gpuarray = { toGpu, empty, zeros, GPUArray };

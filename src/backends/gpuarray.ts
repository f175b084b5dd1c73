import { allocateTyped, checkDType, itemSize, type DType } from "../core/dtype.js";
import { BackendError } from "../core/errors.js";
import { formatShape, sizeOf, type Shape } from "../core/shape.js";
import { NDArray } from "../host/ndarray.js";
import type { Backend, DeviceBuffer } from "./backend.js";
import { currentBackend } from "./registry.js";

/** What the garbage collector needs to free an array's memory; buffer is null once freed. */
interface Storage {
  readonly backend: Backend;
  buffer: DeviceBuffer | null;
}

// Returns the buffer of an array that was dropped without dispose() to its backend's pool, so a
// loop that never disposes (a module's outputs, say) does not grow device memory without bound.
// Registered without an unregister token: dispose() marks the storage freed instead. Keeping a
// token per array made each dropped array cost ~15 us in V8 (its token table grows until a full
// GC); without one, registering costs ~0.3 us.
const collector = new FinalizationRegistry<Storage>((storage) => {
  if (storage.buffer !== null) storage.backend.release(storage.buffer);
  storage.buffer = null;
});

// Registration itself is deferred to the next macrotask, when arrays disposed by then (a training
// step's temporaries, most outputs of a loop that disposes) need none: registering costs ~0.7 us
// with the garbage collection of its weak cell, as much as the rest of a small kernel call. The
// delay loses nothing: finalization callbacks only run between macrotasks anyway.
let pendingArrays: object[] = [];
let pendingStorage: Storage[] = [];
const nextMacrotask: (callback: () => void) => void =
  globalThis.setImmediate ?? ((callback) => setTimeout(callback, 0));

function registerPending(): void {
  const arrays = pendingArrays;
  const storage = pendingStorage;
  pendingArrays = [];
  pendingStorage = [];
  storage.forEach((s, i) => {
    if (s.buffer !== null) collector.register(arrays[i]!, s);
  });
}

/** Past this many, a loop that never yields registers them at once rather than hold them all. */
const MAX_PENDING = 1024;

function registerLater(array: object, storage: Storage): void {
  if (pendingArrays.length === 0) nextMacrotask(registerPending);
  else if (pendingArrays.length >= MAX_PENDING) registerPending();
  pendingArrays.push(array);
  pendingStorage.push(storage);
}

/**
 * A tensor in a backend's memory, as PuzzleLib's GPUArray: shape, dtype and a buffer, no math.
 * Read it back with `await array.get()`; free its memory with `dispose()`.
 */
export class GPUArray {
  readonly shape: readonly number[];
  readonly dtype: DType;
  readonly size: number;
  readonly backend: Backend;
  private readonly storage: Storage;

  /** @internal Arrays are made by gpuarray.toGpu, empty and zeros, and by modules. */
  constructor(backend: Backend, buffer: DeviceBuffer, shape: Shape) {
    this.backend = backend;
    this.storage = { backend, buffer };
    // A module's output shares its input's shape, which is frozen already.
    this.shape = Object.isFrozen(shape) ? shape : Object.freeze([...shape]);
    this.dtype = buffer.dtype;
    this.size = buffer.size;
    registerLater(this, this.storage);
  }

  get nbytes(): number {
    return this.size * itemSize(this.dtype);
  }

  get disposed(): boolean {
    return this.storage.buffer === null;
  }

  /** @internal The backend buffer; throws if the array was disposed. */
  get buffer(): DeviceBuffer {
    const buffer = this.storage.buffer;
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

  /** Frees the backend memory. Later use of the array throws; disposing twice is harmless. */
  dispose(): void {
    const buffer = this.storage.buffer;
    if (buffer === null) return;
    this.storage.buffer = null;
    this.backend.release(buffer);
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
